package io.dmkv.core.layout;

import org.agrona.DirectBuffer;

/**
 * The block allocation table of a region: one 8-byte CAS-able entry per block, saying who owns
 * it. It sits after the region's header and index area ({@link RegionLayout}) and is replicated
 * with the region, so the owners of a failed node's blocks are known from any survivor.
 *
 * <pre>
 *   entry i at RegionLayout.batOffset + 8 * i, for block i of the region:
 *   63                         32 31        24 23        16 15                          0
 *   +----------------------------+------------+------------+-----------------------------+
 *   | generation (u32)           | state (u8) | size class | owner client id (u16)       |
 *   |                            |            | (u8)       | 0 = free                    |
 *   +----------------------------+------------+------------+-----------------------------+
 * </pre>
 *
 * <ul>
 *   <li><b>state</b>: {@link #FREE} (owner 0), {@link #OWNED}, or {@link #HANDED_OVER}: the
 *       owner closed and left the block, with its live objects and free bitmap, for a later
 *       client to adopt, so short-lived clients do not leak memory-node space.</li>
 *   <li><b>generation</b>: incremented (mod 2^32) each time the block gets a new owner, so a
 *       CAS computed from a stale read fails instead of undoing a newer claim (ABA).</li>
 * </ul>
 * Client ids are 1..65,535; 0 is "nobody". Entries are native (little-endian) order, 8-byte
 * aligned for CAS. Transitions are pure functions from the old entry to the new one, which the
 * caller CASes in.
 */
public final class BlockAllocationTable
{
    /** Bytes per entry. */
    public static final int ENTRY_LENGTH = 8;
    /** Client id meaning "nobody". */
    public static final int NO_CLIENT = 0;
    /** Largest client id. */
    public static final int MAX_CLIENT_ID = 0xFFFF;
    /** State of a block nobody holds. */
    public static final int FREE = 0;
    /** State of a block a live client allocates from. */
    public static final int OWNED = 1;
    /** State of a block its owner left for adoption when it closed. */
    public static final int HANDED_OVER = 2;

    private static final int SIZE_CLASS_SHIFT = 16;
    private static final int STATE_SHIFT = 24;
    private static final int GENERATION_SHIFT = 32;

    private BlockAllocationTable()
    {
    }

    /**
     * Checks a client id.
     *
     * @throws IllegalArgumentException unless it is in 1..65,535.
     */
    public static int validateClientId(final int clientId)
    {
        if (clientId < 1 || clientId > MAX_CLIENT_ID)
        {
            throw new IllegalArgumentException("client id " + clientId + " is outside 1.." + MAX_CLIENT_ID);
        }
        return clientId;
    }

    /** Bytes of the entries of {@code blockCount} blocks (before {@link RegionLayout} rounds it to a page). */
    public static long length(final int blockCount)
    {
        return (long)blockCount * ENTRY_LENGTH;
    }

    /** Offset of block {@code blockIndex}'s entry from the table's start. */
    public static int entryOffset(final int blockIndex)
    {
        if (blockIndex < 0)
        {
            throw new IllegalArgumentException("block index " + blockIndex + " is negative");
        }
        return blockIndex * ENTRY_LENGTH;
    }

    /**
     * Packs an entry.
     *
     * @throws IllegalArgumentException if the state is unknown, a FREE entry has an owner or
     *                                  another state has none, or the size class is out of range.
     */
    public static long entry(final int owner, final int sizeClass, final int state, final int generation)
    {
        if (state == FREE)
        {
            if (owner != NO_CLIENT || sizeClass != 0)
            {
                throw new IllegalArgumentException("a free block has no owner and size class 0, not owner " + owner
                    + " and size class " + sizeClass);
            }
        }
        else if (state == OWNED || state == HANDED_OVER)
        {
            validateClientId(owner);
            SizeClasses.units(sizeClass);
        }
        else
        {
            throw new IllegalArgumentException("block state " + state + " is not FREE (0), OWNED (1) or HANDED_OVER (2)");
        }
        return ((generation & 0xFFFF_FFFFL) << GENERATION_SHIFT) | ((long)state << STATE_SHIFT)
            | ((long)sizeClass << SIZE_CLASS_SHIFT) | owner;
    }

    /** Owner of an entry (0 if free). */
    public static int owner(final long entry)
    {
        return (int)entry & 0xFFFF;
    }

    /** Size class of an entry. */
    public static int sizeClass(final long entry)
    {
        return (int)(entry >>> SIZE_CLASS_SHIFT) & 0xFF;
    }

    /** State of an entry. */
    public static int state(final long entry)
    {
        return (int)(entry >>> STATE_SHIFT) & 0xFF;
    }

    /** Generation of an entry. */
    public static int generation(final long entry)
    {
        return (int)(entry >>> GENERATION_SHIFT);
    }

    /** True if nobody holds the block. */
    public static boolean isFree(final long entry)
    {
        return owner(entry) == NO_CLIENT;
    }

    /** The entry after {@code owner} claims the free block for {@code sizeClass}. */
    public static long claimed(final long entry, final int owner, final int sizeClass)
    {
        requireState(entry, FREE, "claim");
        return entry(owner, sizeClass, OWNED, generation(entry) + 1);
    }

    /** The entry after its owner leaves the block for adoption. */
    public static long handedOver(final long entry)
    {
        requireState(entry, OWNED, "hand over");
        return entry(owner(entry), sizeClass(entry), HANDED_OVER, generation(entry));
    }

    /** The entry after {@code newOwner} adopts a handed-over block, keeping its size class. */
    public static long adopted(final long entry, final int newOwner)
    {
        requireState(entry, HANDED_OVER, "adopt");
        return entry(newOwner, sizeClass(entry), OWNED, generation(entry) + 1);
    }

    /** The entry after the block is returned to the memory node (all its objects are free). */
    public static long released(final long entry)
    {
        return entry(NO_CLIENT, 0, FREE, generation(entry));
    }

    /**
     * The later of two states of one block's entry: the higher generation (compared as a sequence
     * that wraps); at one generation, the one that is not OWNED (a claim comes before its release
     * or hand-over).
     */
    public static long newer(final long a, final long b)
    {
        final int ga = generation(a);
        final int gb = generation(b);
        if (ga != gb)
        {
            return ga - gb > 0 ? a : b;
        }
        final boolean aOwned = state(a) == OWNED;
        final boolean bOwned = state(b) == OWNED;
        return aOwned && !bOwned ? b : a;
    }

    /** True if {@code a} is a strictly earlier state of the block than {@code b}. */
    public static boolean isBefore(final long a, final long b)
    {
        return a != b && newer(a, b) == b;
    }

    /** Entry of block {@code blockIndex} in a table read into {@code buffer} at {@code tableOffset}. */
    public static long entry(final DirectBuffer buffer, final int tableOffset, final int blockIndex)
    {
        return buffer.getLong(tableOffset + entryOffset(blockIndex));
    }

    /** Human-readable form for messages and logs. */
    public static String toString(final long entry)
    {
        final String state = state(entry) == FREE ? "FREE" : state(entry) == OWNED ? "OWNED"
            : state(entry) == HANDED_OVER ? "HANDED_OVER" : "state#" + state(entry);
        return "block{" + state + ", owner=" + owner(entry) + ", class=" + sizeClass(entry) + ", gen="
            + Integer.toUnsignedString(generation(entry)) + "}";
    }

    private static void requireState(final long entry, final int state, final String action)
    {
        if (state(entry) != state)
        {
            throw new IllegalStateException("cannot " + action + " " + toString(entry));
        }
    }
}
