package io.dmkv.computenode.proxy;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.concurrent.NanoClock;

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
    private final NanoClock clock;
    private final long hotnessPeriodNs;
    private final LongAdder moves = new LongAdder();
    private long periodStart;
    private long periods;
    private boolean periodDue;

    /**
     * @param periodMs        how often it looks at the members and the map.
     * @param hotnessPeriodNs how often a period of hotness ends (the policy may rebalance by hotness then).
     */
    public PartitionManager(final CoordinatedCluster cluster, final ProxyIndex index, final PartitionAssignment policy,
        final long periodMs, final long hotnessPeriodNs, final NanoClock clock)
    {
        this.election = cluster.coordinator().partitionManagerElection(cluster.memberName());
        this.cluster = cluster;
        this.index = index;
        this.policy = policy;
        this.clock = clock;
        this.hotnessPeriodNs = hotnessPeriodNs;
        this.periodStart = clock.nanoTime();
        this.timer = new PeriodicStep("partition-manager", periodMs, this::step);
    }

    /** Runs one step now (tests, and after a pin). */
    public void kick()
    {
        timer.kick();
    }

    /**
     * Ends a hotness period now and runs a step on the caller's thread (tests drive periods with
     * it): the policy may rebalance by the hotness the compute nodes last published.
     *
     * @return true if this node leads and took the step.
     */
    public synchronized boolean endPeriod()
    {
        periodDue = true;
        step();
        return election.isLeader();
    }

    /** True while this node is the partition manager. */
    public boolean isLeader()
    {
        return election.isLeader();
    }

    /** Partitions whose owner this manager changed (hand-overs it started), by any rule. */
    public long moves()
    {
        return moves.sum();
    }

    private synchronized void step()
    {
        if (!election.isLeader())
        {
            return;
        }
        final long now = clock.nanoTime();
        if (now - periodStart >= hotnessPeriodNs)
        {
            periodDue = true;
        }
        final boolean periodEnded = periodDue;
        if (periodEnded)
        {
            periodDue = false;
            periodStart = now;
            periods++;
        }
        final long period = periods;
        final LeaderElection.Token token = election.token();
        final Map<String, String> proxies = new TreeMap<>();
        final PartitionMap known = cluster.partitions();
        final double[] hotness = new double[known.partitions()];
        for (final MemberInfo m : cluster.coordinator().members().alive(MemberInfo.Kind.COMPUTE_NODE))
        {
            if (!m.endpoint().isEmpty())
            {
                proxies.put(m.name(), m.endpoint());
            }
            if (m.hotness().size() == hotness.length)
            {
                for (int p = 0; p < hotness.length; p++)
                {
                    hotness[p] += m.hotness().get(p);
                }
            }
        }
        final PartitionMap before = cluster.partitions();
        final PartitionMap[] read = new PartitionMap[1];
        final PartitionMap after = PartitionMapUpdate.apply(cluster.coordinator().maps(), token, current ->
        {
            read[0] = current;
            PartitionMap next = policy.assign(current, proxies, hotness, period, periodEnded);
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
        for (int p = 0; p < after.partitions(); p++)
        {
            if (!after.owner(p).equals(read[0].owner(p)))
            {
                moves.increment();
            }
        }
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
