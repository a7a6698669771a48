package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LaneDeadlineTest
{
    @Test
    void aRoundTripThatEndsBeforeTheSweepIsNotExpiredLater()
    {
        final LaneDeadline d = new LaneDeadline();
        d.start(100);
        assertEquals(0, d.expire(100), "not past the deadline yet");
        assertTrue(d.finish(), "the thread settles the round trip");
        assertEquals(0, d.expire(101), "an ended round trip is never expired");
        d.start(200);
        assertEquals(0, d.expire(150), "the next round trip has its own deadline");
        assertTrue(d.finish());
    }

    @Test
    void aRoundTripTheSweepExpiredAsItEndedIsNotTheThreadsToFinish()
    {
        final LaneDeadline d = new LaneDeadline();
        d.start(100);
        // The answer is in, but the sweep looks first: it expires the round trip and closes the lane.
        assertEquals(100, d.expire(101));
        assertFalse(d.finish(), "the thread learns the lane is going and takes another for its next round trip");
        assertEquals(0, d.expire(102), "expired once");
    }

    @Test
    @Timeout(60)
    void eachRoundTripIsSettledByExactlyOneOfTheThreadAndTheSweep() throws Exception
    {
        final int roundTrips = 200_000;
        final LaneDeadline d = new LaneDeadline();
        final boolean[] finished = new boolean[roundTrips];
        final ConcurrentHashMap<Long, Boolean> expired = new ConcurrentHashMap<>();
        final AtomicBoolean done = new AtomicBoolean();
        final Thread sweep = new Thread(() ->
        {
            while (!done.get())
            {
                // Every deadline is past for this sweep: it races the thread for each round trip.
                final long gone = d.expire(Long.MAX_VALUE / 2);
                if (gone != 0)
                {
                    expired.put(gone, Boolean.TRUE);
                }
            }
        });
        sweep.start();
        final long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        int n = 0;
        for (; n < roundTrips && System.nanoTime() < stop; n++)
        {
            d.start(n + 1);
            Thread.onSpinWait();
            finished[n] = d.finish();
        }
        done.set(true);
        sweep.join();
        int byThread = 0;
        for (int i = 0; i < n; i++)
        {
            final boolean bySweep = expired.containsKey((long)(i + 1));
            assertTrue(finished[i] ^ bySweep, "round trip " + (i + 1) + ": finished " + finished[i] + ", expired " + bySweep);
            byThread += finished[i] ? 1 : 0;
        }
        assertEquals(n, byThread + expired.size(), "every expiry was of a round trip under way");
    }
}
