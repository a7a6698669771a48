package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.hash.KeyHash;

/**
 * A RACE hashing bucket: 64 bytes (one cache line), an 8-byte header and 7 slots.
 *
 * <pre>
 *   0       1               4               8      16      24      32      40      48      56      64
 *   +-------+---------------+---------------+-------+-------+-------+-------+-------+-------+-------+
 *   | local | reserved (0)  | suffix (u32)  | slot0 | slot1 | slot2 | slot3 | slot4 | slot5 | slot6 |
 *   | depth |               |               |       |       |       |       |       |       |       |
 *   +-------+---------------+---------------+-------+-------+-------+-------+-------+-------+-------+
 *   |------------- header word -------------|
 * </pre>
 * Every bucket of a subtable carries the subtable's local depth d and suffix s (the low d bits
 * shared by the hashes of all keys in it). A client that found the subtable through a cached
 * (possibly stale) directory checks, after its bucket READ, that the low d bits of its key's
 * hash equal s; if not, the subtable has split since and the client re-reads the root. The
 * header is one 8-byte word ({@link #header(int, int)}), so a split changes it with one WRITE or
 * CAS. Fields are native (little-endian) order; slots are 8-byte aligned for CAS.
 */
public final class Bucket
{
    /** Bytes in a bucket. */
    public static final int LENGTH = 64;
    /** Offset of the header word. */
    public static final int HEADER_OFFSET = 0;
    /** Bytes in the header. */
    public static final int HEADER_LENGTH = 8;
    /** Offset of the local depth (u8). */
    public static final int LOCAL_DEPTH_OFFSET = 0;
    /** Offset of the suffix (u32). */
    public static final int SUFFIX_OFFSET = 4;
    /** Offset of slot 0. */
    public static final int SLOTS_OFFSET = HEADER_LENGTH;
    /** Slots per bucket. */
    public static final int SLOT_COUNT = 7;
    /** Largest local depth. */
    public static final int MAX_LOCAL_DEPTH = KeyHash.MAX_DEPTH;

    private Bucket()
    {
    }

    /** Offset of slot {@code i} (0..6) from the bucket's start. */
    public static int slotOffset(final int i)
    {
        if (i < 0 || i >= SLOT_COUNT)
        {
            throw new IllegalArgumentException("bucket slot " + i + " is outside 0.." + (SLOT_COUNT - 1));
        }
        return SLOTS_OFFSET + i * Slot.LENGTH;
    }

    /**
     * The header word for a subtable of local depth {@code localDepth} and suffix {@code suffix}.
     *
     * @throws IllegalArgumentException if the depth is outside 0..16 or the suffix has bits at or
     *                                  above the depth.
     */
    public static long header(final int localDepth, final int suffix)
    {
        if (localDepth < 0 || localDepth > MAX_LOCAL_DEPTH)
        {
            throw new IllegalArgumentException("local depth " + localDepth + " is outside 0.." + MAX_LOCAL_DEPTH);
        }
        if (suffix < 0 || suffix >= (1 << localDepth))
        {
            throw new IllegalArgumentException("suffix " + suffix + " does not fit local depth " + localDepth);
        }
        return ((long)suffix << 32) | localDepth;
    }

    /**
     * Header flag: the subtable is being split. Writers whose post-CAS check of the header sees it
     * re-apply their change after the split (docs/index-split.md).
     */
    public static final long FROZEN = 1L << 8;
    /** Header flag: an insert holds the bucket's insert lock (main buckets only). */
    public static final long INSERT_LOCKED = 1L << 9;
    /** Shift of the insert lock's owner client id (u16, bits 16..31). */
    public static final int LOCK_OWNER_SHIFT = 16;
    /**
     * Shift of the insert lock's sequence (6 bits, 10..15): a new value at every acquisition and
     * renewal, so a holder whose lease was taken over cannot mistake the new holder's lock for
     * its own, and a waiter sees a renewed lock as changed.
     */
    public static final int LOCK_SEQUENCE_SHIFT = 10;
    /** Mask of the lock sequence, before shifting. */
    public static final int LOCK_SEQUENCE_MASK = 0x3F;

    /** The header without flags and lock owner: just local depth and suffix. */
    public static long plain(final long header)
    {
        return header & ~0xFFFF_FF00L;
    }

    /** The insert lock's flag and owner bits of a header (0 if unlocked). */
    public static long lockBits(final long header)
    {
        return header & (INSERT_LOCKED | ((long)LOCK_SEQUENCE_MASK << LOCK_SEQUENCE_SHIFT)
            | (0xFFFFL << LOCK_OWNER_SHIFT));
    }

    public static boolean isFrozen(final long header)
    {
        return (header & FROZEN) != 0;
    }

    public static boolean isInsertLocked(final long header)
    {
        return (header & INSERT_LOCKED) != 0;
    }

    /** The header with the insert lock held by {@code clientId}. */
    public static long insertLocked(final long header, final int clientId)
    {
        return insertLocked(header, clientId, 0);
    }

    /** The header with the insert lock held by {@code clientId}, at lock sequence {@code sequence} (6 bits kept). */
    public static long insertLocked(final long header, final int clientId, final int sequence)
    {
        return plain(header) | INSERT_LOCKED | ((long)(sequence & LOCK_SEQUENCE_MASK) << LOCK_SEQUENCE_SHIFT)
            | ((long)(clientId & 0xFFFF) << LOCK_OWNER_SHIFT);
    }

    /** The lock sequence of a locked header. */
    public static int lockSequence(final long header)
    {
        return (int)(header >>> LOCK_SEQUENCE_SHIFT) & LOCK_SEQUENCE_MASK;
    }

    /** Client id holding the insert lock of a locked header. */
    public static int lockOwner(final long header)
    {
        return (int)(header >>> LOCK_OWNER_SHIFT) & 0xFFFF;
    }

    /** Local depth of a header word. */
    public static int localDepth(final long header)
    {
        return (int)header & 0xFF;
    }

    /** Suffix of a header word. */
    public static int suffix(final long header)
    {
        return (int)(header >>> 32);
    }

    /**
     * True if a key with hash {@code hash} belongs to the subtable whose header this is. A header
     * with a local depth above {@link #MAX_LOCAL_DEPTH} (damaged memory) covers nothing.
     */
    public static boolean covers(final long header, final long hash)
    {
        final int depth = localDepth(header);
        return depth <= MAX_LOCAL_DEPTH && KeyHash.suffix(hash, depth) == suffix(header);
    }

    /** The header word of the bucket at {@code bucketOffset}. */
    public static long header(final DirectBuffer buffer, final int bucketOffset)
    {
        return buffer.getLong(bucketOffset + HEADER_OFFSET);
    }

    /** Writes the header word of the bucket at {@code bucketOffset}. */
    public static void putHeader(final MutableDirectBuffer buffer, final int bucketOffset, final int localDepth,
        final int suffix)
    {
        buffer.putLong(bucketOffset + HEADER_OFFSET, header(localDepth, suffix));
    }

    /** Slot {@code i} of the bucket at {@code bucketOffset}. */
    public static long slot(final DirectBuffer buffer, final int bucketOffset, final int i)
    {
        return buffer.getLong(bucketOffset + slotOffset(i));
    }

    /** Writes slot {@code i} of the bucket at {@code bucketOffset}. */
    public static void putSlot(final MutableDirectBuffer buffer, final int bucketOffset, final int i, final long slot)
    {
        buffer.putLong(bucketOffset + slotOffset(i), slot);
    }
}
