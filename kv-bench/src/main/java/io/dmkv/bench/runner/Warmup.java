package io.dmkv.bench.runner;

import java.time.Duration;

import io.dmkv.KvStore;

/**
 * The warm-up before a run phase ({@code kv bench --warmup}): the run phase's workload on the same
 * store and threads for a while, not counted, so the phase that is counted starts from a steady
 * state: the JIT has compiled the hot paths, the index cache holds the hot keys, and in FlexKV mode
 * the proxies have loaded their partitions, learnt the hot keys and filled their values and the
 * compute nodes' caches. Identical in both modes. It draws other keys than the run phase (its own
 * seed; its inserts go to keys no run phase inserts), and a hot set that shifts does not shift
 * during it.
 */
final class Warmup
{
    /** Mixed into the run's seed, so the warm-up does not replay the run phase's operations. */
    private static final long SEED_MIX = 0x5741524D55500000L;

    private Warmup()
    {
    }

    /**
     * Runs the warm-up of run phase {@code run} for {@code length} (nothing when zero), on the
     * threads the counted phase will run on ({@link BenchThreads}: why).
     *
     * @param threads      threads of this process.
     * @param totalThreads threads of all processes.
     * @param firstThread  global index of this process's first thread.
     */
    static void run(final KvStore kv, final Workload workload, final BenchThreads threads, final int totalThreads,
        final int firstThread, final int run, final long seed, final Duration length,
        final WorkloadRunner.Progress progress)
    {
        if (length.isZero())
        {
            return;
        }
        final BenchWorkers workers = new BenchWorkers(kv, workload, totalThreads, firstThread, Keys.warmupRun(run),
            seed ^ SEED_MIX);
        WorkloadRunner.run("warmup", BenchWorkers.RUN_OPS, threads, -1, length, workers::runner, progress);
    }
}
