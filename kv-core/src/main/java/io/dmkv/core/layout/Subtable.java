package io.dmkv.core.layout;

import org.agrona.MutableDirectBuffer;

import io.dmkv.core.hash.KeyHash;

/**
 * A RACE hashing subtable: {@code G} bucket groups of three buckets, each group a main bucket,
 * the overflow bucket its two main buckets share, and a second main bucket.
 *
 * <pre>
 *   group g at g * 192:
 *   0                    64                   128                  192
 *   +--------------------+--------------------+--------------------+
 *   |  main bucket 2g    | overflow bucket g  |  main bucket 2g+1  |
 *   +--------------------+--------------------+--------------------+
 *   |-- combined bucket 2g -------------------|
 *                        |------------------- combined bucket 2g+1 --|
 * </pre>
 * The subtable has 3G buckets, 2G main buckets (the <i>combined buckets</i> a key can choose),
 * 21G slots and {@code 192 * G} bytes. A key picks its subtable by the low bits of its hash and
 * then two combined buckets {@code KeyHash.combinedBucket1/2(hash, 2G)}, in different groups;
 * SEARCH reads both (256 bytes, two READs in one batch) and an INSERT takes a free slot in the
 * emptier one.
 *
 * <p>Every bucket header holds the subtable's local depth and suffix ({@link Bucket}). A split of
 * a subtable of depth d and suffix s creates a subtable with suffix s | 1 &lt;&lt; d and sets both
 * to depth d + 1. Because bucket choices do not depend on the subtable bits, a key that moves
 * keeps its combined bucket and slot position: a split copies the subtable and then clears, in
 * each copy, the slots whose keys belong to the other.
 *
 * <p>{@code G} is a parameter so tests can use tiny subtables that split often;
 * {@link #DEFAULT_BUCKET_GROUPS} is the production default. FUSEE uses 17,000 groups (34,000
 * addressable buckets) and never splits.
 */
public final class Subtable
{
    /** Bytes in a bucket group. */
    public static final int BUCKET_GROUP_LENGTH = 3 * Bucket.LENGTH;
    /** Offset of the overflow bucket in its group. */
    public static final int OVERFLOW_OFFSET_IN_GROUP = Bucket.LENGTH;
    /** Default bucket groups: a 768 KiB subtable of 86,016 slots. */
    public static final int DEFAULT_BUCKET_GROUPS = 4096;
    /** Fewest bucket groups (tests). */
    public static final int MIN_BUCKET_GROUPS = 1;
    /** Most bucket groups: a 768 MiB subtable, which still fits a 1 GiB region. */
    public static final int MAX_BUCKET_GROUPS = 1 << 22;

    private Subtable()
    {
    }

    /**
     * Checks a bucket-group count.
     *
     * @throws IllegalArgumentException if outside 1..4,194,304.
     */
    public static int validateBucketGroups(final int bucketGroups)
    {
        if (bucketGroups < MIN_BUCKET_GROUPS || bucketGroups > MAX_BUCKET_GROUPS)
        {
            throw new IllegalArgumentException("bucket groups per subtable " + bucketGroups + " is outside "
                + MIN_BUCKET_GROUPS + ".." + MAX_BUCKET_GROUPS);
        }
        return bucketGroups;
    }

    /** Bytes in a subtable of {@code bucketGroups} groups. */
    public static int length(final int bucketGroups)
    {
        return validateBucketGroups(bucketGroups) * BUCKET_GROUP_LENGTH;
    }

    /**
     * Bytes to claim from an index area for one subtable: its length rounded up to 256, so the
     * next subtable claimed after it is 256-byte aligned too (a directory entry requires it).
     */
    public static int allocationLength(final int bucketGroups)
    {
        return (length(bucketGroups) + Slot.ALIGNMENT - 1) & -Slot.ALIGNMENT;
    }

    /** Combined buckets (main buckets) a key can choose from: 2G. */
    public static int combinedBuckets(final int bucketGroups)
    {
        return 2 * validateBucketGroups(bucketGroups);
    }

    /** Buckets in the subtable: 3G. */
    public static int bucketCount(final int bucketGroups)
    {
        return 3 * validateBucketGroups(bucketGroups);
    }

    /** Slots in the subtable: 21G. */
    public static int slotCount(final int bucketGroups)
    {
        return bucketCount(bucketGroups) * Bucket.SLOT_COUNT;
    }

    /** Offset of the 128 bytes to READ for combined bucket {@code c}. */
    public static int combinedBucketOffset(final int c)
    {
        checkCombinedBucket(c);
        return (c >>> 1) * BUCKET_GROUP_LENGTH + (c & 1) * Bucket.LENGTH;
    }

    /** Offset of main bucket {@code c}. */
    public static int mainBucketOffset(final int c)
    {
        checkCombinedBucket(c);
        return (c >>> 1) * BUCKET_GROUP_LENGTH + (c & 1) * 2 * Bucket.LENGTH;
    }

    /** Offset of the overflow bucket of combined bucket {@code c}. */
    public static int overflowBucketOffset(final int c)
    {
        checkCombinedBucket(c);
        return (c >>> 1) * BUCKET_GROUP_LENGTH + OVERFLOW_OFFSET_IN_GROUP;
    }

    /** Offset from the subtable's start of slot {@code i} (0..13) of combined bucket {@code c}: what a CAS targets. */
    public static int slotOffset(final int c, final int i)
    {
        return combinedBucketOffset(c) + CombinedBucket.slotOffset(c, i);
    }

    /**
     * Where inside combined bucket {@code c}'s 128 bytes the slot at {@code offset} from the
     * subtable's start lies: {@link CombinedBucket#slotOffset} of the slot {@link #slotOffset}
     * puts there, or -1 if no slot of {@code c} is at that offset (outside its 128 bytes, on a
     * header, or not on a slot's first byte). Arithmetic only, no loop over the slots: it sits on
     * every search's path, where a loop's speculation cost the compiled search a recompilation.
     */
    public static int slotInCombinedBucket(final int c, final long offset)
    {
        final long rel = offset - combinedBucketOffset(c);
        if (rel < 0 || rel >= CombinedBucket.LENGTH || (rel & (Slot.LENGTH - 1)) != 0
            || (rel & (Bucket.LENGTH - 1)) < Bucket.SLOTS_OFFSET)
        {
            return -1;
        }
        return (int) rel;
    }

    /** First candidate combined bucket of a key in a subtable of {@code bucketGroups} groups. */
    public static int combinedBucket1(final long hash, final int bucketGroups)
    {
        return KeyHash.combinedBucket1(hash, combinedBuckets(bucketGroups));
    }

    /** Second candidate combined bucket of a key in a subtable of {@code bucketGroups} groups. */
    public static int combinedBucket2(final long hash, final int bucketGroups)
    {
        return KeyHash.combinedBucket2(hash, combinedBuckets(bucketGroups));
    }

    /**
     * Lays out an empty subtable at {@code offset}: all slots empty, every bucket header set to
     * {@code localDepth} and {@code suffix}.
     */
    public static void format(final MutableDirectBuffer buffer, final int offset, final int bucketGroups,
        final int localDepth, final int suffix)
    {
        final int length = length(bucketGroups);
        final long header = Bucket.header(localDepth, suffix);
        buffer.boundsCheck(offset, length);
        buffer.setMemory(offset, length, (byte)0);
        for (int b = 0; b < 3 * bucketGroups; b++)
        {
            buffer.putLong(offset + b * Bucket.LENGTH + Bucket.HEADER_OFFSET, header);
        }
    }

    private static void checkCombinedBucket(final int c)
    {
        if (c < 0 || c >= 2 * MAX_BUCKET_GROUPS)
        {
            throw new IllegalArgumentException("combined bucket " + c + " is outside 0.." + (2 * MAX_BUCKET_GROUPS - 1));
        }
    }
}
