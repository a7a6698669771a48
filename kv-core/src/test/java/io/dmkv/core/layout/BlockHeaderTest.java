package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.dmkv.core.TestBuffers;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class BlockHeaderTest
{
    @Test
    void bitmapWordAndBitOfAnObject()
    {
        assertEquals(64, BlockHeader.wordOffsetFor(0));
        assertEquals(0, BlockHeader.bitFor(0));
        assertEquals(64, BlockHeader.wordOffsetFor(63));
        assertEquals(63, BlockHeader.bitFor(63));
        assertEquals(72, BlockHeader.wordOffsetFor(64));
        assertEquals(0, BlockHeader.bitFor(64));
        assertEquals(64 + 8 * 4095, BlockHeader.wordOffsetFor(262_143));
        assertEquals(63, BlockHeader.bitFor(262_143));
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.bitFor(-1));
    }

    @Test
    void freeMasksAre64BitShiftsUnlikeFuseesIntShift()
    {
        assertEquals(Long.MIN_VALUE, BlockHeader.freeDelta(63), "bit 63 is the sign bit");
        assertEquals(Long.MIN_VALUE, BlockHeader.freeDelta(127));
        assertEquals(1L << 32, BlockHeader.freeDelta(32));
        // FUSEE computes the mask as a 32-bit 1 << n; in Java that wraps the shift count
        // (1 << 32 == 1) and sign-extends bit 31, so object 32 would free object 0 and object 63
        // would set 33 bits.
        final int bit32 = 32;
        final int bit63 = 63;
        assertNotEquals((long)(1 << bit32), BlockHeader.freeDelta(32));
        assertNotEquals((long)(1 << bit63), BlockHeader.freeDelta(63));
        for (int i = 0; i < 128; i++)
        {
            assertEquals(1, Long.bitCount(BlockHeader.freeDelta(i)), "object " + i + " frees one bit");
            assertEquals(-BlockHeader.freeDelta(i), BlockHeader.reclaimDelta(i));
        }
    }

    @Test
    void concurrentFaaFreesSetExactlyOneBitPerObjectAndReclaimClearsThem() throws Exception
    {
        final int objects = 200;
        final UnsafeBuffer block = TestBuffers.raw(BlockHeader.firstObjectOffset(objects));
        final List<Integer> order = new ArrayList<>();
        for (int i = 0; i < objects; i++)
        {
            order.add(i);
        }
        Collections.shuffle(order, new java.util.Random(5));
        final ExecutorService pool = Executors.newFixedThreadPool(4);
        try
        {
            final CountDownLatch start = new CountDownLatch(1);
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++)
            {
                final int first = t;
                done.add(pool.submit(() ->
                {
                    start.await();
                    for (int k = first; k < objects; k += 4)
                    {
                        final int i = order.get(k);
                        final long old = block.getAndAddLong(BlockHeader.wordOffsetFor(i), BlockHeader.freeDelta(i));
                        assertFalse(BlockHeader.isFreed(old, i), "object " + i + " freed twice");
                    }
                    return null;
                }));
            }
            start.countDown();
            for (final Future<?> f : done)
            {
                f.get();
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        assertEquals(-1L, block.getLong(BlockHeader.wordOffsetFor(0)));
        assertEquals(-1L, block.getLong(BlockHeader.wordOffsetFor(64)));
        assertEquals(-1L, block.getLong(BlockHeader.wordOffsetFor(128)));
        assertEquals((1L << 8) - 1, block.getLong(BlockHeader.wordOffsetFor(192)), "objects 192..199");
        for (int i = 0; i < objects; i++)
        {
            block.getAndAddLong(BlockHeader.wordOffsetFor(i), BlockHeader.reclaimDelta(i));
        }
        for (int w = 0; w < BlockHeader.bitmapWords(objects); w++)
        {
            assertEquals(0L, block.getLong(BlockHeader.BITMAP_OFFSET + 8 * w), "word " + w);
        }
    }

    @Test
    void objectsPerBlockFitsAndIsMaximalForEveryBlockSizeAndClass()
    {
        for (int blockSize = BlockHeader.MIN_BLOCK_SIZE; blockSize <= BlockHeader.MAX_BLOCK_SIZE; blockSize <<= 1)
        {
            for (int c = 0; c < SizeClasses.COUNT; c++)
            {
                final int objectSize = SizeClasses.objectSize(c);
                final int n = BlockHeader.objectsPerBlock(blockSize, objectSize);
                assertTrue((long)BlockHeader.firstObjectOffset(n) + (long)n * objectSize <= blockSize,
                    n + " objects of " + objectSize + " in " + blockSize);
                assertTrue((long)BlockHeader.firstObjectOffset(n + 1) + (long)(n + 1) * objectSize > blockSize,
                    (n + 1) + " objects of " + objectSize + " would also fit " + blockSize);
            }
        }
        assertEquals(15, BlockHeader.objectsPerBlock(4096, 256), "one 256-byte slot goes to the header");
        assertEquals(65_536 - 33, BlockHeader.objectsPerBlock(16 << 20, 256),
            "16 MiB of 256-byte objects: 33 units go to the 64-byte header and the 8 KiB bitmap");
        assertEquals(1, BlockHeader.objectsPerBlock(65_536, 65_280));
        assertEquals(0, BlockHeader.objectsPerBlock(32_768, 65_280));
    }

    @Test
    void objectsAre256ByteAlignedAndObjectIndexInvertsObjectOffset()
    {
        final int n = BlockHeader.objectsPerBlock(1 << 20, 768);
        assertEquals(0, BlockHeader.firstObjectOffset(n) % 256);
        assertTrue(BlockHeader.firstObjectOffset(n) >= BlockHeader.BITMAP_OFFSET + 8 * BlockHeader.bitmapWords(n));
        for (final int i : new int[] {0, 1, 63, 64, n - 1})
        {
            final int off = BlockHeader.objectOffset(n, 768, i);
            assertEquals(0, off % 256);
            assertEquals(i, BlockHeader.objectIndex(n, 768, off));
        }
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.objectOffset(n, 768, n));
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.objectIndex(n, 768,
            BlockHeader.firstObjectOffset(n) + 256));
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.objectIndex(n, 768, 0));
    }

    @Test
    void formatWritesTheHeaderAndAZeroBitmapButNotTheObjects()
    {
        final UnsafeBuffer block = new UnsafeBuffer(new byte[65_536]);
        block.setMemory(0, block.capacity(), (byte)0xEE);
        final int count = BlockHeader.format(block, 0, 65_536, 65_535, 3, 0xCAFE);
        assertEquals(BlockHeader.objectsPerBlock(65_536, 1024), count);
        assertTrue(BlockHeader.hasMagic(block, 0));
        assertEquals("DMBK", new String(new byte[] {block.getByte(0), block.getByte(1), block.getByte(2),
            block.getByte(3)}, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(65_535, BlockHeader.owner(block, 0));
        assertEquals(3, BlockHeader.sizeClass(block, 0));
        assertEquals(1024, BlockHeader.objectSize(block, 0));
        assertEquals(count, BlockHeader.objectCount(block, 0));
        assertEquals(0xCAFE, BlockHeader.generation(block, 0));
        assertEquals(0L, block.getLong(BlockHeader.wordOffsetFor(count - 1)));
        assertEquals((byte)0xEE, block.getByte(BlockHeader.objectOffset(count, 1024, 0)));
        assertEquals("a block of 4096 bytes cannot hold one object of size class 15 (32768 bytes)",
            assertThrows(IllegalArgumentException.class, () -> BlockHeader.format(block, 0, 4096, 1, 15, 0))
                .getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.format(block, 0, 4096, 0, 0, 0));
    }

    @Test
    void highWaterMarkRoundTripsInReservedBytesAndFormatZeroesIt()
    {
        assertTrue(BlockHeader.HIGH_WATER_MARK_OFFSET >= BlockHeader.GENERATION_OFFSET + 4,
            "the mark follows the generation");
        assertTrue(BlockHeader.HIGH_WATER_MARK_OFFSET + 4 <= BlockHeader.HEADER_LENGTH, "and ends before the bitmap");
        final UnsafeBuffer block = new UnsafeBuffer(new byte[2 * 65_536]);
        block.setMemory(0, block.capacity(), (byte)0xEE);
        final int at = 65_536;
        final int count = BlockHeader.format(block, at, 65_536, 7, 2, 9);
        assertEquals(0, BlockHeader.highWaterMark(block, at), "a formatted block has handed out nothing");
        BlockHeader.putHighWaterMark(block, at, count);
        assertEquals(count, BlockHeader.highWaterMark(block, at));
        BlockHeader.putHighWaterMark(block, at, 17);
        assertEquals(17, BlockHeader.highWaterMark(block, at));
        assertEquals(7, BlockHeader.owner(block, at), "neighbouring fields untouched");
        assertEquals(9, BlockHeader.generation(block, at));
        assertEquals(count, BlockHeader.objectCount(block, at));
        assertEquals(0L, block.getLong(at + BlockHeader.BITMAP_OFFSET));
        assertEquals("high-water mark " + (count + 1) + " is outside 0.." + count + " (the block's object count)",
            assertThrows(IllegalArgumentException.class, () -> BlockHeader.putHighWaterMark(block, at, count + 1))
                .getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.putHighWaterMark(block, at, -1));
        assertEquals(17, BlockHeader.highWaterMark(block, at), "a refused mark leaves the old one");
        BlockHeader.format(block, at, 65_536, 8, 2, 10);
        assertEquals(0, BlockHeader.highWaterMark(block, at), "reformatting for a new owner resets the mark");
    }

    @Test
    void blockSizesArePowersOfTwoFrom4KiBTo64MiB()
    {
        assertEquals("block size 6000 must be a power of two from 4096 (4 KiB) to 67108864 (64 MiB)",
            assertThrows(IllegalArgumentException.class, () -> BlockHeader.validateBlockSize(6000)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.validateBlockSize(2048));
        assertThrows(IllegalArgumentException.class, () -> BlockHeader.validateBlockSize(128 << 20));
        assertEquals(16 << 20, BlockHeader.validateBlockSize(BlockHeader.DEFAULT_BLOCK_SIZE));
    }

    @Property
    void everyObjectOfABlockHasItsOwnWordAndBit(@ForAll @IntRange(min = 12, max = 26) final int blockShift,
        @ForAll @IntRange(min = 0, max = 15) final int sizeClass, @ForAll @IntRange(min = 0) final int pick)
    {
        final int objectSize = SizeClasses.objectSize(sizeClass);
        final int n = BlockHeader.objectsPerBlock(1 << blockShift, objectSize);
        if (n == 0)
        {
            return;
        }
        final int i = pick % n;
        assertTrue(BlockHeader.wordOffsetFor(i) + 8 <= BlockHeader.firstObjectOffset(n), "bitmap word inside the header");
        assertEquals(i, (BlockHeader.wordOffsetFor(i) - BlockHeader.BITMAP_OFFSET) / 8 * 64 + BlockHeader.bitFor(i));
        assertTrue((long)BlockHeader.objectOffset(n, objectSize, i) + objectSize <= 1L << blockShift);
    }
}
