package io.dmkv.computenode.alloc;

import java.util.ArrayList;
import java.util.List;

/**
 * Every block one client owns, as level 1 handed them out: added when a block arrives, read by
 * reclaim and close, emptied when close has left them for adoption. Thread-safe.
 */
final class OwnedBlocks
{
    private final List<OwnedBlock> blocks = new ArrayList<>();

    synchronized void add(final OwnedBlock block)
    {
        blocks.add(block);
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
    }
}
