package io.dmkv.computenode.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * Counting loses nothing under many threads, even while periods end; a period's hotness is the
 * smoothed rate over the time that really passed, published only when it changed.
 */
class HotnessDetectorTest
{
    @Test
    void manyThreadsCountingWhilePeriodsEndLoseNoOperation() throws Exception
    {
        final HotnessCounters counters = new HotnessCounters(16);
        final int threads = 8;
        final int each = 50_000;
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int partition = t % 3;
            workers.add(new Thread(() ->
            {
                try
                {
                    go.await();
                }
                catch (final InterruptedException e)
                {
                    return;
                }
                for (int i = 0; i < each; i++)
                {
                    counters.count(partition);
                }
            }));
        }
        workers.forEach(Thread::start);
        go.countDown();
        final long[] total = new long[16];
        while (workers.stream().anyMatch(Thread::isAlive))
        {
            counters.drain(total);
        }
        counters.drain(total);
        // Threads 0, 3, 6 count on partition 0; 1, 4, 7 on 1; 2, 5 on 2.
        assertEquals(3L * each, total[0]);
        assertEquals(3L * each, total[1]);
        assertEquals(2L * each, total[2]);
        assertEquals(0, total[3]);
    }

    @Test
    void hotnessIsTheSmoothedRatePublishedWhenItChanges()
    {
        final HotnessCounters counters = new HotnessCounters(4);
        final AtomicLong now = new AtomicLong();
        final List<List<Long>> published = new ArrayList<>();
        try (HotnessDetector d = new HotnessDetector(counters, 0.5, 3_600_000, now::get, published::add))
        {
            for (int i = 0; i < 200; i++)
            {
                counters.count(1);
            }
            now.addAndGet(2_000_000_000L);
            d.tick();
            assertArrayEquals(new double[] {0, 50, 0, 0}, d.hotness(), 1e-9, "100 ops/s over 2 s, weighted 0.5");
            now.addAndGet(1_000_000_000L);
            d.tick();
            assertArrayEquals(new double[] {0, 25, 0, 0}, d.hotness(), 1e-9, "an idle period halves it");
            d.tick();
            assertEquals(List.of(List.of(0L, 50L, 0L, 0L), List.of(0L, 25L, 0L, 0L)), published.subList(0, 2));
            now.addAndGet(1_000_000_000L);
            for (int i = 0; i < 6; i++)
            {
                d.tick();
            }
            assertEquals(List.of(), published.get(published.size() - 1), "idle: nothing left to publish");
            final int n = published.size();
            d.tick();
            assertEquals(n, published.size(), "no write while nothing changes");
        }
    }
}
