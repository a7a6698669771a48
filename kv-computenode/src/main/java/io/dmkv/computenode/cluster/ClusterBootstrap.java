package io.dmkv.computenode.cluster;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.ClusterMode;
import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.ClusterDescriptor;
import io.dmkv.core.layout.LayoutVersion;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.FailedNodeChannel;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;

/**
 * Joins a cluster on a static list of memory nodes, formatting it if it is empty, and builds the
 * {@link ClusterView}. The first client to find the memory nodes empty bootstraps the cluster
 * (claims the descriptor with a CAS, has every node format its regions, publishes the
 * descriptor); the others read it and check it against what they see. Also hands out client
 * ids from the descriptor's counter.
 */
public final class ClusterBootstrap
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterBootstrap.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private ClusterBootstrap()
    {
    }

    /**
     * Joins the cluster behind {@code client}'s memory nodes, bootstrapping it if it is empty.
     *
     * @throws IllegalStateException with an actionable message when the nodes do not form the
     *                               cluster they claim to (another node order, another r, ...).
     */
    public static ClusterView join(final VerbsClient client, final ClusterSettings settings)
    {
        return join(client, settings, ClusterMode.STATIC);
    }

    /**
     * As {@link #join(VerbsClient, ClusterSettings)}, for a client in {@code mode}: a cluster
     * formatted here records the mode, and a cluster created in the other mode is refused with a
     * message that names both.
     */
    public static ClusterView join(final VerbsClient client, final ClusterSettings settings, final ClusterMode mode)
    {
        LayoutVersion.requireLittleEndianHost();
        final int nodes = client.nodeCount();
        ClusterDescriptor.length(nodes);
        RegionMap.validateReplication(settings.replication(), nodes);
        final long[] hashes = nodeHashes(client);
        final RemoteRegion home = client.channel(0).region(0);
        // The whole descriptor area, not just this client's share: a client given fewer nodes
        // than the cluster has must still read every node hash to say what differs.
        final int length = ClusterDescriptor.length(ClusterDescriptor.MAX_NODES);
        final UnsafeBuffer d = new UnsafeBuffer(new byte[length]);
        final long deadline = System.nanoTime() + settings.formatTimeout().toNanos();
        final VerbBatch b = new VerbBatch();
        while (true)
        {
            b.reset().read(home, ClusterDescriptor.OFFSET, d, 0, length);
            client.execute(b);
            final long state = ClusterDescriptor.stateOf(d.getLong(ClusterDescriptor.STATE_OFFSET));
            if (state == ClusterDescriptor.STATE_READY)
            {
                ClusterMode.requireJoinable(client.channel(0).node().toString(),
                    ClusterMode.fromCode(ClusterDescriptor.mode(d, 0)), mode);
                final ClusterDescriptor.Values v = ClusterDescriptor.read(d, 0);
                check(v, settings, hashes, client, false);
                requireFormatted(client, null);
                return view(client, v);
            }
            if (state == ClusterDescriptor.STATE_EMPTY)
            {
                final long claim = ClusterDescriptor.formatting(RANDOM.nextLong() >>> 8);
                final int at = b.reset().cas(home, ClusterDescriptor.OFFSET + ClusterDescriptor.STATE_OFFSET,
                    ClusterDescriptor.STATE_EMPTY, claim);
                client.execute(b);
                if (b.casSucceeded(at))
                {
                    final ClusterDescriptor.Values v = bootstrap(client, settings, hashes, claim, mode);
                    return view(client, v);
                }
                continue;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("the cluster on " + client.channel(0).node() + " has been being formatted"
                    + " by another client for " + settings.formatTimeout() + "; if that client crashed, restart the"
                    + " memory nodes to start a new cluster");
            }
            try
            {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the cluster to be formatted", e);
            }
        }
    }

    /**
     * Joins a coordinated cluster by the descriptor and region map its formatter published to the
     * coordinator, so a client can join while memory node 0 (where the descriptor also lives) is
     * down: nodes that failed are {@link FailedNodeChannel}s in {@code client} and are not checked.
     */
    public static ClusterView joinPublished(final VerbsClient client, final ClusterSettings settings,
        final ClusterDescriptor.Values descriptor, final RegionMap map)
    {
        LayoutVersion.requireLittleEndianHost();
        check(descriptor, settings, nodeHashes(client), client, true);
        requireFormatted(client, map);
        return view(client, descriptor, map);
    }

    /**
     * Refuses a cluster with a blank memory node: one that restarted (memory nodes are volatile)
     * answers at the old address with no cluster in its memory, and must not be taken for the
     * node it was. Nodes that failed over ({@link FailedNodeChannel}) are not asked.
     *
     * <p>With a {@code map} (coordinated mode) a node is asked for its first replica's physical region
     * and skipped if it holds none (an admitted node stays blank until a copy reaches it); without
     * one (static mode), for its region 0.
     */
    private static void requireFormatted(final VerbsClient client, final RegionMap map)
    {
        final UnsafeBuffer[] headers = new UnsafeBuffer[client.nodeCount()];
        final VerbBatch b = new VerbBatch();
        for (int n = 0; n < client.nodeCount(); n++)
        {
            if (client.channel(n) instanceof FailedNodeChannel)
            {
                continue;
            }
            final int[] held = map == null ? null : n < map.memoryNodeCount() ? map.regionsOn(n) : new int[0];
            final int physical = held == null ? 0 : held.length == 0 ? -1 : map.physicalOn(held[0], n);
            if (physical >= 0)
            {
                headers[n] = new UnsafeBuffer(new byte[RegionLayout.HEADER_FIELDS_LENGTH]);
                b.read(client.channel(n).region(physical), 0, headers[n], 0, RegionLayout.HEADER_FIELDS_LENGTH);
            }
        }
        client.execute(b);
        for (int n = 0; n < client.nodeCount(); n++)
        {
            if (headers[n] != null && !RegionLayout.isFormatted(headers[n]))
            {
                throw new IllegalStateException("memory node " + client.channel(n).node().name() + " ("
                    + client.channel(n).node().endpoint() + ") lost its data: it answers, but its memory holds no"
                    + " cluster (it restarted, and memory nodes are volatile). It is not taken for the node it was:"
                    + " with a coordinator, the cluster fails it over; in static mode, what it held is gone"
                    + " unless other replicas hold it, which a static cluster cannot use (restart every memory node"
                    + " to start a new cluster, or run coordinated)");
            }
        }
    }

    /** The descriptor as bytes, for the coordinator's layout map. */
    public static byte[] encodeDescriptor(final ClusterDescriptor.Values v)
    {
        final UnsafeBuffer d = new UnsafeBuffer(new byte[ClusterDescriptor.length(v.nodeHashes().length)]);
        ClusterDescriptor.write(d, 0, v);
        return d.byteArray();
    }

    /** Reads {@link #encodeDescriptor}. */
    public static ClusterDescriptor.Values decodeDescriptor(final byte[] bytes)
    {
        return ClusterDescriptor.read(new UnsafeBuffer(bytes), 0);
    }

    private static long[] nodeHashes(final VerbsClient client)
    {
        final long[] hashes = new long[client.nodeCount()];
        for (int n = 0; n < hashes.length; n++)
        {
            hashes[n] = KeyHash.hash(client.channel(n).node().name().getBytes(StandardCharsets.UTF_8));
        }
        return hashes;
    }

    private static void check(final ClusterDescriptor.Values v, final ClusterSettings settings, final long[] hashes,
        final VerbsClient client, final boolean coordinated)
    {
        if (v.layoutVersion() != LayoutVersion.VERSION)
        {
            throw new IllegalStateException(LayoutVersion.mismatch("the cluster", v.layoutVersion()));
        }
        if (coordinated ? hashes.length < v.nodeHashes().length : v.nodeHashes().length != hashes.length)
        {
            throw new IllegalStateException("the cluster on " + client.channel(0).node() + " has "
                + v.nodeHashes().length + " memory nodes, this client was given " + hashes.length + " ("
                + String.join(",", client.channels().stream().map(c -> c.node().endpoint()).toList())
                + "): give every memory node of the cluster, in the same order as every other client");
        }
        // A coordinated cluster's layout may list nodes that joined after it was formatted.
        for (int n = 0; n < v.nodeHashes().length; n++)
        {
            if (v.nodeHashes()[n] != hashes[n] && !(client.channel(n) instanceof FailedNodeChannel))
            {
                throw new IllegalStateException("memory node " + n + " (" + client.channel(n).node() + ") is not the"
                    + " cluster's node " + n + ": list the memory nodes in the same order as every other client");
            }
        }
        if (v.replication() != settings.replication())
        {
            throw new IllegalStateException("the cluster replicates " + v.replication() + " ways, this client is"
                + " configured for r = " + settings.replication());
        }
    }

    private static ClusterDescriptor.Values bootstrap(final VerbsClient client, final ClusterSettings settings,
        final long[] hashes, final long claim, final ClusterMode mode)
    {
        final int nodes = client.nodeCount();
        final int r = settings.replication();
        final int regionSize = (int)client.channel(0).region(0).length();
        final UnsafeBuffer header = new UnsafeBuffer(new byte[RegionLayout.HEADER_FIELDS_LENGTH]);
        final VerbBatch probe = new VerbBatch();
        // Node 0 too: formatted regions under an empty descriptor mean it is another node of a
        // cluster whose first node was left out of this client's list.
        for (int n = 0; n < nodes; n++)
        {
            probe.reset().read(client.channel(n).region(0), 0, header, 0, header.capacity());
            client.execute(probe);
            if (RegionLayout.isFormatted(header))
            {
                probe.reset().cas(client.channel(0).region(0), ClusterDescriptor.OFFSET + ClusterDescriptor.STATE_OFFSET,
                    claim, ClusterDescriptor.STATE_EMPTY);
                client.execute(probe);
                throw new IllegalStateException(client.channel(n).node() + " already belongs to a cluster, but the"
                    + " first node given, " + client.channel(0).node() + ", holds none: either memory node "
                    + client.channel(0).node().name() + " lost its data (it restarted: memory nodes are volatile, so"
                    + " the cluster is gone; restart every memory node to start a new one), or it is not the"
                    + " cluster's first node (give every memory node of the cluster, in the same order as every"
                    + " other client)");
            }
        }
        final int[] usable = new int[nodes];
        int total = 0;
        for (int n = 0; n < nodes; n++)
        {
            for (final RemoteRegion region : client.channel(n).regions())
            {
                if (region.length() == regionSize)
                {
                    usable[n]++;
                }
                else
                {
                    break;
                }
            }
            total += usable[n];
        }
        int regions = total / r;
        while (regions > 0 && !fits(RegionMap.place(0, regions, nodes, r), usable))
        {
            regions--;
        }
        if (regions == 0)
        {
            throw new IllegalStateException("the memory nodes' regions (" + Arrays.toString(usable) + " of "
                + regionSize + " bytes) cannot hold " + r + " replicas of even one region");
        }
        final RegionMap map = RegionMap.place(0, regions, nodes, r);
        final int blockSize = settings.blockSizeFor(regionSize);
        final int indexArea = (int)RegionLayout.pageAlign(settings.indexAreaBytes() > 0 ? settings.indexAreaBytes()
            : regionSize / 4L);
        LOG.info("bootstrapping a cluster of {} memory nodes, {} regions of {} bytes, r = {}", nodes, regions,
            regionSize, r);
        for (int g = 0; g < regions; g++)
        {
            for (int j = 0; j < r; j++)
            {
                final int node = map.replica(g, j);
                final int phys = Arrays.binarySearch(map.regionsOn(node), g);
                final boolean root = g == RegionLayout.ROOT_REGION_ID;
                final int indexRegions = RegionLayout.indexRegions(regions, nodes);
                final MemoryNodeRpc.FormatRegion f = new MemoryNodeRpc.FormatRegion(phys, g, blockSize,
                    g < indexRegions ? indexArea : 0, root, settings.maxGlobalDepth(), settings.initialGlobalDepth(),
                    settings.bucketGroups(), settings.maxClients(), indexRegions);
                client.rpc(node, MemoryNodeRpc.FORMAT_REGION, f.encode());
            }
        }
        final ClusterDescriptor.Values v = new ClusterDescriptor.Values(LayoutVersion.VERSION, r, regions, regionSize,
            blockSize, settings.bucketGroups(), settings.maxGlobalDepth(), settings.initialGlobalDepth(),
            settings.maxClients(), RANDOM.nextLong() | 1, indexArea, hashes);
        final int length = ClusterDescriptor.length(nodes);
        final UnsafeBuffer d = new UnsafeBuffer(new byte[length]);
        ClusterDescriptor.write(d, 0, v);
        ClusterDescriptor.writeMode(d, 0, mode.code());
        final RemoteRegion home = client.channel(0).region(0);
        final VerbBatch b = new VerbBatch();
        // One connection, in order: the fields land before the state says ready.
        b.write(home, ClusterDescriptor.OFFSET + ClusterDescriptor.MAGIC_OFFSET, d, ClusterDescriptor.MAGIC_OFFSET,
            length - ClusterDescriptor.MAGIC_OFFSET);
        final int at = b.cas(home, ClusterDescriptor.OFFSET + ClusterDescriptor.STATE_OFFSET, claim,
            ClusterDescriptor.STATE_READY);
        client.execute(b);
        if (!b.casSucceeded(at))
        {
            throw new IllegalStateException("lost the cluster descriptor while formatting it (state 0x"
                + Long.toHexString(b.result(at)) + ")");
        }
        return v;
    }

    private static boolean fits(final RegionMap map, final int[] usable)
    {
        for (int n = 0; n < usable.length; n++)
        {
            if (map.regionsOn(n).length > usable[n])
            {
                return false;
            }
        }
        return true;
    }

    /** Builds the view of a formatted cluster: resolves every replica and reads each region's header. */
    static ClusterView view(final VerbsClient client, final ClusterDescriptor.Values descriptor)
    {
        return view(client, descriptor, RegionMap.place(0, descriptor.regions(), client.nodeCount(),
            descriptor.replication()));
    }

    /** Builds the view of a formatted cluster under {@code map} (a coordinator's region map). */
    public static ClusterView view(final VerbsClient client, final ClusterDescriptor.Values descriptor,
        final RegionMap map)
    {
        final RemoteRegion[][] replicas = resolve(client, map);
        final ClusterView.RegionShape[] shapes = shapes(client, replicas, new ClusterView.RegionShape[0]);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[RegionLayout.HEADER_FIELDS_LENGTH]);
        final int logHeads = readHeader(client, replicas[RegionLayout.ROOT_REGION_ID], new VerbBatch(), header)
            ? RegionLayout.clientLogHeadsOffset(header) : 0;
        final ClusterView view = new ClusterView(descriptor, map, replicas, shapes, logHeads, client.channel(0).region(0),
            client.channels().stream().map(c -> c.node().endpoint()).toList());
        view.keyRefresher(() ->
        {
            client.refreshKeys(n -> !(client.channel(n) instanceof FailedNodeChannel));
            rekeyed(client, view, view.map());
        });
        return view;
    }

    /**
     * The shapes of every region of {@code replicas}: those of {@code known} as they are (a region's
     * shape never changes), the others read from their headers (regions added for capacity).
     */
    private static ClusterView.RegionShape[] shapes(final VerbsClient client, final RemoteRegion[][] replicas,
        final ClusterView.RegionShape[] known)
    {
        final ClusterView.RegionShape[] shapes = Arrays.copyOf(known, Math.max(known.length, replicas.length));
        final UnsafeBuffer header = new UnsafeBuffer(new byte[RegionLayout.HEADER_FIELDS_LENGTH]);
        final VerbBatch b = new VerbBatch();
        for (int g = known.length; g < replicas.length; g++)
        {
            if (!readHeaderRekeyed(client, replicas[g], b, header))
            {
                // Every replica is on a failed node: the region is lost and holds no usable block.
                shapes[g] = new ClusterView.RegionShape(0, 0, 0);
                continue;
            }
            RegionLayout.validateHeader(header, g);
            shapes[g] = new ClusterView.RegionShape(RegionLayout.blockCount(header), RegionLayout.batOffset(header),
                RegionLayout.firstBlockOffset(header));
        }
        return shapes;
    }

    /** A copy of {@code view} that routes by {@code map}; {@code view} itself is unchanged. */
    public static ClusterView rerouted(final VerbsClient client, final ClusterView view, final RegionMap map)
    {
        final RemoteRegion[][] replicas = resolve(client, map);
        return view.withRouting(map, replicas, shapes(client, replicas, view.shapes()));
    }

    /**
     * Has {@code view} route by {@code map} (a newer region map from the coordinator) from now on;
     * the headers of regions the map adds are read first.
     */
    public static void reroute(final VerbsClient client, final ClusterView view, final RegionMap map)
    {
        final RemoteRegion[][] replicas = resolve(client, map);
        view.reroute(map, replicas, shapes(client, replicas, view.shapes()));
    }

    /**
     * Has {@code view} route by {@code map} again, with the keys this client holds now, if it still
     * routes by {@code map}: the keys were learnt while {@code map} was the newest the coordinator had
     * (the caller checked), so they are the ones the nodes give that map's regions (docs/recovery.md,
     * "Stale keys").
     */
    static void rekeyed(final VerbsClient client, final ClusterView view, final RegionMap map)
    {
        view.rekeyed(map, resolve(client, map));
    }

    /**
     * As {@link #readHeader}, learning a node's keys again when it refuses the one this client holds:
     * a region added for capacity is re-keyed by its nodes when the map naming it arrives.
     */
    private static boolean readHeaderRekeyed(final VerbsClient client, final RemoteRegion[] replicas,
        final VerbBatch b, final UnsafeBuffer header)
    {
        final Set<VerbsChannel> nodes = new HashSet<>();
        for (final RemoteRegion r : replicas)
        {
            nodes.add(r.channel());
        }
        // Keys are updated in place, in the RemoteRegion objects the replicas array holds. Not the view's
        // refresher: this runs inside a reroute, which that refresher may be running.
        return RefusedKeys.retrying(() -> client.refreshKeys(n -> nodes.contains(client.channel(n))),
            "reading a region header", () -> readHeader(client, replicas, b, header));
    }

    /** Reads a region's header from its first replica that answers; false if none does. */
    private static boolean readHeader(final VerbsClient client, final RemoteRegion[] replicas, final VerbBatch b,
        final UnsafeBuffer header)
    {
        for (final RemoteRegion replica : replicas)
        {
            if (replica.channel() instanceof FailedNodeChannel)
            {
                continue;
            }
            // The node's own handle, not the routing's copy: its key is the one refreshKeys updates.
            b.reset().read(replica.channel().region(replica.id()), 0, header, 0, RegionLayout.HEADER_FIELDS_LENGTH);
            client.execute(b);
            return true;
        }
        return false;
    }

    /**
     * Each region's live replicas under {@code map}, primary first: replica j of region g is the
     * physical region {@code map.physical(g, j)} of node {@code map.replica(g, j)}. A joining
     * replica is not among them: nobody reads it, and the copier writes it by itself.
     *
     * <p>Each is a copy of the node's region handle with the key it holds now: a later key refresh
     * updates the node's handles in place, never a routing's copy, so a verb built by an older
     * routing keeps the key of its time and is refused by a node that re-keyed since, even after
     * this client learnt the new key (fencing holds within a client, not only between clients).
     */
    private static RemoteRegion[][] resolve(final VerbsClient client, final RegionMap map)
    {
        final RemoteRegion[][] replicas = new RemoteRegion[map.regionCount()][];
        for (int g = 0; g < map.regionCount(); g++)
        {
            replicas[g] = new RemoteRegion[map.replicaCount(g)];
            for (int j = 0; j < replicas[g].length; j++)
            {
                replicas[g][j] = copy(client.channel(map.replica(g, j)).region(map.physical(g, j)));
            }
        }
        return replicas;
    }

    private static RemoteRegion copy(final RemoteRegion region)
    {
        final RegionInfo info = region.info();
        return new RemoteRegion(region.channel(), new RegionInfo(info.id(), region.key(), info.length(),
            info.rdmaAddress(), info.rdmaKey()));
    }

    /**
     * A fresh client id from the memory nodes (an FAA on the descriptor's counter). Ids wrap
     * around after {@code maxClients}: at most that many clients may be alive at once.
     */
    public static int allocateClientId(final VerbsClient client, final ClusterView view)
    {
        final VerbBatch b = new VerbBatch();
        final int at = b.faa(view.descriptorRegion(), ClusterDescriptor.OFFSET + ClusterDescriptor.NEXT_CLIENT_ID_OFFSET,
            1);
        client.execute(b);
        return (int)(Long.remainderUnsigned(b.result(at), view.descriptor().maxClients()) + 1);
    }
}
