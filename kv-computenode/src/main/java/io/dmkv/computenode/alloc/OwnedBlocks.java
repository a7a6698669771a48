package io.dmkv.computenode.alloc;

import java.util.ArrayList;
import java.util.List;

import org.agrona.collections.Long2ObjectHashMap;

/**
 * Every block one client owns, as level 1 handed them out: added when a block arrives, read by
 * reclaim and close, emptied when close has left them for adoption. Thread-safe.
 */
final class OwnedBlocks
{
    private final List<OwnedBlock> blocks = new ArrayList<>();

    private final Long2ObjectHashMap<OwnedBlock> byPlace = new Long2ObjectHashMap<>();

    synchronized void add(final OwnedBlock block)
    {
        blocks.add(block);
        byPlace.put(place(block.region, block.blockIndex), block);
    }

    /** The owned block at index {@code blockIndex} of region {@code region}, or null. */
    synchronized OwnedBlock find(final int region, final int blockIndex)
    {
        return byPlace.get(place(region, blockIndex));
    }

    private static long place(final int region, final int blockIndex)
    {
        return ((long)region << 32) | (blockIndex & 0xFFFF_FFFFL);
    }

    /** The blocks owned now. */
    synchronized OwnedBlock[] snapshot()
    {
        return blocks.toArray(new OwnedBlock[0]);
    }

    /** Forgets every block (they were handed over or released). */
    synchronized void clear()
    {
        blocks.clear();
        byPlace.clear();
    }
}
