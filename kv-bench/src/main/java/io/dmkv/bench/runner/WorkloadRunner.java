package io.dmkv.bench.runner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

import io.dmkv.rdma.ThreadCounters;

/**
 * Runs a workload on several threads — for a number of operations (load) or for a duration
 * (run) — and measures every operation: latency into a per-thread histogram, and the round
 * trips, verbs and bytes it cost from the thread's own counters. Nothing is shared on the hot
 * path but one progress counter updated in chunks.
 */
public final class WorkloadRunner
{
    private static final int PROGRESS_CHUNK = 64;
    /** After this many failed operations in a row a thread gives up and the run fails. */
    private static final int MAX_CONSECUTIVE_ERRORS = 1000;

    /** One thread's operations. */
    @FunctionalInterface
    public interface Worker
    {
        /**
         * Runs the operation number {@code seq} of this thread and returns the index (into the
         * operation names) of the kind of operation it ran.
         */
        int runOne(long seq) throws Exception;
    }

    private WorkloadRunner()
    {
    }

    /**
     * Runs until {@code totalOps} operations are done (split over the threads), or, when
     * {@code totalOps} is negative, for {@code duration}. With both a count and a duration the
     * phase ends at whichever comes first; a null duration means no time bound.
     *
     * @param progress called from a monitor thread with the operations done so far.
     */
    public static RunResult run(final String phase, final List<String> opNames, final int threads,
        final long totalOps, final Duration duration, final IntFunction<Worker> workers, final Progress progress)
    {
        try (BenchThreads own = new BenchThreads(threads, phase))
        {
            return run(phase, opNames, own, totalOps, duration, workers, progress);
        }
    }

    /**
     * As {@link #run(String, List, int, long, Duration, IntFunction, Progress)}, on threads that
     * outlive the phase (a warm-up and the counted phase after it: {@link BenchThreads}). Worker
     * {@code i} runs on thread {@code i}.
     */
    public static RunResult run(final String phase, final List<String> opNames, final BenchThreads on,
        final long totalOps, final Duration duration, final IntFunction<Worker> workers, final Progress progress)
    {
        final int threads = on.size();
        final AtomicLong done = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<OpStats[]> perThread = new ArrayList<>();
        final CountDownLatch finished = new CountDownLatch(threads);
        final long startNs = System.nanoTime();
        if (totalOps < 0 && duration == null)
        {
            throw new IllegalArgumentException("a phase needs an operation count or a duration");
        }
        final boolean timed = duration != null;
        final long deadline = timed ? startNs + duration.toNanos() : 0;
        // The first failure of each kind of operation is printed; the rest are counted.
        final AtomicBoolean[] reported = new AtomicBoolean[opNames.size()];
        for (int i = 0; i < reported.length; i++)
        {
            reported[i] = new AtomicBoolean();
        }
        for (int t = 0; t < threads; t++)
        {
            final OpStats[] stats = new OpStats[opNames.size()];
            for (int i = 0; i < stats.length; i++)
            {
                stats[i] = new OpStats(opNames.get(i));
            }
            perThread.add(stats);
            final long share = totalOps < 0 ? Long.MAX_VALUE : totalOps / threads + (t < totalOps % threads ? 1 : 0);
            final int index = t;
            on.execute(index, () ->
            {
                try
                {
                    runThread(workers.apply(index), stats, share, timed, deadline, stop, done, reported);
                }
                catch (final Throwable e)
                {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                }
                finally
                {
                    finished.countDown();
                }
            });
        }
        try
        {
            while (!finished.await(200, TimeUnit.MILLISECONDS))
            {
                progress.update(done.get(), System.nanoTime() - startNs);
            }
        }
        catch (final InterruptedException e)
        {
            stop.set(true);
            Thread.currentThread().interrupt();
        }
        final long elapsed = System.nanoTime() - startNs;
        progress.finish(done.get(), elapsed);
        if (failure.get() != null)
        {
            throw new IllegalStateException(phase + " failed: " + failure.get().getMessage(), failure.get());
        }
        final OpStats[] merged = new OpStats[opNames.size()];
        for (int i = 0; i < merged.length; i++)
        {
            merged[i] = new OpStats(opNames.get(i));
            for (final OpStats[] s : perThread)
            {
                merged[i].add(s[i]);
            }
        }
        return new RunResult(phase, threads, elapsed, List.of(merged));
    }

    private static void runThread(final Worker worker, final OpStats[] stats, final long share, final boolean timed,
        final long deadline, final AtomicBoolean stop, final AtomicLong done, final AtomicBoolean[] reported)
        throws Exception
    {
        final ThreadCounters c = ThreadCounters.current();
        int pending = 0;
        int consecutiveErrors = 0;
        for (long seq = 0; seq < share && !stop.get(); seq++)
        {
            final long rtt = c.roundTrips;
            final long verbs = c.verbs;
            final long out = c.bytesOut;
            final long in = c.bytesIn;
            final long rpcs = c.rpcs;
            final long t0 = System.nanoTime();
            int op;
            boolean ok = true;
            try
            {
                op = worker.runOne(seq);
                consecutiveErrors = 0;
            }
            catch (final WorkloadException e)
            {
                op = e.op();
                ok = false;
                if (!reported[op].get() && reported[op].compareAndSet(false, true))
                {
                    System.err.println(Thread.currentThread().getName() + ": " + stats[op].name()
                        + " failed (later failures are counted in the results, not printed): " + e.getCause());
                }
                if (++consecutiveErrors >= MAX_CONSECUTIVE_ERRORS)
                {
                    throw e;
                }
            }
            final long t1 = System.nanoTime();
            final OpStats s = stats[op];
            if (ok)
            {
                s.ops++;
                s.latencyNs.recordValue(Math.min(t1 - t0, OpStats.MAX_LATENCY_NS));
            }
            else
            {
                s.errors++;
            }
            s.roundTrips += c.roundTrips - rtt;
            s.verbs += c.verbs - verbs;
            s.bytesOut += c.bytesOut - out;
            s.bytesIn += c.bytesIn - in;
            s.rpcs += c.rpcs - rpcs;
            if (++pending == PROGRESS_CHUNK)
            {
                done.addAndGet(pending);
                pending = 0;
            }
            if (timed && t1 - deadline >= 0)
            {
                break;
            }
        }
        done.addAndGet(pending);
    }

    /** Reports progress; called about five times a second and once at the end. */
    public interface Progress
    {
        void update(long opsDone, long elapsedNs);

        void finish(long opsDone, long elapsedNs);

        Progress NONE = new Progress()
        {
            @Override
            public void update(final long opsDone, final long elapsedNs)
            {
            }

            @Override
            public void finish(final long opsDone, final long elapsedNs)
            {
            }
        };
    }
}
