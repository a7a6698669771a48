package io.dmkv;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

import io.dmkv.computenode.proxy.FlexKv;
import io.dmkv.computenode.proxy.PartitionMapUpdate;
import io.dmkv.computenode.rereplication.ReplicaPlanner;
import io.dmkv.computenode.rereplication.ReplicationAgent;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.core.cluster.PartitionMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.recovery.BlockTableScan;
import io.dmkv.computenode.recovery.ClientAliveException;
import io.dmkv.computenode.recovery.ClientRecovery;
import io.dmkv.computenode.recovery.ClusterVerifier;
import io.dmkv.core.layout.BlockAllocationTable;

/**
 * Operator's access to a cluster, beside the store: recovers a crashed client from its log,
 * verifies the cluster's consistency, and shows who holds which memory. It joins the cluster of
 * a {@link KvConfig} as a store does but claims no client id and holds no memory.
 *
 * <pre>{@code
 * try (KvAdmin admin = KvAdmin.open(config)) {
 *     KvAdmin.Recovery r = admin.recover(7);   // client 7 crashed
 *     List<String> problems = admin.verify(false);
 * }
 * }</pre>
 */
public final class KvAdmin implements AutoCloseable
{
    /** What recovering one client did (docs/recovery.md). */
    public record Recovery(int clientId, int logEntries, int committedEntries, int slotsSettled, int locksReleased,
        int blocksHandedOver, int blocksReleased, int objectsFreed, Duration took)
    {
    }

    /** Blocks of the whole cluster by state, and blocks owned per client id. */
    public record Blocks(int total, int free, int handedOver, Map<Integer, Integer> ownedPerClient)
    {
        /** Blocks owned by any client. */
        public int owned()
        {
            return ownedPerClient.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * One memory node's share of the cluster's memory: the blocks of every region replica it
     * holds (primary or backup), in the states its region's primary table gives them.
     *
     * @param endpoint       the node as the cluster names it.
     * @param replicas       region replicas on the node.
     * @param blockSize      bytes of one block.
     * @param total          blocks.
     * @param free           blocks free.
     * @param handedOver     blocks handed over (live objects, for a later client to adopt).
     * @param ownedPerClient blocks owned, per client id.
     */
    public record Node(String endpoint, int replicas, int blockSize, int total, int free, int handedOver,
        Map<Integer, Integer> ownedPerClient)
    {
        /** Blocks owned by any client. */
        public int owned()
        {
            return ownedPerClient.values().stream().mapToInt(Integer::intValue).sum();
        }

        public long freeBytes()
        {
            return (long)free * blockSize;
        }

        /** Bytes in blocks owned or handed over. */
        public long heldBytes()
        {
            return (long)(owned() + handedOver) * blockSize;
        }
    }

    private final ClusterConnection connection;
    private final IndexDirectory directory;
    private final ClientRecovery recovery;
    private final Duration settle;

    private KvAdmin(final ClusterConnection connection, final KvConfig config)
    {
        this.connection = connection;
        this.directory = new IndexDirectory(connection.view(), connection.verbs());
        this.recovery = new ClientRecovery(connection.view(), connection.verbs(), directory,
            config.recoveryGrace().toMillis(), config.heartbeatPeriod());
        if (connection.coordination() != null)
        {
            recovery.proxiedPartitions(FlexKv.proxiedBySuffix(connection.coordination()));
        }
        this.settle = config.opTimeout();
    }

    /**
     * Joins the cluster of {@code config}.
     *
     * @throws KvConfigException   for a bad configuration.
     * @throws KvException         if the cluster cannot be reached.
     */
    public static KvAdmin open(final KvConfig config)
    {
        try
        {
            return new KvAdmin(ClusterConnection.open(config, SystemNanoClock.INSTANCE), config);
        }
        catch (final KvException e)
        {
            throw e;
        }
        catch (final RuntimeException e)
        {
            throw new KvException("cannot reach the cluster: " + e.getMessage(), e);
        }
    }

    /**
     * Recovers client {@code clientId} from its log (idempotent). The client must be dead: in
     * coordinated mode a client whose session is live is refused; in either mode a client whose
     * heartbeat moves while recovery watches it (3 heartbeat periods) is refused.
     *
     * @throws InvalidInputException if the id is outside 1..65,535 or belongs to a live client.
     */
    public Recovery recover(final int clientId)
    {
        if (clientId < 1 || clientId > BlockAllocationTable.MAX_CLIENT_ID)
        {
            throw new InvalidInputException("client id " + clientId + " is outside 1.."
                + BlockAllocationTable.MAX_CLIENT_ID);
        }
        final CoordinatedCluster c = connection.coordination();
        if (c != null && c.liveClientIds().contains(clientId))
        {
            throw new InvalidInputException("client " + clientId + " is alive (its coordinator session is open): it"
                + " cannot be recovered while it runs");
        }
        final ClientRecovery.Report r;
        try
        {
            r = recovery.recover(clientId);
        }
        catch (final ClientAliveException e)
        {
            throw new KvException(e.getMessage(), e);
        }
        if (c != null && c.deadClientIds().contains(clientId))
        {
            c.releaseClientId(clientId);
        }
        return new Recovery(r.clientId(), r.logEntries(), r.committedEntries(), r.slotsSettled(), r.locksReleased(),
            r.blocksHandedOver(), r.blocksReleased(), r.objectsFreed(), Duration.ofNanos(r.nanos()));
    }

    /**
     * Checks the cluster (see docs/recovery.md, "Verify"). On a live cluster, a suspicious slot is
     * re-checked after {@code dmkv.timeout} before it is reported; {@code quiesced} (no client
     * running) skips that wait.
     *
     * @return the problems found; empty if the cluster is consistent.
     */
    public List<String> verify(final boolean quiesced)
    {
        final CoordinatedCluster c = connection.coordination();
        final Set<Integer> live = c != null ? new HashSet<>(c.liveClientIds()) : null;
        return new ClusterVerifier(connection.view(), connection.verbs(), directory)
            .verify(live, quiesced ? 0 : settle.toMillis());
    }

    /** The blocks of every region, as their primaries' allocation tables say. */
    public Blocks blocks()
    {
        final BlockTableScan t = BlockTableScan.read(connection.view(), connection.verbs());
        return new Blocks(t.blocks().size(), t.count(BlockAllocationTable.FREE),
            t.count(BlockAllocationTable.HANDED_OVER), Map.copyOf(t.ownedPerClient()));
    }

    /** Every memory node's blocks, free and held by which client, in the cluster's node order. */
    public List<Node> nodes()
    {
        final ClusterView view = connection.view();
        final BlockTableScan t = BlockTableScan.read(view, connection.verbs());
        final List<String> endpoints = view.endpoints();
        final int[] replicas = new int[endpoints.size()];
        final int[] free = new int[endpoints.size()];
        final int[] handedOver = new int[endpoints.size()];
        final List<Map<Integer, Integer>> owned = new ArrayList<>();
        endpoints.forEach(e -> owned.add(new TreeMap<>()));
        for (int g = 0; g < view.regions(); g++)
        {
            for (int j = 0; j < view.replication(); j++)
            {
                replicas[view.nodeOf(g, j)]++;
            }
        }
        for (final BlockTableScan.Block b : t.blocks())
        {
            final int state = BlockAllocationTable.state(b.entry());
            for (int j = 0; j < view.replication(); j++)
            {
                final int n = view.nodeOf(b.region(), j);
                free[n] += state == BlockAllocationTable.FREE ? 1 : 0;
                handedOver[n] += state == BlockAllocationTable.HANDED_OVER ? 1 : 0;
                if (state == BlockAllocationTable.OWNED)
                {
                    owned.get(n).merge(BlockAllocationTable.owner(b.entry()), 1, Integer::sum);
                }
            }
        }
        final List<Node> out = new ArrayList<>();
        for (int n = 0; n < endpoints.size(); n++)
        {
            final int total = free[n] + handedOver[n] + owned.get(n).values().stream().mapToInt(Integer::intValue).sum();
            out.add(new Node(endpoints.get(n), replicas[n], view.descriptor().blockSize(), total, free[n],
                handedOver[n], Map.copyOf(owned.get(n))));
        }
        return out;
    }

    /** Ids of clients the coordinator holds for recovery (empty in static mode, which cannot tell). */
    public List<Integer> deadClients()
    {
        final CoordinatedCluster c = connection.coordination();
        return c != null ? c.deadClientIds() : List.of();
    }

    /** One partition of a FlexKV cluster: its owner (a proxy's name, or "-": one-sided), a hand-over under way, a pin. */
    public record Partition(int partition, String owner, String handoverFrom, String pin)
    {
    }

    /** The cluster's index mode: fusee or flexkv (static clusters are fusee). */
    public String mode()
    {
        final CoordinatedCluster c = connection.coordination();
        return c == null ? PartitionMap.FUSEE : c.partitions().mode();
    }

    /** The partition map of a FlexKV cluster (empty for FUSEE), as last confirmed by the coordinator. */
    public List<Partition> partitions()
    {
        final CoordinatedCluster c = connection.coordination();
        if (c == null)
        {
            return List.of();
        }
        c.partitionMap().refresh();
        final PartitionMap m = c.partitions();
        final List<Partition> out = new java.util.ArrayList<>(m.partitions());
        for (int p = 0; p < m.partitions(); p++)
        {
            out.add(new Partition(p, m.owner(p), m.from(p), m.pin(p)));
        }
        return out;
    }

    /** The live proxy-enabled compute nodes of a FlexKV cluster: member name to proxy endpoint. */
    public Map<String, String> proxies()
    {
        final CoordinatedCluster c = connection.coordination();
        final Map<String, String> out = new java.util.TreeMap<>();
        if (c != null)
        {
            for (final MemberInfo m : c.coordinator().members().alive(MemberInfo.Kind.COMPUTE_NODE))
            {
                if (!m.endpoint().isEmpty())
                {
                    out.put(m.name(), m.endpoint());
                }
            }
        }
        return out;
    }

    /**
     * Each partition's hotness in operations per second, summed over the live compute nodes as
     * they last published it (one period's smoothing behind; empty for FUSEE, zeros when idle).
     */
    public long[] partitionHotness()
    {
        final CoordinatedCluster c = connection.coordination();
        if (c == null)
        {
            return new long[0];
        }
        final long[] out = new long[c.partitions().partitions()];
        for (final MemberInfo m : c.coordinator().members().alive(MemberInfo.Kind.COMPUTE_NODE))
        {
            if (m.hotness().size() == out.length)
            {
                for (int p = 0; p < out.length; p++)
                {
                    out[p] += m.hotness().get(p);
                }
            }
        }
        return out;
    }

    /**
     * Pins partition {@code partition} to proxy {@code node}, to one-sided mode ({@code "none"}), or
     * unpins it ({@code "auto"}); the partition manager moves it at its next step.
     *
     * @throws InvalidInputException for a FUSEE cluster, a partition out of range, or a node that
     *                               is not a live proxy.
     */
    public void assignPartition(final int partition, final String node)
    {
        final CoordinatedCluster c = connection.coordination();
        if (c == null || !c.partitions().isFlexKv())
        {
            throw new InvalidInputException("this cluster runs in " + mode() + " mode: only a flexkv cluster has"
                + " partitions to assign (dmkv.mode=flexkv when it is created)");
        }
        final int n = c.partitions().partitions();
        if (partition < 0 || partition >= n)
        {
            throw new InvalidInputException("partition " + partition + " is outside 0.." + (n - 1));
        }
        final String pin = "none".equals(node) ? PartitionMap.NONE : "auto".equals(node) ? "" : node;
        if (!pin.isEmpty() && !PartitionMap.NONE.equals(pin) && !proxies().containsKey(pin))
        {
            throw new InvalidInputException("'" + node + "' is not a live proxy of this cluster; proxies: "
                + proxies().keySet() + " (or 'none' for one-sided, 'auto' to unpin)");
        }
        PartitionMapUpdate.apply(c.coordinator().maps(), null, m -> m.withPin(partition, pin));
    }

    /** Where a memory node being decommissioned stands: the regions it still holds or is given. */
    public record Decommission(String node, int index, List<Integer> replicas, List<Integer> joining)
    {
        /** True once the region map names the node nowhere: it can be stopped. */
        public boolean done()
        {
            return replicas.isEmpty() && joining.isEmpty();
        }
    }

    /**
     * Asks the cluster to move every region replica off memory node {@code node} (its endpoint
     * HOST:PORT or its member name) so it can be stopped (docs/recovery.md, "Decommission"): the
     * lowest live client's replication agent copies each replica elsewhere and drops the node from
     * the region. Returns at once; {@link #decommissionProgress} follows it.
     *
     * @throws InvalidInputException for a static cluster, a node that is not a live member, a
     *                               cluster that would keep fewer memory nodes than r, or regions
     *                               that no other node has room for.
     */
    public Decommission decommission(final String node)
    {
        final CoordinatedCluster c = coordinated("decommission");
        final ClusterLayout layout = c.refreshLayout();
        final int index = liveIndex(c, layout, node);
        final String name = layout.memoryNodes().get(index);
        final VersionedMap versioned = c.readRegionMap();
        final RegionMap map = RegionMap.fromBytes(versioned.payload());
        c.attachJoined(connection.verbs(), map, true);
        final Set<Integer> dead = c.deadMemoryNodes();
        final ReplicaPlanner.Nodes nodes = ReplicationAgent.nodes(connection.verbs(), map, dead,
            layout.withDraining(name, true), connection.view().descriptor().regionSize());
        int others = 0;
        for (int n = 0; n < map.memoryNodeCount(); n++)
        {
            others += n != index && n < nodes.physicalRegions().length && nodes.physicalRegions()[n] > 0
                && !nodes.draining().contains(n) ? 1 : 0;
        }
        if (map.regionsOn(index).length > 0 && others < map.replicationFactor())
        {
            throw new InvalidInputException("decommissioning memory node " + name + " would drop regions below r = "
                + map.replicationFactor() + " replicas: only " + others + " other live memory node(s) that are not"
                + " being decommissioned; start a memory node first (scripts/memnode --coordinator ...)");
        }
        final List<Integer> stuck = ReplicaPlanner.withoutRoom(map, nodes, index);
        if (!stuck.isEmpty())
        {
            throw new InvalidInputException("no room to move regions " + stuck + " off memory node " + name
                + ": no other live memory node has a free region (of " + connection.view().descriptor().regionSize()
                + " bytes) and holds no replica of them; start a memory node with free space first");
        }
        if (!layout.draining().contains(name))
        {
            c.publishLayout(c.readLayout(), ClusterLayout.decode(c.readLayout().payload()).withDraining(name, true));
        }
        return decommissionProgress(node);
    }

    /** Where the decommission of {@code node} (endpoint or member name) stands. */
    public Decommission decommissionProgress(final String node)
    {
        final CoordinatedCluster c = coordinated("decommission");
        final ClusterLayout layout = c.refreshLayout();
        int index = layout.indexOf(node);
        if (index < 0)
        {
            index = liveIndex(c, layout, node);
        }
        final RegionMap map = RegionMap.fromBytes(c.readRegionMap().payload());
        final boolean named = index < map.memoryNodeCount();
        final List<Integer> replicas = named ? Arrays.stream(map.regionsOn(index)).boxed().toList() : List.of();
        final List<Integer> joining = named ? Arrays.stream(map.joiningOn(index)).boxed().toList() : List.of();
        return new Decommission(layout.memoryNodes().get(index), index, replicas, joining);
    }

    private CoordinatedCluster coordinated(final String what)
    {
        final CoordinatedCluster c = connection.coordination();
        if (c == null)
        {
            throw new InvalidInputException(what + " needs a coordinated cluster (--coordinator): a static cluster's"
                + " memory nodes are fixed");
        }
        return c;
    }

    /** The layout index of the live memory node named {@code node} or reachable at it. */
    private static int liveIndex(final CoordinatedCluster c, final ClusterLayout layout, final String node)
    {
        final List<String> known = new ArrayList<>();
        for (final MemberInfo m : c.aliveMemoryNodes())
        {
            final int at = layout.indexOf(m.name());
            final boolean member = at >= 0 && layout.incarnations().get(at) == m.incarnation();
            if (member && (m.name().equals(node) || m.endpoint().equals(node)))
            {
                return at;
            }
            known.add(m.endpoint() + (member ? "" : " (not admitted yet)"));
        }
        throw new InvalidInputException("'" + node + "' is not a live memory node of this cluster; live memory nodes: "
            + known);
    }

    @Override
    public void close()
    {
        connection.close();
    }
}
