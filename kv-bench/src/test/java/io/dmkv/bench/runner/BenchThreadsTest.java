package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BenchThreadsTest
{
    private static final int THREADS = 4;

    /** A phase of {@code ops} operations whose worker {@code i} notes the thread it ran on in {@code seen[i]}. */
    private static RunResult phase(final String name, final BenchThreads on, final AtomicReferenceArray<Thread> seen,
        final long ops)
    {
        return WorkloadRunner.run(name, List.of("OP"), on, ops, null, index -> seq ->
        {
            seen.set(index, Thread.currentThread());
            return 0;
        }, WorkloadRunner.Progress.NONE);
    }

    @Test
    @Timeout(60)
    void theCountedPhaseRunsOnTheThreadsThatWarmedUp() throws Exception
    {
        final AtomicReferenceArray<Thread> warm = new AtomicReferenceArray<>(THREADS);
        final AtomicReferenceArray<Thread> counted = new AtomicReferenceArray<>(THREADS);
        try (BenchThreads on = new BenchThreads(THREADS, "run"))
        {
            assertEquals(4_000, phase("warmup", on, warm, 4_000).all().ops());
            // A timed phase too, as the counted phase of a run is.
            final RunResult r = WorkloadRunner.run("run", List.of("OP"), on, -1, Duration.ofMillis(200), index -> seq ->
            {
                counted.set(index, Thread.currentThread());
                return 0;
            }, WorkloadRunner.Progress.NONE);
            assertTrue(r.all().ops() > 0, "the timed phase ran");
            final Set<Thread> distinct = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < THREADS; i++)
            {
                assertSame(warm.get(i), counted.get(i), "worker " + i + " runs on the thread that warmed up");
                assertEquals("dmkv-run-" + i, counted.get(i).getName());
                distinct.add(counted.get(i));
            }
            assertEquals(THREADS, distinct.size(), "one thread per worker");
        }
        for (int i = 0; i < THREADS; i++)
        {
            counted.get(i).join(5_000);
            assertFalse(counted.get(i).isAlive(), "closed: thread " + i + " has ended");
        }
    }

    @Test
    @Timeout(60)
    void aPhaseGivenOnlyACountHasThreadsOfItsOwn() throws Exception
    {
        final AtomicReferenceArray<Thread> first = new AtomicReferenceArray<>(2);
        final AtomicReferenceArray<Thread> second = new AtomicReferenceArray<>(2);
        for (final AtomicReferenceArray<Thread> seen : List.of(first, second))
        {
            WorkloadRunner.run("load", List.of("OP"), 2, 100, null, index -> seq ->
            {
                seen.set(index, Thread.currentThread());
                return 0;
            }, WorkloadRunner.Progress.NONE);
        }
        assertNotSame(first.get(0), second.get(0));
        first.get(0).join(5_000);
        assertFalse(first.get(0).isAlive(), "a phase's own threads end with it");
        assertEquals("dmkv-load-1", first.get(1).getName());
    }

    @Test
    @Timeout(60)
    void aFailedPhaseLeavesTheThreadsForTheNext()
    {
        final AtomicReferenceArray<Thread> seen = new AtomicReferenceArray<>(2);
        try (BenchThreads on = new BenchThreads(2, "run"))
        {
            final IllegalStateException e = assertThrows(IllegalStateException.class, () -> WorkloadRunner.run("warmup",
                List.of("OP"), on, 100, null, index -> seq ->
                {
                    throw new IllegalArgumentException("worker " + index + " broke");
                }, WorkloadRunner.Progress.NONE));
            assertTrue(e.getMessage().startsWith("warmup failed: worker "), e.getMessage());
            assertEquals(100, phase("run", on, seen, 100).all().ops(), "the next phase runs on the same threads");
        }
        assertThrows(IllegalArgumentException.class, () -> new BenchThreads(0, "run"));
    }
}
