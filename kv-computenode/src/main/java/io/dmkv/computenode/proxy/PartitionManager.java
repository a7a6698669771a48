package io.dmkv.computenode.proxy;

import java.util.Map;
import java.util.TreeMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.cluster.PeriodicStep;
import io.dmkv.core.cluster.LeaderElection;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.PartitionMap;

/**
 * The partition manager of a FlexKV cluster: the compute node elected to the role (an election
 * of compute nodes only, with its own epoch) keeps the partition map's owners as the {@link PartitionAssignment} decides from the
 * live proxy-enabled compute nodes, and ends the hand-overs of proxies that died: a partition
 * whose previous owner's session is gone is marked done, after its replicas were settled when it
 * goes back to one-sided mode (a proxy taking it settles them as it loads). Its writes carry the
 * leader epoch, so a deposed leader's late write is refused.
 */
public final class PartitionManager implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(PartitionManager.class);

    private final CoordinatedCluster cluster;
    private final ProxyIndex index;
    private final PartitionAssignment policy;
    private final PeriodicStep timer;
    private final LeaderElection election;

    public PartitionManager(final CoordinatedCluster cluster, final ProxyIndex index, final PartitionAssignment policy,
        final long periodMs)
    {
        this.election = cluster.coordinator().partitionManagerElection(cluster.memberName());
        this.cluster = cluster;
        this.index = index;
        this.policy = policy;
        this.timer = new PeriodicStep("partition-manager", periodMs, this::step);
    }

    /** Runs one step now (tests, and after a pin). */
    public void kick()
    {
        timer.kick();
    }

    private void step()
    {
        if (!election.isLeader())
        {
            return;
        }
        final LeaderElection.Token token = election.token();
        final Map<String, String> proxies = new TreeMap<>();
        for (final MemberInfo m : cluster.coordinator().members().alive(MemberInfo.Kind.COMPUTE_NODE))
        {
            if (!m.endpoint().isEmpty())
            {
                proxies.put(m.name(), m.endpoint());
            }
        }
        final PartitionMap before = cluster.partitions();
        final PartitionMap after = PartitionMapUpdate.apply(cluster.coordinator().maps(), token, current ->
        {
            PartitionMap next = policy.assign(current, proxies);
            for (int p = 0; p < next.partitions(); p++)
            {
                final String from = next.from(p);
                if (!next.settled(p) && !PartitionMap.NONE.equals(from) && !proxies.containsKey(from))
                {
                    if (PartitionMap.NONE.equals(next.owner(p)))
                    {
                        index.settleOnly(p);
                    }
                    next = next.withSettled(p);
                }
            }
            return next.withoutUnusedEndpoints();
        });
        if (!after.equals(before))
        {
            LOG.info("partition map: {} proxies {}", proxies.size(), after);
        }
    }

    @Override
    public void close()
    {
        timer.close();
        election.close();
    }
}
