package io.dmkv.computenode.cluster;

import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.layout.ClusterDescriptor;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;

/**
 * A client's map of the cluster: which memory node holds each replica of each global region,
 * where each region's block table and blocks start, and the layout every client agreed on.
 * {@link ClusterBootstrap} builds it (joining or formatting a cluster). Everything is fixed but
 * the routing: when the coordinator publishes a new region map (a memory node failed over,
 * docs/recovery.md), {@link #reroute} swaps the map and the replica table in one volatile write,
 * and every later verb helper routes by it. A region may then have fewer replicas than the
 * replication factor: loops over a region's replicas run to {@link #replicaCount}, never to
 * {@link #replication}.
 *
 * <p>Global region g's replica j lives on node {@code map.replica(g, j)}, in its physical region
 * {@code map.physical(g, j)}. The view resolves that once per map. The number of regions and each
 * region's shape come from the map and the regions' headers, not from the descriptor: regions added
 * for capacity appear when a map names them. The
 * verb helpers ({@link #read}, {@link #write}, {@link #cas}, {@link #faa}) take a global address
 * and a replica, so callers never decode global addresses by hand.
 */
public final class ClusterView
{
    private final ClusterDescriptor.Values descriptor;
    private volatile Routing routing;
    private final int clientLogHeadsOffset;
    private final RemoteRegion descriptorRegion;
    private final List<String> endpoints;
    private volatile Runnable mapRefresher = () -> { };
    private volatile Runnable keyRefresher = () -> { };
    private volatile boolean growable;

    /**
     * A region map, the replicas it resolves to and the shapes of its regions, swapped as one. A
     * newer map may name more regions (capacity added, docs/recovery.md), never fewer, and a region's
     * shape never changes, so a region id valid in one routing is valid, with the same shape, in
     * every later one.
     */
    record Routing(RegionMap map, RemoteRegion[][] replicas, RegionShape[] shapes)
    {
    }

    /** Where one global region's blocks are, read from its header. */
    public record RegionShape(int blockCount, int batOffset, int firstBlockOffset)
    {
    }

    ClusterView(final ClusterDescriptor.Values descriptor, final RegionMap map, final RemoteRegion[][] replicas,
        final RegionShape[] shapes, final int clientLogHeadsOffset, final RemoteRegion descriptorRegion,
        final List<String> endpoints)
    {
        this.descriptor = descriptor;
        this.routing = new Routing(map, replicas, shapes.clone());
        this.clientLogHeadsOffset = clientLogHeadsOffset;
        this.descriptorRegion = descriptorRegion;
        this.endpoints = List.copyOf(endpoints);
    }

    private ClusterView(final ClusterView other, final Routing routing)
    {
        this.descriptor = other.descriptor;
        this.routing = routing;
        this.clientLogHeadsOffset = other.clientLogHeadsOffset;
        this.descriptorRegion = other.descriptorRegion;
        this.endpoints = other.endpoints;
    }

    /** A copy of this view that routes by another map (the repair works under the map it is about to publish). */
    ClusterView withRouting(final RegionMap map, final RemoteRegion[][] replicas, final RegionShape[] shapes)
    {
        return new ClusterView(this, new Routing(map, replicas, shapes));
    }

    /** The shapes of the regions the view knows now (a copy); {@link ClusterBootstrap} extends it for a bigger map. */
    RegionShape[] shapes()
    {
        return routing.shapes().clone();
    }

    public ClusterDescriptor.Values descriptor()
    {
        return descriptor;
    }

    /** The region map the view routes by now. */
    public RegionMap map()
    {
        return routing.map();
    }

    /**
     * Routes by {@code map} from now on ({@code replicas} resolved by {@link ClusterBootstrap}).
     * An operation already running may have posted some verbs by the old routing; memory nodes
     * re-key every region whose replica list changed, so such verbs are refused, never misrouted.
     */
    synchronized void reroute(final RegionMap map, final RemoteRegion[][] replicas, final RegionShape[] shapes)
    {
        if (map.epoch() > routing.map().epoch())
        {
            routing = new Routing(map, replicas, shapes);
        }
    }

    /**
     * Routes by {@code map} again with {@code replicas} (the same regions with the keys learnt since),
     * if the view still routes by that map; a newer map swapped in meanwhile is kept.
     */
    synchronized void rekeyed(final RegionMap map, final RemoteRegion[][] replicas)
    {
        if (routing.map().epoch() == map.epoch())
        {
            routing = new Routing(routing.map(), replicas, routing.shapes());
        }
    }

    /**
     * Asks for the newest region map now (coordinated mode: one coordinator read; a newer map
     * reroutes this view before it returns), so a caller about to report that the cluster is full,
     * or that an address names a region it does not know, does not report it from a stale map.
     *
     * @return true if the view routes by a newer map than before the call.
     */
    public boolean refreshMap()
    {
        final long before = routing.map().epoch();
        mapRefresher.run();
        return routing.map().epoch() > before;
    }

    /** What {@link #refreshMap} runs: nothing in static mode, where the map never changes. */
    public void mapRefresher(final Runnable refresher)
    {
        this.mapRefresher = refresher;
        this.growable = true;
    }

    /**
     * Learns the memory nodes' current region keys (and, in coordinated mode, the newest map) after a
     * verb was refused for its key: the one refresh operations and background steps share
     * ({@link RefusedKeys}). A node re-keys when it applies a map, which may be after this client
     * learnt its keys for that map, so a stale key is cured here, not by waiting for a newer epoch.
     * Blocking (a hello per node); never on a completion thread.
     */
    public void relearnKeys()
    {
        keyRefresher.run();
    }

    /**
     * What {@link #relearnKeys} runs: {@link ClusterBootstrap} sets one that learns the keys for the
     * view's map as it is (static mode, where the map never changes); {@link CoordinatedRouting}
     * replaces it with its confirmed refresh. A copy routing by another map ({@link #withRouting})
     * has none: it is its maker's to refresh.
     */
    public void keyRefresher(final Runnable refresher)
    {
        this.keyRefresher = refresher;
    }

    /** True if the map may name more regions later (coordinated mode): an unknown region id may be a new one. */
    public boolean growable()
    {
        return growable;
    }

    /** Live replicas of global region {@code g} under the current map (the replication factor until a node failed). */
    public int replicaCount(final int g)
    {
        return routing.replicas()[g].length;
    }

    /** Live replicas of the region holding {@code globalAddress}. */
    public int replicasOf(final long globalAddress)
    {
        return replicaCount(GlobalAddress.regionId(globalAddress));
    }

    /** The fewest live replicas any region has under the current map. */
    public int fewestReplicas()
    {
        int fewest = Integer.MAX_VALUE;
        for (final RemoteRegion[] r : routing.replicas())
        {
            fewest = Math.min(fewest, r.length);
        }
        return fewest;
    }

    public int replication()
    {
        return descriptor.replication();
    }

    /**
     * Global regions under the current map: the regions formatted with the cluster plus those added
     * for capacity since (docs/recovery.md, "Growing capacity"). The descriptor's count stays the one
     * at format, which is what the index layout depends on ({@link #regionsAtFormat}).
     */
    public int regions()
    {
        return routing.replicas().length;
    }

    /** Global regions when the cluster was formatted: the index regions are among these, never past them. */
    public int regionsAtFormat()
    {
        return descriptor.regions();
    }

    /** Replica {@code j} (0 = primary) of global region {@code g}. */
    public RemoteRegion replica(final int g, final int j)
    {
        return routing.replicas()[g][j];
    }

    /** Replica {@code j} of the region holding {@code globalAddress}. */
    public RemoteRegion replicaOf(final long globalAddress, final int j)
    {
        return routing.replicas()[GlobalAddress.regionId(globalAddress)][j];
    }

    /** Adds a READ of replica {@code j} at {@code globalAddress} to {@code b}; returns its index. */
    public int read(final VerbBatch b, final long globalAddress, final int j, final MutableDirectBuffer dst,
        final int dstOffset, final int length)
    {
        return b.read(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), dst, dstOffset, length);
    }

    /** As {@link #read}, a READ whose bytes the transport may lend ({@link VerbBatch#readLendable}). */
    public int readLendable(final VerbBatch b, final long globalAddress, final int j, final MutableDirectBuffer dst,
        final int dstOffset, final int length)
    {
        return b.readLendable(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), dst, dstOffset, length);
    }

    /** Adds a WRITE to replica {@code j} at {@code globalAddress} to {@code b}; returns its index. */
    public int write(final VerbBatch b, final long globalAddress, final int j, final DirectBuffer src,
        final int srcOffset, final int length)
    {
        return b.write(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), src, srcOffset, length);
    }

    /** Adds a WRITE of the same bytes to every replica of {@code globalAddress}. */
    public void writeAll(final VerbBatch b, final long globalAddress, final DirectBuffer src, final int srcOffset,
        final int length)
    {
        final RemoteRegion[] live = routing.replicas()[GlobalAddress.regionId(globalAddress)];
        for (final RemoteRegion replica : live)
        {
            b.write(replica, GlobalAddress.offset(globalAddress), src, srcOffset, length);
        }
    }

    /** Adds a CAS of replica {@code j} at {@code globalAddress} to {@code b}; returns its index. */
    public int cas(final VerbBatch b, final long globalAddress, final int j, final long expected, final long desired)
    {
        return b.cas(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), expected, desired);
    }

    /** Adds an FAA on replica {@code j} at {@code globalAddress} to {@code b}; returns its index. */
    public int faa(final VerbBatch b, final long globalAddress, final int j, final long delta)
    {
        return b.faa(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), delta);
    }

    public int blockCount(final int g)
    {
        return routing.shapes()[g].blockCount();
    }

    public int batOffset(final int g)
    {
        return routing.shapes()[g].batOffset();
    }

    public int firstBlockOffset(final int g)
    {
        return routing.shapes()[g].firstBlockOffset();
    }

    /** Offset of the client log-head table in the root region. */
    public int clientLogHeadsOffset()
    {
        return clientLogHeadsOffset;
    }

    /** Node index of replica {@code j} of global region {@code g}. */
    public int nodeOf(final int g, final int j)
    {
        return routing.map().replica(g, j);
    }

    /** The physical region id on its node of replica {@code j} of global region {@code g}. */
    public int physicalRegion(final int g, final int j)
    {
        return routing.replicas()[g][j].id();
    }

    /** The region holding the cluster descriptor (node 0's first region). */
    public RemoteRegion descriptorRegion()
    {
        return descriptorRegion;
    }

    /** The cluster's endpoints in node order. */
    public List<String> endpoints()
    {
        return endpoints;
    }
}
