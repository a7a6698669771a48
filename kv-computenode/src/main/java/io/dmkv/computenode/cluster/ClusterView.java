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
 * A client's map of the cluster, immutable: which memory node holds each replica of each global
 * region, where each region's block table and blocks start, and the layout every client agreed
 * on. {@link ClusterBootstrap} builds it (joining or formatting a cluster); a coordinator can
 * build a new one when the region map changes.
 *
 * <p>Global region g's replica j lives on node {@code map.replica(g, j)}, in the physical region
 * whose index is g's position in {@code map.regionsOn(node)}. The view resolves that once. The
 * verb helpers ({@link #read}, {@link #write}, {@link #cas}, {@link #faa}) take a global address
 * and a replica, so callers never decode global addresses by hand.
 */
public final class ClusterView
{
    private final ClusterDescriptor.Values descriptor;
    private final RegionMap map;
    private final RemoteRegion[][] replicas;
    private final int[] blockCounts;
    private final int[] batOffsets;
    private final int[] firstBlockOffsets;
    private final int clientLogHeadsOffset;
    private final RemoteRegion descriptorRegion;
    private final List<String> endpoints;

    /** Where one global region's blocks are, read from its header. */
    public record RegionShape(int blockCount, int batOffset, int firstBlockOffset)
    {
    }

    ClusterView(final ClusterDescriptor.Values descriptor, final RegionMap map, final RemoteRegion[][] replicas,
        final RegionShape[] shapes, final int clientLogHeadsOffset, final RemoteRegion descriptorRegion,
        final List<String> endpoints)
    {
        this.descriptor = descriptor;
        this.map = map;
        this.replicas = replicas;
        this.blockCounts = new int[shapes.length];
        this.batOffsets = new int[shapes.length];
        this.firstBlockOffsets = new int[shapes.length];
        for (int g = 0; g < shapes.length; g++)
        {
            blockCounts[g] = shapes[g].blockCount();
            batOffsets[g] = shapes[g].batOffset();
            firstBlockOffsets[g] = shapes[g].firstBlockOffset();
        }
        this.clientLogHeadsOffset = clientLogHeadsOffset;
        this.descriptorRegion = descriptorRegion;
        this.endpoints = List.copyOf(endpoints);
    }

    public ClusterDescriptor.Values descriptor()
    {
        return descriptor;
    }

    public RegionMap map()
    {
        return map;
    }

    public int replication()
    {
        return descriptor.replication();
    }

    public int regions()
    {
        return descriptor.regions();
    }

    /** Replica {@code j} (0 = primary) of global region {@code g}. */
    public RemoteRegion replica(final int g, final int j)
    {
        return replicas[g][j];
    }

    /** Replica {@code j} of the region holding {@code globalAddress}. */
    public RemoteRegion replicaOf(final long globalAddress, final int j)
    {
        return replicas[GlobalAddress.regionId(globalAddress)][j];
    }

    /** Adds a READ of replica {@code j} at {@code globalAddress} to {@code b}; returns its index. */
    public int read(final VerbBatch b, final long globalAddress, final int j, final MutableDirectBuffer dst,
        final int dstOffset, final int length)
    {
        return b.read(replicaOf(globalAddress, j), GlobalAddress.offset(globalAddress), dst, dstOffset, length);
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
        for (int j = 0, r = replication(); j < r; j++)
        {
            write(b, globalAddress, j, src, srcOffset, length);
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
        return blockCounts[g];
    }

    public int batOffset(final int g)
    {
        return batOffsets[g];
    }

    public int firstBlockOffset(final int g)
    {
        return firstBlockOffsets[g];
    }

    /** Offset of the client log-head table in the root region. */
    public int clientLogHeadsOffset()
    {
        return clientLogHeadsOffset;
    }

    /** Node index of replica {@code j} of global region {@code g}. */
    public int nodeOf(final int g, final int j)
    {
        return map.replica(g, j);
    }

    /** The physical region id on its node of replica {@code j} of global region {@code g}. */
    public int physicalRegion(final int g, final int j)
    {
        return replicas[g][j].id();
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
