package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.cluster.PeriodicStep;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.StaleMapException;
import io.dmkv.core.cluster.VersionedMap;

/**
 * Coordinated mode: fails over memory nodes whose coordinator session expired. Every period the
 * live client with the lowest id (as {@link RecoveryAgent}: one per cluster, no extra election;
 * the memory nodes that also stand for leader hold no verbs client to repair with) lists the
 * layout's memory nodes that are not alive. A node dead for {@code settle} (one map lease, so no
 * client still routes by a map it confirmed while the node lived) and still named by a region
 * that has another replica is repaired ({@link MemoryNodeFailover}) and the map without it is
 * published. The publication is a compare-and-set on the map's znode version: of two repairers
 * that read one map, one publishes and the other re-reads. Memory nodes then re-key the regions
 * whose replica list changed, which fences every client still routing by the old map.
 */
public final class FailoverAgent implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(FailoverAgent.class);

    /** What a fail-over published, for tests and status. */
    public record Published(MemoryNodeFailover.Report report, long epoch)
    {
    }

    private final CoordinatedCluster cluster;
    private final MemoryNodeFailover failover;
    private final DeadMembers deaths;
    private final PeriodicStep timer;
    private volatile Published last;

    public FailoverAgent(final CoordinatedCluster cluster, final MemoryNodeFailover failover, final Duration period,
        final Duration settle, final NanoClock clock)
    {
        this.cluster = cluster;
        this.failover = failover;
        this.deaths = new DeadMembers(clock, settle.toNanos());
        this.timer = new PeriodicStep("failover-" + cluster.clientId(), period.toMillis(), period.toMillis(),
            this::check);
    }

    /** One check: fails over every memory node dead for long enough, if this client is the one that repairs. */
    public synchronized void check()
    {
        try
        {
            if (!DeadMembers.actsFor(cluster))
            {
                return;
            }
            final Set<Integer> dead = cluster.deadMemoryNodes();
            final List<Integer> settled = deaths.deadLongEnough(dead);
            VersionedMap current = cluster.readRegionMap();
            // The payload's own epoch may lag the map's (the first map is published at epoch 1).
            RegionMap map = RegionMap.fromBytes(current.payload()).withEpoch(current.epoch());
            final RegionMap read = map;
            if (map.anySealed() && settled.stream().anyMatch(n -> removable(read, n)))
            {
                // A copier died (or stalls) with regions sealed, and the nodes refuse writes to sealed
                // replicas, the repair's too: lift the seals first, repair next period.
                cluster.publishRegionMap(current, map.withoutSeals());
                LOG.info("client {} lifted the seals of a copy before failing over memory nodes {}",
                    cluster.clientId(), settled);
                return;
            }
            for (final int n : settled)
            {
                if (!removable(map, n))
                {
                    continue;
                }
                LOG.info("client {} fails over memory node {} ({}), whose coordinator session expired",
                    cluster.clientId(), n, cluster.memoryNodeName(n));
                final MemoryNodeFailover.Report report = failover.repair(map, n, dead);
                current = cluster.publishRegionMap(current, report.next());
                map = report.next();
                last = new Published(report, current.epoch());
                if (!report.lostRegions().isEmpty())
                {
                    LOG.error("regions {} lost every replica (memory nodes {} are dead): their data is gone; clients"
                        + " touching them get RegionLostException", report.lostRegions(), dead);
                }
            }
        }
        catch (final StaleMapException e)
        {
            LOG.info("the region map changed during a fail-over (another repairer published first); checked again"
                + " next period");
        }
        catch (final RuntimeException e)
        {
            LOG.warn("failing over memory nodes failed (tried again in a period): {}", e.toString());
        }
    }

    /** The last fail-over this agent published, or null. */
    public Published last()
    {
        return last;
    }

    /** True if some region lists {@code node} and has another replica to promote or keep. */
    public static boolean removable(final RegionMap map, final int node)
    {
        for (final int g : map.regionsOn(node))
        {
            if (map.replicaCount(g) > 1)
            {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close()
    {
        timer.close();
    }
}
