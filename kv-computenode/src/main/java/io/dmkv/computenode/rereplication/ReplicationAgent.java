package io.dmkv.computenode.rereplication;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.cluster.PeriodicStep;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.computenode.recovery.BlockTableScan;
import io.dmkv.computenode.recovery.DeadMembers;
import io.dmkv.computenode.recovery.FailoverAgent;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.StaleMapException;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;

/**
 * Coordinated mode: keeps every region at r replicas and the memory nodes balanced
 * (docs/recovery.md, "Re-replication"). Every period the live client with the lowest id (the
 * same rule as the fail-over: one per cluster, no extra election) does, once no dead node awaits
 * its fail-over:
 * <ol>
 * <li><b>admits</b> memory nodes that registered with the coordinator and are not in the layout
 * (a replacement, a node added for capacity, a node restarted under its old name: a new
 * incarnation is a new node): each is appended to the layout, and the region map grows to name it;</li>
 * <li>drops joining replicas whose node died;</li>
 * <li>restarts the copies a copier left unfinished (a region with a joining replica), or else
 * runs the next {@link ReplicaPlanner} plan through a {@link ReplicaCopier};</li>
 * <li>when nothing is left to move and fewer than 1 block in {@value #GROW_BELOW_FREE_SHARE} is
 * free, adds the global regions the free room fits, moving replicas first if the room is on fewer
 * than r nodes ({@link ReplicaPlanner#newRegions}, {@link RegionCreator}): capacity.</li>
 * </ol>
 * Every map is published by a compare-and-set on the map's version: a repairer that lost the race
 * (a fail-over published meanwhile) stops and plans again next period.
 */
public final class ReplicationAgent implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationAgent.class);
    /** Regions are added for capacity when fewer than 1 block in this many is free. */
    static final int GROW_BELOW_FREE_SHARE = 8;

    private final CoordinatedCluster cluster;
    private final ClusterView view;
    private final VerbsClient client;
    private final ReplicaCopier copier;
    private final RegionCreator creator;
    private final PeriodicStep timer;
    private volatile ReplicaCopier.Report last;
    private final List<ReplicaCopier.Report> done = new ArrayList<>();

    /**
     * @param grace how long writes stay held after the fence before the last pass (frees already
     *              decided land meanwhile): {@code dmkv.recoveryGrace}.
     */
    public ReplicationAgent(final CoordinatedCluster cluster, final ClusterView view, final VerbsClient client,
        final Duration period, final Duration grace)
    {
        this.cluster = cluster;
        this.view = view;
        this.client = client;
        this.copier = new ReplicaCopier(client, grace, cluster.mapLease().multipliedBy(3));
        this.creator = new RegionCreator(client, view.descriptor().regionSize(), view.descriptor().blockSize());
        this.timer = new PeriodicStep("replication-" + cluster.clientId(), period.toMillis(), period.toMillis(),
            this::check);
    }

    /** One check: admits new nodes, then copies what the plan says, if this client is the one that acts. */
    public synchronized void check()
    {
        try
        {
            if (!DeadMembers.actsFor(cluster))
            {
                return;
            }
            VersionedMap current = cluster.readRegionMap();
            RegionMap map = RegionMap.fromBytes(current.payload()).withEpoch(current.epoch());
            final Set<Integer> dead = cluster.deadMemoryNodes();
            for (final int d : dead)
            {
                if (d < map.memoryNodeCount() && FailoverAgent.removable(map, d))
                {
                    return;
                }
            }
            final ClusterLayout layout = admit(map);
            current = cluster.readRegionMap();
            map = RegionMap.fromBytes(current.payload()).withEpoch(current.epoch());
            cluster.attachJoined(client, map, true);
            map = dropDeadJoinersAndStraySeals(map, dead);
            final ReplicaPlanner.Nodes nodes = nodes(map, dead, layout);
            List<ReplicaPlanner.Move> moves = resumed(map);
            final boolean grow = moves.isEmpty() && roomForARegion(map, nodes) && shortOfBlocks();
            if (moves.isEmpty())
            {
                moves = ReplicaPlanner.plan(map, nodes, grow);
            }
            if (moves.isEmpty())
            {
                final List<ReplicaPlanner.NewRegion> regions = grow ? ReplicaPlanner.newRegions(map, nodes) : List.of();
                if (!regions.isEmpty())
                {
                    creator.run(map, regions, this::publish);
                    timer.kick();
                }
                return;
            }
            LOG.info("client {} copies region replicas {} (map epoch {})", cluster.clientId(), moves, map.epoch());
            final ReplicaCopier.Report report = copier.run(map, moves, this::publish);
            LOG.info("{}", report);
            last = report;
            synchronized (done)
            {
                done.add(report);
            }
            timer.kick();
        }
        catch (final StaleMapException e)
        {
            LOG.info("the region map changed during a copy (another repairer or a fail-over published); planned again"
                + " next period");
        }
        catch (final RuntimeException e)
        {
            if (Thread.currentThread().isInterrupted())
            {
                LOG.debug("re-replication stopped by the client's close: {}", e.toString());
                return;
            }
            LOG.warn("re-replication failed (tried again in a period): {}", e.toString(), e);
        }
    }

    /** True if the eligible nodes have at least r free physical regions between them. */
    private static boolean roomForARegion(final RegionMap map, final ReplicaPlanner.Nodes nodes)
    {
        int free = 0;
        for (int n = 0; n < map.memoryNodeCount(); n++)
        {
            free += nodes.eligible(n) ? Math.max(0, nodes.physicalRegions()[n] - map.physicalInUse(n).cardinality()) : 0;
        }
        return free >= map.replicationFactor();
    }

    /**
     * True if fewer than 1 in {@value #GROW_BELOW_FREE_SHARE} of the cluster's blocks is free (the
     * allocation tables, read from the primaries): only then are regions added, so free physical
     * regions stay room for re-replication and decommission while the store has space.
     */
    private boolean shortOfBlocks()
    {
        // A copy's promotion may have re-keyed a primary since this client last used it.
        final BlockTableScan tables = RefusedKeys.retrying(view, "reading the block tables", () -> BlockTableScan.read(view, client));
        long free = 0;
        long all = 0;
        for (final BlockTableScan.Block b : tables.blocks())
        {
            all++;
            free += BlockAllocationTable.isFree(b.entry()) ? 1 : 0;
        }
        return free * GROW_BELOW_FREE_SHARE < all;
    }

    private RegionMap publish(final RegionMap expected, final RegionMap next)
    {
        final VersionedMap current = cluster.readRegionMap();
        if (current.epoch() != expected.epoch())
        {
            throw new StaleMapException("region map epoch " + current.epoch() + " is not the " + expected.epoch()
                + " the copy started from");
        }
        cluster.publishRegionMap(current, next);
        return next;
    }

    /** Appends the live memory nodes the layout lacks and grows the region map to name them. */
    private ClusterLayout admit(final RegionMap map)
    {
        final VersionedMap versioned = cluster.readLayout();
        ClusterLayout layout = ClusterLayout.decode(versioned.payload());
        final List<String> admitted = new ArrayList<>();
        for (final MemberInfo m : cluster.aliveMemoryNodes())
        {
            final int at = layout.indexOf(m.name());
            if (at < 0 || layout.incarnations().get(at) != m.incarnation())
            {
                layout = layout.withNode(layout.memoryNodes().size(), m.name(), m.incarnation());
                admitted.add(m.name() + " (" + m.endpoint() + ")");
            }
        }
        if (admitted.isEmpty() && map.memoryNodeCount() >= layout.memoryNodes().size())
        {
            cluster.refreshLayout();
            return layout;
        }
        if (!admitted.isEmpty())
        {
            cluster.publishLayout(versioned, layout);
            LOG.info("admitted memory node(s) {} to the cluster as nodes {}..{}", admitted,
                layout.memoryNodes().size() - admitted.size(), layout.memoryNodes().size() - 1);
        }
        final VersionedMap current = cluster.readRegionMap();
        final RegionMap now = RegionMap.fromBytes(current.payload()).withEpoch(current.epoch());
        if (now.memoryNodeCount() < layout.memoryNodes().size())
        {
            cluster.publishRegionMap(current, now.withMemoryNodes(layout.memoryNodes().size()));
        }
        return layout;
    }

    /** Drops joining replicas on dead nodes (their copy cannot finish). */
    /**
     * Drops joining replicas whose node died, and lifts the seal of regions sealed with no joiner: a
     * copier that died between promoting its copies (still sealed) and lifting the seal left them,
     * and every write would otherwise wait for a map that never comes. The copier runs on this
     * agent's thread, so no copy of this client is under way here.
     */
    private RegionMap dropDeadJoinersAndStraySeals(final RegionMap map, final Set<Integer> dead)
    {
        RegionMap next = map;
        for (int g = 0; g < map.regionCount(); g++)
        {
            if (map.joiner(g) >= 0 && dead.contains(map.joiner(g)))
            {
                next = next.withoutJoiner(g);
            }
            else if (map.joiner(g) < 0 && map.sealed(g))
            {
                next = next.withSealed(g, false);
            }
        }
        return next == map ? map : publish(map, next);
    }

    /** Copies a copier left unfinished: every region with a joining replica, its leaving node guessed from a drain. */
    private List<ReplicaPlanner.Move> resumed(final RegionMap map)
    {
        final Set<String> draining = ClusterLayout.decode(cluster.readLayout().payload()).draining();
        final List<ReplicaPlanner.Move> moves = new ArrayList<>();
        for (int g = 0; g < map.regionCount(); g++)
        {
            if (map.joiner(g) < 0)
            {
                continue;
            }
            int leaving = -1;
            if (map.replicaCount(g) >= map.replicationFactor())
            {
                for (final int n : map.replicas(g))
                {
                    leaving = draining.contains(cluster.memoryNodeName(n)) ? n : leaving;
                }
                if (leaving < 0)
                {
                    leaving = mostLoaded(map, g);
                }
            }
            moves.add(new ReplicaPlanner.Move(g, map.joiner(g), map.joinerPhysical(g), leaving));
        }
        return moves;
    }

    private static int mostLoaded(final RegionMap map, final int g)
    {
        int most = -1;
        for (final int n : map.replicas(g))
        {
            if (most < 0 || map.physicalInUse(n).cardinality() > map.physicalInUse(most).cardinality())
            {
                most = n;
            }
        }
        return most;
    }

    private ReplicaPlanner.Nodes nodes(final RegionMap map, final Set<Integer> dead, final ClusterLayout layout)
    {
        return nodes(client, map, dead, layout, view.descriptor().regionSize());
    }

    /**
     * What the planner needs of the nodes: usable physical regions per node (the live nodes'
     * regions of the cluster's region size, as {@code client} sees them) and the draining ones.
     */
    public static ReplicaPlanner.Nodes nodes(final VerbsClient client, final RegionMap map, final Set<Integer> dead,
        final ClusterLayout layout, final long regionSize)
    {
        final int[] physical = new int[map.memoryNodeCount()];
        for (int n = 0; n < physical.length && n < client.nodeCount(); n++)
        {
            if (dead.contains(n))
            {
                continue;
            }
            final VerbsChannel c = client.channel(n);
            for (final RemoteRegion r : c.regions())
            {
                physical[n] += r.length() == regionSize ? 1 : 0;
            }
        }
        final Set<Integer> draining = new HashSet<>();
        for (final String name : layout.draining())
        {
            final int at = layout.indexOf(name);
            if (at >= 0)
            {
                draining.add(at);
            }
        }
        return new ReplicaPlanner.Nodes(physical, draining);
    }

    /** The last plan this agent finished, or null. */
    public ReplicaCopier.Report last()
    {
        return last;
    }

    /** Every plan this agent finished, oldest first. */
    public List<ReplicaCopier.Report> done()
    {
        synchronized (done)
        {
            return List.copyOf(done);
        }
    }

    /** What the copier does now ("idle", "copying", "sealing", "last pass", "failed"). */
    public String phase()
    {
        return copier.phase();
    }

    @Override
    public void close()
    {
        timer.close();
    }
}
