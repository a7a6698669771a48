package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Random;

import org.junit.jupiter.api.Test;

final class StagingRingTest
{
    @Test
    void slicesAreContiguousEightByteAlignedAndHandedOutInOrder()
    {
        final StagingRing ring = new StagingRing(1024);
        assertEquals(0, ring.allocate(8));
        assertEquals(8, ring.allocate(3));
        assertEquals(16, ring.allocate(100));
        assertEquals(120, ring.allocate(8));
        assertEquals(128, ring.used());
    }

    @Test
    void aFullRingRefusesUntilTheOldestSlicesAreReleased()
    {
        final StagingRing ring = new StagingRing(64);
        assertEquals(0, ring.allocate(32));
        final long first = ring.mark();
        assertEquals(32, ring.allocate(32));
        assertEquals(-1, ring.allocate(8));
        ring.releaseTo(first);
        assertEquals(0, ring.allocate(8), "the released front is reused after wrapping");
    }

    @Test
    void aSliceThatWouldStraddleTheEndStartsAtTheBeginningInstead()
    {
        final StagingRing ring = new StagingRing(64);
        assertEquals(0, ring.allocate(40));
        ring.releaseTo(ring.mark());
        // 24 bytes remain before the end: a 32-byte slice skips them and starts at 0.
        assertEquals(0, ring.allocate(32));
        assertEquals(56, ring.used(), "the skipped end counts as used until released");
        assertEquals(-1, ring.allocate(16), "only 8 bytes are free now");
        assertEquals(32, ring.allocate(8));
    }

    @Test
    void fitsSaysWhetherASliceCanEverBeHandedOut()
    {
        final StagingRing ring = new StagingRing(4096);
        assertTrue(ring.fits(4096));
        assertTrue(ring.fits(4089));
        assertFalse(ring.fits(4097));
        assertFalse(ring.fits(0));
        assertEquals(-1, ring.allocate(4097));
    }

    @Test
    void releasingBeyondWhatWasAllocatedIsABug()
    {
        final StagingRing ring = new StagingRing(64);
        ring.allocate(8);
        assertThrows(IllegalStateException.class, () -> ring.releaseTo(ring.mark() + 8));
    }

    @Test
    void fifoUseNeverHandsOutOverlappingLiveSlices()
    {
        final int capacity = 4096;
        final StagingRing ring = new StagingRing(capacity);
        final Random random = new Random(7);
        final ArrayDeque<long[]> live = new ArrayDeque<>();
        final int[] owner = new int[capacity];
        int nextId = 1;
        for (int step = 0; step < 100_000; step++)
        {
            if (!live.isEmpty() && (random.nextInt(3) == 0 || ring.used() > capacity - 512))
            {
                final long[] oldest = live.pollFirst();
                for (int b = (int)oldest[0]; b < oldest[0] + oldest[1]; b++)
                {
                    owner[b] = 0;
                }
                ring.releaseTo(oldest[2]);
                continue;
            }
            final int length = 1 + random.nextInt(700);
            final int offset = ring.allocate(length);
            if (offset < 0)
            {
                continue;
            }
            assertEquals(0, offset & 7);
            assertTrue(offset + length <= capacity, "slice runs past the end");
            final int id = nextId++;
            for (int b = offset; b < offset + length; b++)
            {
                assertEquals(0, owner[b], "byte " + b + " handed out twice");
                owner[b] = id;
            }
            live.addLast(new long[] {offset, length, ring.mark()});
        }
    }
}
