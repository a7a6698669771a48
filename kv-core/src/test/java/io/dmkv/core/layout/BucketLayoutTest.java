package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.dmkv.core.address.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Bucket, CombinedBucket and Subtable: how RACE hashing's buckets sit in memory. */
class BucketLayoutTest
{
    private static final long OBJECT = GlobalAddress.pack(2, 8192);

    @Test
    void bucketIsOneCacheLineOfHeaderAndSevenAlignedSlots()
    {
        assertEquals(64, Bucket.LENGTH);
        assertEquals(Bucket.LENGTH, Bucket.HEADER_LENGTH + Bucket.SLOT_COUNT * Slot.LENGTH);
        for (int i = 0; i < Bucket.SLOT_COUNT; i++)
        {
            assertEquals(8 + 8 * i, Bucket.slotOffset(i));
        }
        assertThrows(IllegalArgumentException.class, () -> Bucket.slotOffset(7));
        assertThrows(IllegalArgumentException.class, () -> Bucket.slotOffset(-1));
    }

    @Test
    void headerRoundTripsAndIsLaidOutAsDocumented()
    {
        final long header = Bucket.header(16, 0xFFFF);
        assertEquals(16, Bucket.localDepth(header));
        assertEquals(0xFFFF, Bucket.suffix(header));
        assertEquals(0L, Bucket.header(0, 0));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        Bucket.putHeader(buffer, 0, 5, 0b10110);
        assertEquals(5, buffer.getByte(Bucket.LOCAL_DEPTH_OFFSET));
        assertEquals(0b10110, buffer.getInt(Bucket.SUFFIX_OFFSET));
        assertEquals(0, buffer.getByte(1) | buffer.getByte(2) | buffer.getByte(3), "reserved bytes");
        assertEquals(Bucket.header(5, 0b10110), Bucket.header(buffer, 0));
    }

    @Test
    void headerRejectsDepthsAndSuffixesThatDoNotFit()
    {
        assertEquals("local depth 17 is outside 0..16",
            assertThrows(IllegalArgumentException.class, () -> Bucket.header(17, 0)).getMessage());
        assertEquals("suffix 8 does not fit local depth 3",
            assertThrows(IllegalArgumentException.class, () -> Bucket.header(3, 8)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bucket.header(0, 1));
    }

    @Test
    void headerCoversExactlyTheKeysWithItsSuffix()
    {
        final long header = Bucket.header(3, 0b101);
        assertTrue(Bucket.covers(header, 0xFFFF_0000_0000_0005L));
        assertTrue(Bucket.covers(header, 0b1101));
        assertFalse(Bucket.covers(header, 0b100));
        assertTrue(Bucket.covers(Bucket.header(0, 0), 0x1234), "depth 0 covers every key");
    }

    @Test
    void combinedBucketPutsTheMainBucketFirstForEvenAndLastForOdd()
    {
        assertEquals(128, CombinedBucket.LENGTH);
        assertEquals(0, CombinedBucket.mainBucketOffset(4));
        assertEquals(64, CombinedBucket.overflowBucketOffset(4));
        assertEquals(64, CombinedBucket.mainBucketOffset(5));
        assertEquals(0, CombinedBucket.overflowBucketOffset(5));
        for (final int c : new int[] {0, 1})
        {
            final Set<Integer> offsets = new HashSet<>();
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                final int off = CombinedBucket.slotOffset(c, i);
                assertEquals(0, off % 8, "slot alignment");
                assertTrue(off >= 0 && off + 8 <= 128);
                assertTrue(off % 64 >= Bucket.HEADER_LENGTH, "slot " + i + " must not overlap a header");
                offsets.add(off);
            }
            assertEquals(14, offsets.size());
        }
        assertEquals(64 + 8, CombinedBucket.slotOffset(1, 0), "odd: main slots are in the second half");
        assertEquals(8, CombinedBucket.slotOffset(1, 7), "odd: overflow slots are in the first half");
        assertThrows(IllegalArgumentException.class, () -> CombinedBucket.slotOffset(0, 14));
    }

    @Test
    void subtableGroupsAreMainOverflowMainAndCombinedBucketsAreContiguous()
    {
        final int groups = 5;
        assertEquals(groups * 192, Subtable.length(groups));
        assertEquals(2 * groups, Subtable.combinedBuckets(groups));
        assertEquals(3 * groups, Subtable.bucketCount(groups));
        assertEquals(21 * groups, Subtable.slotCount(groups));
        final Set<Integer> mains = new HashSet<>();
        final Map<Integer, Integer> overflowUsers = new HashMap<>();
        for (int c = 0; c < 2 * groups; c++)
        {
            final int read = Subtable.combinedBucketOffset(c);
            assertTrue(read >= 0 && read + CombinedBucket.LENGTH <= Subtable.length(groups), "READ of " + c + " fits");
            assertEquals(Subtable.mainBucketOffset(c), read + CombinedBucket.mainBucketOffset(c));
            assertEquals(Subtable.overflowBucketOffset(c), read + CombinedBucket.overflowBucketOffset(c));
            assertTrue(mains.add(Subtable.mainBucketOffset(c)), "main bucket of " + c + " is its own");
            overflowUsers.merge(Subtable.overflowBucketOffset(c), 1, Integer::sum);
        }
        assertEquals(groups, overflowUsers.size());
        overflowUsers.values().forEach(users -> assertEquals(2, users, "an overflow bucket serves two main buckets"));
        final Set<Integer> all = new HashSet<>(mains);
        all.addAll(overflowUsers.keySet());
        for (int b = 0; b < 3 * groups; b++)
        {
            assertTrue(all.contains(b * 64), "bucket " + b + " is reachable");
        }
    }

    @Test
    void subtableSlotOffsetsNameEverySlotOnceOrTwiceForSharedOverflow()
    {
        final int groups = 3;
        final Map<Integer, Integer> uses = new HashMap<>();
        for (int c = 0; c < 2 * groups; c++)
        {
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                uses.merge(Subtable.slotOffset(c, i), 1, Integer::sum);
            }
        }
        assertEquals(Subtable.slotCount(groups), uses.size());
        uses.forEach((off, n) -> assertEquals((off % 192) / 64 == 1 ? 2 : 1, n, "slot at " + off));
    }

    @Test
    void slotInCombinedBucketFindsExactlyTheSlotsOfThatCombinedBucket()
    {
        final int groups = 3;
        int found = 0;
        for (int c = 0; c < 2 * groups; c++)
        {
            final Map<Integer, Integer> slots = new HashMap<>();
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                slots.put(Subtable.slotOffset(c, i), CombinedBucket.slotOffset(c, i));
            }
            for (int off = -8; off < Subtable.length(groups) + 8; off++)
            {
                final int expected = slots.getOrDefault(off, -1);
                assertEquals(expected, Subtable.slotInCombinedBucket(c, off), "combined bucket " + c + ", offset " + off);
                found += expected >= 0 ? 1 : 0;
            }
        }
        assertEquals(2 * groups * CombinedBucket.SLOT_COUNT, found);
    }

    @Test
    void formatEmptiesEverySlotAndStampsEveryHeader()
    {
        final int groups = 4;
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 + Subtable.length(groups)]);
        buffer.setMemory(0, buffer.capacity(), (byte)0x5A);
        Subtable.format(buffer, 64, groups, 3, 0b110);
        for (int b = 0; b < 3 * groups; b++)
        {
            assertEquals(Bucket.header(3, 0b110), Bucket.header(buffer, 64 + b * 64), "bucket " + b);
            for (int i = 0; i < Bucket.SLOT_COUNT; i++)
            {
                assertEquals(Slot.EMPTY, Bucket.slot(buffer, 64 + b * 64, i));
            }
        }
        assertEquals(0x5A, buffer.getByte(63), "bytes before the subtable untouched");
    }

    @Test
    void fingerprintAndEmptyMasksFollowTheSlotNumbering()
    {
        final int groups = 2;
        final UnsafeBuffer subtable = new UnsafeBuffer(new byte[Subtable.length(groups)]);
        Subtable.format(subtable, 0, groups, 0, 0);
        final int c = 3;
        subtable.putLong(Subtable.slotOffset(c, 0), Slot.pack(42, 1, OBJECT));
        subtable.putLong(Subtable.slotOffset(c, 9), Slot.pack(42, 2, OBJECT));
        subtable.putLong(Subtable.slotOffset(c, 13), Slot.pack(7, 1, OBJECT));
        final UnsafeBuffer read = new UnsafeBuffer(new byte[CombinedBucket.LENGTH]);
        read.putBytes(0, subtable, Subtable.combinedBucketOffset(c), CombinedBucket.LENGTH);
        assertEquals((1 << 0) | (1 << 9), CombinedBucket.fingerprintMatches(read, 0, c, 42));
        assertEquals(1 << 13, CombinedBucket.fingerprintMatches(read, 0, c, 7));
        assertEquals(0x3FFF & ~((1 << 0) | (1 << 9) | (1 << 13)), CombinedBucket.emptySlots(read, 0, c));
        assertEquals(Bucket.header(0, 0), CombinedBucket.header(read, 0, c));
        // the neighbour combined bucket 2 shares the overflow bucket, so it sees slot 9 as its slot 9
        read.putBytes(0, subtable, Subtable.combinedBucketOffset(2), CombinedBucket.LENGTH);
        assertEquals(1 << 9, CombinedBucket.fingerprintMatches(read, 0, 2, 42));
    }

    @Test
    void bucketGroupsAreValidatedAndClaimsStay256ByteAligned()
    {
        assertEquals("bucket groups per subtable 0 is outside 1..4194304",
            assertThrows(IllegalArgumentException.class, () -> Subtable.length(0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Subtable.length(Subtable.MAX_BUCKET_GROUPS + 1));
        for (final int g : new int[] {1, 2, 3, 4, 5, 4096})
        {
            final int claim = Subtable.allocationLength(g);
            assertEquals(0, claim % 256);
            assertTrue(claim >= Subtable.length(g) && claim - Subtable.length(g) < 256);
        }
        assertTrue((long)Subtable.length(Subtable.MAX_BUCKET_GROUPS) < GlobalAddress.MAX_REGION_SIZE);
    }
}
