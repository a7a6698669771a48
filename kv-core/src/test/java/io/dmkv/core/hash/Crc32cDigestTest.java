package io.dmkv.core.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import io.dmkv.core.TestBuffers;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class Crc32cDigestTest
{
    @Test
    void matchesTheStandardCheckValue()
    {
        final byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        for (final UnsafeBuffer buffer : TestBuffers.allKinds(32))
        {
            buffer.putBytes(5, check);
            assertEquals(0xE306_9283, new Crc32cDigest().update(buffer, 5, check.length).value(),
                TestBuffers.kind(buffer));
        }
    }

    @Test
    void largeRangesOfRawMemoryGoThroughTheScratchInChunksWithTheSameResult()
    {
        final byte[] data = new byte[5000];
        new SplittableRandom(11).nextBytes(data);
        final CRC32C reference = new CRC32C();
        reference.update(data, 0, data.length);
        final Crc32cDigest digest = new Crc32cDigest();
        for (final UnsafeBuffer buffer : TestBuffers.allKinds(data.length))
        {
            buffer.putBytes(0, data);
            assertEquals((int)reference.getValue(), digest.reset().update(buffer, 0, data.length).value(),
                TestBuffers.kind(buffer));
        }
    }

    @Test
    void directBuffersAreReadInPlaceAtAnyOffsetAndAcrossBuffers()
    {
        final byte[] data = new byte[3000];
        new SplittableRandom(5).nextBytes(data);
        final ByteBuffer first = ByteBuffer.allocateDirect(4096);
        final ByteBuffer second = ByteBuffer.allocateDirect(4096);
        final UnsafeBuffer a = new UnsafeBuffer(first, 100, 3500);
        final UnsafeBuffer b = new UnsafeBuffer(second);
        a.putBytes(7, data);
        b.putBytes(900, data);
        final Crc32cDigest digest = new Crc32cDigest();
        for (final int[] range : new int[][] {{0, 3000}, {17, 1}, {1000, 2000}, {0, 1500}})
        {
            final CRC32C reference = new CRC32C();
            reference.update(data, range[0], range[1]);
            final int expected = (int)reference.getValue();
            assertEquals(expected, digest.reset().update(a, 7 + range[0], range[1]).value(), "wrapped at an offset");
            assertEquals(expected, digest.reset().update(b, 900 + range[0], range[1]).value(), "another buffer");
            assertEquals(expected, digest.reset().update(a, 7 + range[0], range[1]).value(), "the first again");
        }
        assertEquals(0, first.position(), "the caller's ByteBuffer is not moved");
        assertEquals(4096, first.limit());
    }

    @Test
    void resetStartsOverAndUpdatesConcatenate()
    {
        final Crc32cDigest digest = new Crc32cDigest();
        final byte[] ab = {1, 2, 3, 4};
        final int whole = digest.reset().update(ab, 0, 4).value();
        assertEquals(whole, digest.reset().update(ab, 0, 2).updateByte(3).update(ab, 3, 1).value());
        assertNotEquals(whole, digest.update(ab, 0, 1).value());
    }

    @Test
    void updateLongHashesTheBytesAsPutLongStoresThem()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
        buffer.putLong(0, 0x0102_0304_0506_0708L);
        final Crc32cDigest digest = new Crc32cDigest();
        assertEquals(digest.reset().update(buffer, 0, 8).value(), digest.reset().updateLong(0x0102_0304_0506_0708L).value());
    }
}
