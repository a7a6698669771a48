package io.dmkv.core.layout;

import org.agrona.DirectBuffer;

/**
 * A combined bucket: a main bucket and the overflow bucket it shares with its neighbour, 128
 * contiguous bytes that one READ fetches. Inside a subtable, bucket group g is laid out as
 * {@code [main 2g | overflow g | main 2g+1]} (see {@link Subtable}), so combined bucket c is:
 *
 * <pre>
 *   c even:  0                     64                    128
 *            +---------------------+---------------------+
 *            |   main bucket c     |  overflow bucket    |
 *            +---------------------+---------------------+
 *   c odd:   0                     64                    128
 *            +---------------------+---------------------+
 *            |  overflow bucket    |   main bucket c     |
 *            +---------------------+---------------------+
 * </pre>
 * Slot numbers 0..13 of a combined bucket are the main bucket's slots 0..6 then the overflow
 * bucket's slots 0..6, wherever the two sit in the 128 bytes. Methods take the buffer the
 * combined bucket was READ into and the offset it was read to; they allocate nothing.
 */
public final class CombinedBucket
{
    /** Bytes in a combined bucket (one READ). */
    public static final int LENGTH = 2 * Bucket.LENGTH;
    /** Slots in a combined bucket. */
    public static final int SLOT_COUNT = 2 * Bucket.SLOT_COUNT;

    private CombinedBucket()
    {
    }

    /** Offset of the main bucket inside combined bucket {@code c}. */
    public static int mainBucketOffset(final int c)
    {
        return (c & 1) == 0 ? 0 : Bucket.LENGTH;
    }

    /** Offset of the overflow bucket inside combined bucket {@code c}. */
    public static int overflowBucketOffset(final int c)
    {
        return (c & 1) == 0 ? Bucket.LENGTH : 0;
    }

    /** Offset of slot {@code i} (0..13) inside combined bucket {@code c}. */
    public static int slotOffset(final int c, final int i)
    {
        if (i < 0 || i >= SLOT_COUNT)
        {
            throw new IllegalArgumentException("combined bucket slot " + i + " is outside 0.." + (SLOT_COUNT - 1));
        }
        return i < Bucket.SLOT_COUNT
            ? mainBucketOffset(c) + Bucket.slotOffset(i)
            : overflowBucketOffset(c) + Bucket.slotOffset(i - Bucket.SLOT_COUNT);
    }

    /** Slot {@code i} of combined bucket {@code c} read into {@code buffer} at {@code offset}. */
    public static long slot(final DirectBuffer buffer, final int offset, final int c, final int i)
    {
        return buffer.getLong(offset + slotOffset(c, i));
    }

    /** Header word of the main bucket (local depth and suffix of the subtable). */
    public static long header(final DirectBuffer buffer, final int offset, final int c)
    {
        return Bucket.header(buffer, offset + mainBucketOffset(c));
    }

    /**
     * Bit i set for each slot i whose fingerprint is {@code fingerprint} (1..255): the slots whose
     * objects a SEARCH must read to compare keys.
     */
    public static int fingerprintMatches(final DirectBuffer buffer, final int offset, final int c,
        final int fingerprint)
    {
        int mask = 0;
        for (int i = 0; i < SLOT_COUNT; i++)
        {
            final long slot = slot(buffer, offset, c, i);
            if (!Slot.isEmpty(slot) && Slot.fingerprint(slot) == fingerprint)
            {
                mask |= 1 << i;
            }
        }
        return mask;
    }

    /**
     * Bit i set for each free slot i: empty, or a delete's tombstone (see {@link Slot#isFree}) of
     * a key the bucket's header covers. A tombstone whose key the subtable no longer covers was
     * stranded by a split; it is not free: the DELETE that left it takes it back
     * (docs/index-split.md).
     */
    public static int emptySlots(final DirectBuffer buffer, final int offset, final int c)
    {
        final long header = header(buffer, offset, c);
        int mask = 0;
        for (int i = 0; i < SLOT_COUNT; i++)
        {
            final long slot = slot(buffer, offset, c, i);
            if (Slot.isEmpty(slot) || (Slot.isFree(slot) && Bucket.covers(header, Slot.hashSuffix(slot))))
            {
                mask |= 1 << i;
            }
        }
        return mask;
    }
}
