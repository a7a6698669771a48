package io.dmkv.memnode;

import java.nio.ByteBuffer;

import org.agrona.concurrent.AtomicBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;

/**
 * FORMAT_REGION: lays out one of this node's regions as a replica of a global region, on behalf
 * of the client that bootstraps the cluster. The root region also gets the index root; the
 * initial subtables go to the index regions in turn (subtable i to region i mod k, see
 * {@link RegionLayout#indexRegionOf}), each formatted by its own region's replicas, all computed
 * deterministically so every replica is byte-identical and the root's directory points at
 * subtables it did not format itself.
 */
final class RegionFormatter
{
    private static final Logger LOG = LoggerFactory.getLogger(RegionFormatter.class);

    private final MemoryNodeService service;

    RegionFormatter(final MemoryNodeService service)
    {
        this.service = service;
    }

    ByteBuffer handle(final ByteBuffer request)
    {
        final MemoryNodeRpc.FormatRegion f;
        try
        {
            f = MemoryNodeRpc.FormatRegion.decode(request);
        }
        catch (final RuntimeException e)
        {
            throw new RpcException(RpcStatus.BAD_REQUEST, "malformed FORMAT_REGION request");
        }
        if (f.physicalRegion() < 0 || f.physicalRegion() >= service.regions().count())
        {
            throw new RpcException(RpcStatus.BAD_REQUEST, "memory node " + service.name() + " has no region "
                + f.physicalRegion());
        }
        if (f.root() != (f.globalRegion() == RegionLayout.ROOT_REGION_ID))
        {
            throw new RpcException(RpcStatus.BAD_REQUEST, "cannot format region " + f.physicalRegion() + " of "
                + service.name() + ": global region " + f.globalRegion() + (f.root() ? " is not" : " is")
                + " the root region (global region " + RegionLayout.ROOT_REGION_ID + ")");
        }
        final MemoryRegion region = service.regions().regions().get(f.physicalRegion());
        final AtomicBuffer b = region.buffer();
        synchronized (region)
        {
            if (RegionLayout.isFormatted(b))
            {
                if (RegionLayout.regionId(b) != f.globalRegion() || RegionLayout.blockSize(b) != f.blockSize()
                    || RegionLayout.indexAreaLength(b) != f.indexAreaLength())
                {
                    throw new RpcException(RpcStatus.FAILED, "region " + f.physicalRegion() + " of memory node "
                        + service.name() + " is already formatted as global region " + RegionLayout.regionId(b)
                        + " with other parameters; restart the memory node to start a new cluster");
                }
                return ByteBuffer.allocate(4).putInt(RegionLayout.blockCount(b)).flip();
            }
            final int blocks;
            try
            {
                if (f.root())
                {
                    blocks = RegionLayout.formatRoot(b, region.length(), f.blockSize(), f.indexAreaLength(),
                        f.maxGlobalDepth(), f.maxClients());
                    formatIndex(b, f);
                }
                else
                {
                    blocks = RegionLayout.format(b, f.globalRegion(), region.length(), f.blockSize(),
                        f.indexAreaLength());
                    if (f.globalRegion() < f.indexRegions())
                    {
                        formatSubtables(b, f);
                    }
                }
            }
            catch (final IllegalArgumentException | IllegalStateException e)
            {
                throw new RpcException(RpcStatus.BAD_REQUEST, "cannot format region " + f.physicalRegion() + " of "
                    + service.name() + ": " + e.getMessage());
            }
            LOG.info("{}: region {} formatted as global region {} ({} blocks of {} bytes{})", service.name(),
                f.physicalRegion(), f.globalRegion(), blocks, f.blockSize(), f.root() ? ", index root" : "");
            return ByteBuffer.allocate(4).putInt(blocks).flip();
        }
    }

    /** The root, its directory of the initial 2^d subtables, and the root region's share of them. */
    private static void formatIndex(final AtomicBuffer b, final MemoryNodeRpc.FormatRegion f)
    {
        if (f.indexRegions() < 1)
        {
            throw new IllegalArgumentException("index regions " + f.indexRegions() + " must be at least 1");
        }
        IndexRoot.format(b, RegionLayout.ROOT_OFFSET, f.maxGlobalDepth(), f.bucketGroups(), f.initialGlobalDepth());
        final int length = Subtable.allocationLength(f.bucketGroups());
        for (int i = 0; i < 1 << f.initialGlobalDepth(); i++)
        {
            final long at = RegionLayout.initialSubtableOffset(i, f.indexRegions(), length, f.maxGlobalDepth(),
                f.maxClients());
            IndexRoot.putEntry(b, RegionLayout.ROOT_OFFSET, i, IndexRoot.entry(GlobalAddress.pack(
                RegionLayout.indexRegionOf(i, f.indexRegions()), (int)at), f.initialGlobalDepth(), false));
        }
        formatSubtables(b, f);
    }

    /**
     * Formats the initial subtables that belong to this index region, claimed from its index
     * area's bump pointer in the order of their number, which puts each where the root's
     * directory says ({@link RegionLayout#initialSubtableOffset}).
     */
    private static void formatSubtables(final AtomicBuffer b, final MemoryNodeRpc.FormatRegion f)
    {
        final int subtables = 1 << f.initialGlobalDepth();
        final int length = Subtable.allocationLength(f.bucketGroups());
        final long end = RegionLayout.INDEX_AREA_OFFSET + (long)f.indexAreaLength();
        for (int i = f.globalRegion(); i < subtables; i += f.indexRegions())
        {
            final long at = b.getAndAddLong(RegionLayout.INDEX_NEXT_FREE_OFFSET, length);
            if (at + length > end)
            {
                throw new IllegalArgumentException("the index area of " + f.indexAreaLength() + " bytes cannot hold "
                    + "its share of " + subtables + " subtables of " + length + " bytes");
            }
            if (at != RegionLayout.initialSubtableOffset(i, f.indexRegions(), length, f.maxGlobalDepth(),
                f.maxClients()))
            {
                throw new IllegalStateException("initial subtable " + i + " claimed at " + at + ", not where the"
                    + " directory points");
            }
            Subtable.format(b, (int)at, f.bucketGroups(), f.initialGlobalDepth(), i);
        }
    }
}
