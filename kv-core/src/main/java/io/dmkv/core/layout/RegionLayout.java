package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.address.GlobalAddress;

/**
 * How a region (at most 1 GiB, replicated on r memory nodes by the region map) is carved:
 *
 * <pre>
 *   0          4 KiB                       batOffset                firstBlockOffset          regionSize
 *   +----------+---------------------------+------------------------+-------+-------+----+-----+
 *   | region   | index area                | block allocation table | block | block | .. |slack|
 *   | header   | (index regions only;      | 8 B per block,         |   0   |   1   |    |     |
 *   |          |  root region: root, log   | rounded up to 4 KiB    |       |       |    |     |
 *   |          |  heads, then subtables)   |                        |       |       |    |     |
 *   +----------+---------------------------+------------------------+-------+-------+----+-----+
 *
 *   region header (first 56 of its 4,096 bytes used):
 *   0                    8           12          16          20          24          28
 *   +--------------------+-----------+-----------+-----------+-----------+-----------+
 *   | magic "DMKVRGN1"   | layout    | region id | region    | block     | block     |
 *   | (u64, written last)| version   |           | size      | size      | count     |
 *   +--------------------+-----------+-----------+-----------+-----------+-----------+
 *   28          32          36          40                     48          52          56
 *   +-----------+-----------+-----------+----------------------+-----------+-----------+
 *   | index     | BAT       | first     | index next free      | log heads | max       |
 *   | area len  | offset    | block off | (u64, FAA)           | offset    | clients   |
 *   +-----------+-----------+-----------+----------------------+-----------+-----------+
 *   all u32 unless marked; native (little-endian) order
 * </pre>
 *
 * <ul>
 *   <li><b>Region header</b> at offset 0, so no object ever has offset 0 and global address 0
 *       stays free to mean "null". It records every derived offset so a client learns the
 *       carving with one READ and never recomputes it from configuration.</li>
 *   <li><b>Index area</b>: subtables are claimed from it by an FAA of their length (rounded to
 *       256 bytes, {@link Subtable}) on the primary replica's {@code index next free} word; the
 *       claimant then writes the subtable to every replica. In the root region (region
 *       {@value #ROOT_REGION_ID}) it starts with the {@link IndexRoot} and the
 *       {@link ClientLogHeads}, each rounded up to 4 KiB.</li>
 *   <li><b>Block allocation table</b> ({@link BlockAllocationTable}) then <b>blocks</b>, 4 KiB
 *       aligned (not block-size aligned, which could waste a whole 64 MiB block per region).
 *       Blocks are handed out by the ALLOC RPC; each starts with a {@link BlockHeader}.</li>
 * </ul>
 */
public final class RegionLayout
{
    /** Alignment of every area. */
    public static final int PAGE = 4096;
    /** Bytes reserved for the region header. */
    public static final int HEADER_LENGTH = PAGE;
    /** Offset of the index area. */
    public static final int INDEX_AREA_OFFSET = HEADER_LENGTH;
    /** Id of the region holding the index root and the client log heads. */
    public static final int ROOT_REGION_ID = 0;
    /** Offset of the {@link IndexRoot} in the root region. */
    public static final int ROOT_OFFSET = INDEX_AREA_OFFSET;
    /** Smallest region: 16 KiB (tests). */
    public static final int MIN_REGION_SIZE = 4 * PAGE;
    /** Largest region: 1 GiB, so offsets fit an int. */
    public static final int MAX_REGION_SIZE = (int)GlobalAddress.MAX_REGION_SIZE;
    /** Magic of a formatted region: the bytes "DMKVRGN1". */
    public static final long MAGIC = 0x314E_4752_564B_4D44L;

    /** Header field: magic (u64). */
    public static final int MAGIC_OFFSET = 0;
    /** Header field: layout version (u32). */
    public static final int LAYOUT_VERSION_OFFSET = 8;
    /** Header field: region id (u32). */
    public static final int REGION_ID_OFFSET = 12;
    /** Header field: region size (u32). */
    public static final int REGION_SIZE_OFFSET = 16;
    /** Header field: block size (u32). */
    public static final int BLOCK_SIZE_OFFSET = 20;
    /** Header field: block count (u32). */
    public static final int BLOCK_COUNT_OFFSET = 24;
    /** Header field: index area length (u32). */
    public static final int INDEX_AREA_LENGTH_OFFSET = 28;
    /** Header field: offset of the block allocation table (u32). */
    public static final int BAT_OFFSET_OFFSET = 32;
    /** Header field: offset of block 0 (u32). */
    public static final int FIRST_BLOCK_OFFSET_OFFSET = 36;
    /** Header field: first unclaimed byte of the index area (u64, advanced by FAA). */
    public static final int INDEX_NEXT_FREE_OFFSET = 40;
    /** Header field: offset of the client log heads (u32; root region only, else 0). */
    public static final int CLIENT_LOG_HEADS_OFFSET_OFFSET = 48;
    /** Header field: client ids the log-head table holds (u32; root region only, else 0). */
    public static final int MAX_CLIENTS_OFFSET = 52;
    /** Bytes of the header that carry fields. */
    public static final int HEADER_FIELDS_LENGTH = 56;

    private RegionLayout()
    {
    }

    /**
     * Checks a region size.
     *
     * @throws IllegalArgumentException unless it is a multiple of 4 KiB in 16 KiB..1 GiB.
     */
    public static int validateRegionSize(final long regionSize)
    {
        if (regionSize < MIN_REGION_SIZE || regionSize > MAX_REGION_SIZE || regionSize % PAGE != 0)
        {
            throw new IllegalArgumentException("region size " + regionSize + " must be a multiple of " + PAGE
                + " from " + MIN_REGION_SIZE + " (16 KiB) to " + MAX_REGION_SIZE + " (1 GiB)");
        }
        return (int)regionSize;
    }

    /** {@code value} rounded up to a multiple of {@link #PAGE}. */
    public static long pageAlign(final long value)
    {
        return (value + PAGE - 1) & -PAGE;
    }

    /** Offset of the block allocation table in a region with an index area of this length. */
    public static int batOffset(final int indexAreaLength)
    {
        return HEADER_LENGTH + indexAreaLength;
    }

    /** Bytes the block allocation table of {@code blockCount} blocks takes, page aligned. */
    public static int batLength(final int blockCount)
    {
        return (int)pageAlign(BlockAllocationTable.length(blockCount));
    }

    /**
     * Most blocks that fit after the header, the index area and their own allocation table.
     *
     * @throws IllegalArgumentException if a size is invalid or the index area leaves no room.
     */
    public static int blockCount(final int regionSize, final int blockSize, final int indexAreaLength)
    {
        validateRegionSize(regionSize);
        BlockHeader.validateBlockSize(blockSize);
        validateIndexAreaLength(regionSize, indexAreaLength);
        final long fixed = batOffset(indexAreaLength);
        int n = (int)((regionSize - fixed) / blockSize);
        while (n > 0 && fixed + batLength(n) + (long)n * blockSize > regionSize)
        {
            n--;
        }
        return n;
    }

    /** Offset of block 0. */
    public static int firstBlockOffset(final int indexAreaLength, final int blockCount)
    {
        return batOffset(indexAreaLength) + batLength(blockCount);
    }

    /** Offset of block {@code blockIndex} given the header's first block offset and block size. */
    public static int blockOffset(final int firstBlockOffset, final int blockSize, final int blockIndex)
    {
        return firstBlockOffset + blockIndex * blockSize;
    }

    /** Index of the block holding region offset {@code regionOffset}, or -1 if it is in no block. */
    public static int blockIndexOf(final int firstBlockOffset, final int blockSize, final int blockCount,
        final int regionOffset)
    {
        if (regionOffset < firstBlockOffset)
        {
            return -1;
        }
        final int index = (regionOffset - firstBlockOffset) / blockSize;
        return index < blockCount ? index : -1;
    }

    /** Offset of the client log heads in the root region. */
    public static int clientLogHeadsOffset(final int maxGlobalDepth)
    {
        return ROOT_OFFSET + (int)pageAlign(IndexRoot.length(maxGlobalDepth));
    }

    /** Bytes the root and the client log heads take at the start of the root region's index area. */
    public static int rootAreaLength(final int maxGlobalDepth, final int maxClients)
    {
        return (int)(pageAlign(IndexRoot.length(maxGlobalDepth)) + pageAlign(ClientLogHeads.length(maxClients)));
    }

    /**
     * Formats a data or index region: zeroes its block allocation table and writes its header,
     * magic last. Blocks and the index area are left as they are.
     *
     * @return the block count.
     */
    public static int format(final MutableDirectBuffer region, final int regionId, final int regionSize,
        final int blockSize, final int indexAreaLength)
    {
        if (regionId == ROOT_REGION_ID)
        {
            throw new IllegalArgumentException("region " + ROOT_REGION_ID + " holds the index root: use formatRoot");
        }
        return write(region, regionId, regionSize, blockSize, indexAreaLength, INDEX_AREA_OFFSET, 0, 0, regionSize);
    }

    /**
     * The head of a data-only region (no index area): its header and zeroed block allocation table,
     * written into {@code head}, which stands for the region's first {@link #dataRegionHeadLength}
     * bytes. A region added for capacity is formatted by writing these bytes to each of its replicas
     * (docs/recovery.md, "Growing capacity"); its blocks' old bytes do not matter, as a block's
     * header is written when the block is claimed.
     *
     * @return the block count.
     * @throws IllegalArgumentException if a size is invalid or {@code head} is too small.
     */
    public static int formatDataRegionHead(final MutableDirectBuffer head, final int regionId, final int regionSize,
        final int blockSize)
    {
        if (regionId == ROOT_REGION_ID)
        {
            throw new IllegalArgumentException("region " + ROOT_REGION_ID + " holds the index root: use formatRoot");
        }
        return write(head, regionId, regionSize, blockSize, 0, INDEX_AREA_OFFSET, 0, 0,
            dataRegionHeadLength(regionSize, blockSize));
    }

    /** Bytes {@link #formatDataRegionHead} writes: the header page and the block allocation table. */
    public static int dataRegionHeadLength(final int regionSize, final int blockSize)
    {
        return firstBlockOffset(0, blockCount(regionSize, blockSize, 0));
    }

    /**
     * Formats the root region: as {@link #format}, with room for an index root of
     * {@code maxGlobalDepth} and log heads for {@code maxClients} clients at the start of the
     * index area (zeroed here; {@link IndexRoot#format} fills the root).
     *
     * @return the block count.
     */
    public static int formatRoot(final MutableDirectBuffer region, final int regionSize, final int blockSize,
        final int indexAreaLength, final int maxGlobalDepth, final int maxClients)
    {
        // Every size is checked before the first byte is written (a bad request must not touch memory).
        blockCount(regionSize, blockSize, indexAreaLength);
        ClientLogHeads.validateMaxClients(maxClients);
        final int rootArea = rootAreaLength(maxGlobalDepth, maxClients);
        if (indexAreaLength < rootArea)
        {
            throw new IllegalArgumentException("the root region's index area of " + indexAreaLength
                + " bytes is smaller than the " + rootArea + " bytes its root (max global depth " + maxGlobalDepth
                + ") and log heads (" + maxClients + " clients) need");
        }
        region.boundsCheck(INDEX_AREA_OFFSET, rootArea);
        region.setMemory(INDEX_AREA_OFFSET, rootArea, (byte)0);
        return write(region, ROOT_REGION_ID, regionSize, blockSize, indexAreaLength, INDEX_AREA_OFFSET + rootArea,
            clientLogHeadsOffset(maxGlobalDepth), maxClients, regionSize);
    }

    /**
     * How many global regions have an index area: one per memory node, at most one per region.
     * Regions 0..k-1 have primaries on k different nodes ({@link io.dmkv.core.address.RegionMap#place}),
     * so subtables spread over them spread the bucket READs, which go to primaries only.
     */
    public static int indexRegions(final int regions, final int memoryNodes)
    {
        return Math.max(1, Math.min(regions, memoryNodes));
    }

    /** The index region of subtable {@code i} of the initial directory (and of a split's new half): i mod k. */
    public static int indexRegionOf(final int subtable, final int indexRegions)
    {
        return subtable % indexRegions;
    }

    /**
     * Offset of initial subtable {@code i} in its index region ({@link #indexRegionOf}): the
     * subtables of one region follow each other from the start of its free index area (after the
     * root and log heads in the root region), in the order of i.
     */
    public static long initialSubtableOffset(final int i, final int indexRegions, final int subtableLength,
        final int maxGlobalDepth, final int maxClients)
    {
        final long start = indexRegionOf(i, indexRegions) == ROOT_REGION_ID
            ? INDEX_AREA_OFFSET + rootAreaLength(maxGlobalDepth, maxClients) : INDEX_AREA_OFFSET;
        return start + (long)(i / indexRegions) * subtableLength;
    }

    /** True if the buffer starts with a region header's magic. */
    public static boolean isFormatted(final DirectBuffer header)
    {
        return header.capacity() >= HEADER_FIELDS_LENGTH && header.getLong(MAGIC_OFFSET) == MAGIC;
    }

    /**
     * Checks a region header READ from a memory node against what the reader expects and against
     * itself, so a client never trusts offsets from foreign or damaged memory.
     *
     * @throws IllegalStateException naming the first inconsistency.
     */
    public static void validateHeader(final DirectBuffer header, final int expectedRegionId)
    {
        LayoutVersion.requireLittleEndianHost();
        if (!isFormatted(header))
        {
            throw new IllegalStateException("region " + expectedRegionId + " is not formatted (no region header magic)");
        }
        final int version = layoutVersion(header);
        if (version != LayoutVersion.VERSION)
        {
            throw new IllegalStateException(LayoutVersion.mismatch("region " + expectedRegionId, version));
        }
        if (regionId(header) != expectedRegionId)
        {
            throw new IllegalStateException("region " + expectedRegionId + " carries the header of region "
                + regionId(header));
        }
        final int expectedCount;
        try
        {
            expectedCount = blockCount(regionSize(header), blockSize(header), indexAreaLength(header));
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalStateException("region " + expectedRegionId + " has an invalid header: " + e.getMessage(), e);
        }
        if (blockCount(header) != expectedCount || batOffset(header) != batOffset(indexAreaLength(header))
            || firstBlockOffset(header) != firstBlockOffset(indexAreaLength(header), expectedCount))
        {
            throw new IllegalStateException("region " + expectedRegionId + " has an inconsistent header: "
                + blockCount(header) + " blocks from offset " + firstBlockOffset(header) + ", expected " + expectedCount
                + " from " + firstBlockOffset(indexAreaLength(header), expectedCount));
        }
    }

    /** Layout version in a region header. */
    public static int layoutVersion(final DirectBuffer header)
    {
        return header.getInt(LAYOUT_VERSION_OFFSET);
    }

    /** Region id in a region header. */
    public static int regionId(final DirectBuffer header)
    {
        return header.getInt(REGION_ID_OFFSET);
    }

    /** Region size in a region header. */
    public static int regionSize(final DirectBuffer header)
    {
        return header.getInt(REGION_SIZE_OFFSET);
    }

    /** Block size in a region header. */
    public static int blockSize(final DirectBuffer header)
    {
        return header.getInt(BLOCK_SIZE_OFFSET);
    }

    /** Block count in a region header. */
    public static int blockCount(final DirectBuffer header)
    {
        return header.getInt(BLOCK_COUNT_OFFSET);
    }

    /** Index area length in a region header. */
    public static int indexAreaLength(final DirectBuffer header)
    {
        return header.getInt(INDEX_AREA_LENGTH_OFFSET);
    }

    /** Offset of the block allocation table in a region header. */
    public static int batOffset(final DirectBuffer header)
    {
        return header.getInt(BAT_OFFSET_OFFSET);
    }

    /** Offset of block 0 in a region header. */
    public static int firstBlockOffset(final DirectBuffer header)
    {
        return header.getInt(FIRST_BLOCK_OFFSET_OFFSET);
    }

    /** First unclaimed byte of the index area, as last read. */
    public static long indexNextFree(final DirectBuffer header)
    {
        return header.getLong(INDEX_NEXT_FREE_OFFSET);
    }

    /** Offset of the client log heads (root region only, else 0). */
    public static int clientLogHeadsOffset(final DirectBuffer header)
    {
        return header.getInt(CLIENT_LOG_HEADS_OFFSET_OFFSET);
    }

    /** Client ids the log-head table holds (root region only, else 0). */
    public static int maxClients(final DirectBuffer header)
    {
        return header.getInt(MAX_CLIENTS_OFFSET);
    }

    private static void validateIndexAreaLength(final int regionSize, final int indexAreaLength)
    {
        if (indexAreaLength < 0 || indexAreaLength % PAGE != 0 || indexAreaLength > regionSize - HEADER_LENGTH)
        {
            throw new IllegalArgumentException("index area length " + indexAreaLength + " must be a multiple of "
                + PAGE + " from 0 to " + (regionSize - HEADER_LENGTH) + " (the region less its header)");
        }
    }

    private static int write(final MutableDirectBuffer region, final int regionId, final int regionSize,
        final int blockSize, final int indexAreaLength, final long indexNextFree, final int logHeadsOffset,
        final int maxClients, final int capacityNeeded)
    {
        LayoutVersion.requireLittleEndianHost();
        if (regionId < 0 || regionId >= GlobalAddress.MAX_REGIONS)
        {
            throw new IllegalArgumentException("region id " + regionId + " is outside 0.." + (GlobalAddress.MAX_REGIONS - 1));
        }
        final int blocks = blockCount(regionSize, blockSize, indexAreaLength);
        if (region.capacity() < capacityNeeded)
        {
            throw new IllegalArgumentException("buffer of " + region.capacity() + " bytes cannot hold "
                + (capacityNeeded == regionSize ? "a region of " + regionSize : "the " + capacityNeeded
                + "-byte head of a region of " + regionSize));
        }
        final int bat = batOffset(indexAreaLength);
        // Only the header fields: the rest of the page holds the cluster descriptor and scratch space.
        region.setMemory(0, HEADER_FIELDS_LENGTH, (byte)0);
        region.setMemory(bat, batLength(blocks), (byte)0);
        region.putInt(LAYOUT_VERSION_OFFSET, LayoutVersion.VERSION);
        region.putInt(REGION_ID_OFFSET, regionId);
        region.putInt(REGION_SIZE_OFFSET, regionSize);
        region.putInt(BLOCK_SIZE_OFFSET, blockSize);
        region.putInt(BLOCK_COUNT_OFFSET, blocks);
        region.putInt(INDEX_AREA_LENGTH_OFFSET, indexAreaLength);
        region.putInt(BAT_OFFSET_OFFSET, bat);
        region.putInt(FIRST_BLOCK_OFFSET_OFFSET, firstBlockOffset(indexAreaLength, blocks));
        region.putLong(INDEX_NEXT_FREE_OFFSET, indexNextFree);
        region.putInt(CLIENT_LOG_HEADS_OFFSET_OFFSET, logHeadsOffset);
        region.putInt(MAX_CLIENTS_OFFSET, maxClients);
        region.putLong(MAGIC_OFFSET, MAGIC);
        return blocks;
    }
}
