package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admission count: in flight never above the bound, every start and finish counted once. */
@Timeout(60)
class OperationCounterTest
{
    @Test
    void startsBeyondTheBoundAreRefusedAndChangeNothing()
    {
        final OperationCounter c = new OperationCounter();
        assertTrue(c.tryStart(2));
        assertTrue(c.tryStart(2));
        assertFalse(c.tryStart(2), "a third start with two in flight and a bound of 2");
        assertEquals(2, c.inFlight());
        c.finished();
        assertEquals(1, c.inFlight());
        assertTrue(c.tryStart(2), "room again after a finish");
        c.finished();
        c.finished();
        assertEquals(0, c.inFlight());
        assertEquals(3, c.snapshot().completed());
        assertEquals(2, c.peakInFlight());
    }

    @Test
    void manyThreadsNeverExceedTheBoundAndEveryFinishIsCounted() throws Exception
    {
        final int threads = 8;
        final int bound = 3;
        final int perThread = 20_000;
        final OperationCounter c = new OperationCounter();
        // The checker: its own count of admitted operations, and the most it ever saw.
        final AtomicInteger admitted = new AtomicInteger();
        final AtomicInteger worst = new AtomicInteger();
        Together.run(threads, () ->
        {
            int done = 0;
            while (done < perThread)
            {
                if (!c.tryStart(bound))
                {
                    Thread.yield();
                    continue;
                }
                final int now = admitted.incrementAndGet();
                worst.accumulateAndGet(now, Math::max);
                admitted.decrementAndGet();
                c.finished();
                done++;
            }
        });
        assertTrue(worst.get() <= bound, "at most " + bound + " admitted at once, saw " + worst.get());
        assertTrue(c.peakInFlight() <= bound, "peak " + c.peakInFlight());
        assertEquals(0, c.inFlight());
        assertEquals((long)threads * perThread, c.snapshot().completed());
        assertEquals(0, c.snapshot().inFlight());
    }
}
