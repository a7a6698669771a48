package io.dmkv.memnode;

import java.util.Map;
import java.util.TreeMap;

import org.agrona.concurrent.AtomicBuffer;

import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;

/**
 * What a memory node's blocks are doing, from its regions' allocation tables: free, handed over
 * (with live objects, for a later client to adopt) and owned, by which client. Regions not
 * formatted yet count as free bytes without blocks.
 *
 * @param bytes           the node's memory.
 * @param blockSize       bytes of one block (0 before any region is formatted).
 * @param blocks          blocks of the formatted regions.
 * @param free            blocks free.
 * @param handedOver      blocks handed over.
 * @param ownedPerClient  blocks owned, per client id (in id order).
 * @param unformattedBytes bytes of regions not formatted yet.
 */
public record BlockUsage(long bytes, int blockSize, int blocks, int free, int handedOver,
    Map<Integer, Integer> ownedPerClient, long unformattedBytes)
{
    /** Scans every region of {@code service}. */
    public static BlockUsage of(final MemoryNodeService service)
    {
        BlockUsage sum = new BlockUsage(0, 0, 0, 0, 0, Map.of(), 0);
        for (final MemoryRegion r : service.regions().regions())
        {
            sum = sum.plus(ofRegion(r.buffer(), r.length()));
        }
        return sum;
    }

    /** Scans one region of {@code length} bytes. */
    static BlockUsage ofRegion(final AtomicBuffer b, final long length)
    {
        if (!RegionLayout.isFormatted(b))
        {
            return new BlockUsage(length, 0, 0, 0, 0, Map.of(), length);
        }
        final int count = RegionLayout.blockCount(b);
        final int bat = RegionLayout.batOffset(b);
        int free = 0;
        int handedOver = 0;
        final Map<Integer, Integer> owned = new TreeMap<>();
        for (int i = 0; i < count; i++)
        {
            final long e = b.getLongVolatile(bat + BlockAllocationTable.entryOffset(i));
            switch (BlockAllocationTable.state(e))
            {
                case BlockAllocationTable.FREE -> free++;
                case BlockAllocationTable.HANDED_OVER -> handedOver++;
                case BlockAllocationTable.OWNED -> owned.merge(BlockAllocationTable.owner(e), 1, Integer::sum);
                default ->
                {
                }
            }
        }
        return new BlockUsage(length, RegionLayout.blockSize(b), count, free, handedOver, owned, 0);
    }

    private BlockUsage plus(final BlockUsage o)
    {
        final Map<Integer, Integer> owned = new TreeMap<>(ownedPerClient);
        o.ownedPerClient.forEach((client, n) -> owned.merge(client, n, Integer::sum));
        return new BlockUsage(bytes + o.bytes, Math.max(blockSize, o.blockSize), blocks + o.blocks, free + o.free,
            handedOver + o.handedOver, owned, unformattedBytes + o.unformattedBytes);
    }

    /** Blocks owned by any client. */
    public int owned()
    {
        return ownedPerClient.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Bytes in free blocks and unformatted regions. */
    public long freeBytes()
    {
        return (long)free * blockSize + unformattedBytes;
    }

    /** Bytes in blocks clients own or handed over. */
    public long heldBytes()
    {
        return (long)(owned() + handedOver) * blockSize;
    }
}
