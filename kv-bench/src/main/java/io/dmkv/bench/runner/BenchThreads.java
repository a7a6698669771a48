package io.dmkv.bench.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The client threads of a run phase, kept for every phase that runs on them: a run's warm-up and
 * its counted phase run on the same threads ({@link Warmup}, {@link WorkloadRunner}), as an
 * application's thread pool would call the store.
 *
 * <p>Why: a thread's first operations take paths no thread takes again (an empty operation pool, a
 * thread-local not set yet, a verb batch not made yet). The JIT compiles the hot path while those
 * paths have never been seen in its profile, so it leaves them out; the first new thread after
 * that takes them, and every compiled method they were inlined into is thrown away and compiled
 * again. Fresh threads for the counted phase put all of that in the counted phase: measured on
 * this 2-core machine (YCSB A, 4 client processes, after a 40 s warm-up), 1.4–2.1 s of JIT
 * compiler CPU per client process in the counted phase's first 5 s, against 0.1–0.5 s in each
 * 5 s of the warm-up before it (docs/bench-runner.md, "The warm-up").
 *
 * <p>Thread {@code i} runs worker {@code i} of every phase (one single-thread executor each).
 */
public final class BenchThreads implements AutoCloseable
{
    private final List<ExecutorService> threads = new ArrayList<>();

    /** {@code size} threads named {@code dmkv-<name>-<i>}. */
    public BenchThreads(final int size, final String name)
    {
        if (size < 1)
        {
            throw new IllegalArgumentException("threads must be at least 1: " + size);
        }
        for (int i = 0; i < size; i++)
        {
            final String threadName = "dmkv-" + name + "-" + i;
            threads.add(Executors.newSingleThreadExecutor(r ->
            {
                final Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            }));
        }
    }

    public int size()
    {
        return threads.size();
    }

    /** Runs {@code task} on thread {@code index}, after what that thread was given before. */
    void execute(final int index, final Runnable task)
    {
        threads.get(index).execute(task);
    }

    /** Interrupts what still runs and ends the threads. */
    @Override
    public void close()
    {
        threads.forEach(ExecutorService::shutdownNow);
        for (final ExecutorService t : threads)
        {
            try
            {
                t.awaitTermination(5, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
