package io.dmkv.core.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import io.dmkv.core.TestBuffers;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class KeyHashTest
{
    @Test
    void xxh64Seed0MatchesPublishedTestVectors()
    {
        assertEquals(0xEF46_DB37_51D8_E999L, KeyHash.hash(new byte[0]));
        assertEquals(0xD24E_C4F1_A98C_6E5BL, KeyHash.hash(ascii("a")));
        assertEquals(0x44BC_2CF5_AD77_0999L, KeyHash.hash(ascii("abc")));
    }

    @Test
    void hashOfABufferRangeEqualsHashOfTheSameBytesForEveryKindOfBuffer()
    {
        final byte[] key = new byte[300];
        new SplittableRandom(1).nextBytes(key);
        for (final UnsafeBuffer buffer : TestBuffers.allKinds(400))
        {
            buffer.putBytes(37, key);
            for (final int length : new int[] {0, 1, 7, 8, 31, 32, 33, 300})
            {
                assertEquals(KeyHash.hash(key, 0, length), KeyHash.hash(buffer, 37, length),
                    TestBuffers.kind(buffer) + " buffer, " + length + " bytes");
            }
        }
    }

    @Test
    void hashOfABufferRangeIsBoundsChecked()
    {
        for (final UnsafeBuffer buffer : TestBuffers.allKinds(64))
        {
            assertThrows(IndexOutOfBoundsException.class, () -> KeyHash.hash(buffer, 60, 8), TestBuffers.kind(buffer));
        }
    }

    @Test
    void fingerprintIsNeverZeroAndCoversAll255ValuesAlmostEvenly()
    {
        final int[] counts = new int[256];
        for (int source = 0; source <= 0xFFFF; source++)
        {
            counts[KeyHash.fingerprint((long)source << KeyHash.FINGERPRINT_SHIFT)]++;
        }
        assertEquals(0, counts[0], "fingerprint 0 is reserved for empty slots");
        for (int fp = 1; fp <= 255; fp++)
        {
            assertTrue(counts[fp] == 257 || counts[fp] == 258, "fingerprint " + fp + " drawn " + counts[fp] + " times");
        }
    }

    @Test
    void fingerprintReadsOnlyBits16To31()
    {
        final long hash = 0x1234_5678_9ABC_DEF0L;
        final long otherBitsChanged = hash ^ 0xFFFF_FFFF_0000_FFFFL;
        assertEquals(KeyHash.fingerprint(hash), KeyHash.fingerprint(otherBitsChanged));
        assertNotEquals(KeyHash.fingerprint(hash), KeyHash.fingerprint(hash ^ 0x8000_0000L));
    }

    @Test
    void subtableAndPartitionAreTheLowBits()
    {
        final long hash = 0xABCD_0000_0000_1234L;
        assertEquals(0, KeyHash.subtableIndex(hash, 0));
        assertEquals(0x4, KeyHash.subtableIndex(hash, 4));
        assertEquals(0x1234, KeyHash.subtableIndex(hash, 16));
        assertEquals(0x34 & 0x3F, KeyHash.suffix(hash, 6));
        assertEquals(0, KeyHash.partition(hash, 0));
        assertEquals(0x4, KeyHash.partition(hash, 4));
        assertEquals(0x34, KeyHash.partition(hash, 8));
        // A partition is a set of whole subtables: every deeper suffix refines the partition's bits.
        for (int depth = 6; depth <= 8; depth++)
        {
            assertEquals(KeyHash.partition(hash, 6), KeyHash.suffix(hash, depth) & 0x3F);
        }
        assertEquals("depth 17 is outside 0..16",
            assertThrows(IllegalArgumentException.class, () -> KeyHash.subtableIndex(hash, 17)).getMessage());
        assertEquals("partition bits 9 is outside 0..8",
            assertThrows(IllegalArgumentException.class, () -> KeyHash.partition(hash, 9)).getMessage());
    }

    @Test
    void bothCandidateBucketsSpreadEvenlyOverTheSubtable()
    {
        final int combined = 128;
        final int samples = 256_000;
        final int[] first = new int[combined];
        final int[] second = new int[combined];
        final SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < samples; i++)
        {
            final long hash = KeyHash.hash(longBytes(random.nextLong()));
            first[KeyHash.combinedBucket1(hash, combined)]++;
            second[KeyHash.combinedBucket2(hash, combined)]++;
        }
        final int mean = samples / combined;
        for (int c = 0; c < combined; c++)
        {
            assertTrue(Math.abs(first[c] - mean) < mean / 5, "first choice " + c + ": " + first[c]);
            assertTrue(Math.abs(second[c] - mean) < mean / 5, "second choice " + c + ": " + second[c]);
        }
    }

    @Test
    void keysOfOnePartitionStillUseEveryBucket()
    {
        final int combined = 64;
        final boolean[] seen = new boolean[combined];
        final SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 20_000; i++)
        {
            final long hash = (random.nextLong() >>> 8) | (0x5AL << 56);
            seen[KeyHash.combinedBucket1(hash, combined)] = true;
        }
        for (int c = 0; c < combined; c++)
        {
            assertTrue(seen[c], "bucket " + c + " unreachable from partition 0x5A");
        }
    }

    @Test
    void combinedBucketCountMustBeEvenAndBounded()
    {
        assertThrows(IllegalArgumentException.class, () -> KeyHash.combinedBucket1(1, 3));
        assertThrows(IllegalArgumentException.class, () -> KeyHash.combinedBucket2(1, 0));
        assertThrows(IllegalArgumentException.class, () -> KeyHash.combinedBucket1(1, KeyHash.MAX_COMBINED_BUCKETS + 2));
    }

    @Test
    void fmix64IsMurmur3sFinaliser()
    {
        assertEquals(0L, KeyHash.fmix64(0L));
        // values from an independent (Python) transcription of MurmurHash3's fmix64
        assertEquals(0xB456_BCFC_34C2_CB2CL, KeyHash.fmix64(1L));
        assertEquals(0x0CAE_996F_EE6B_D396L, KeyHash.fmix64(0x1234_5678_90AB_CDEFL));
    }

    @Property
    void candidateBucketsAreInRangeAndInDifferentGroups(@ForAll final long hash,
        @ForAll @IntRange(min = 1, max = 100_000) final int bucketGroups)
    {
        final int combined = 2 * bucketGroups;
        final int c1 = KeyHash.combinedBucket1(hash, combined);
        final int c2 = KeyHash.combinedBucket2(hash, combined);
        assertTrue(c1 >= 0 && c1 < combined);
        assertTrue(c2 >= 0 && c2 < combined);
        if (bucketGroups >= 2)
        {
            assertNotEquals(c1 / 2, c2 / 2, "two main buckets of one group share their overflow bucket");
        }
    }

    @Property
    void fingerprintIsAlwaysInOneTo255(@ForAll final long hash)
    {
        final int fp = KeyHash.fingerprint(hash);
        assertTrue(fp >= 1 && fp <= 255, "fingerprint " + fp);
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] longBytes(final long v)
    {
        final byte[] b = new byte[8];
        new UnsafeBuffer(b).putLong(0, v);
        return b;
    }
}
