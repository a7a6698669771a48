package io.dmkv.bench.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler ({@code -prof io.dmkv.bench.jmh.WorkerCpuProfiler}) that reports the CPU time the
 * benchmark's worker threads spent per operation ({@code cpu.ns/op}) and the cores they got
 * ({@code cpu.share}) in each iteration. On a machine shared with other jobs the throughput of a
 * one-thread benchmark falls with every time slice the thread loses, while its CPU time per
 * operation moves far less: it still grows with what the other jobs do to the caches, so compare
 * it side by side only, as throughput.
 */
public final class WorkerCpuProfiler implements InternalProfiler
{
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long cpuStart;
    private long wallStart;

    /** CPU nanoseconds of the live threads whose name holds "jmh-worker" (JMH's benchmark threads). */
    long workerCpuNs()
    {
        long sum = 0;
        for (final ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds()))
        {
            if (t != null && t.getThreadName().contains("jmh-worker"))
            {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmark, final IterationParams iteration)
    {
        wallStart = System.nanoTime();
        cpuStart = workerCpuNs();
    }

    @Override
    public List<Result> afterIteration(final BenchmarkParams benchmark, final IterationParams iteration,
        final IterationResult result)
    {
        final long cpu = workerCpuNs() - cpuStart;
        final long wall = System.nanoTime() - wallStart;
        return results(cpu, wall, result.getPrimaryResult().getScore());
    }

    /** The two results of an iteration that took {@code wallNs} and {@code cpuNs} at {@code opsPerSecond}. */
    static List<Result> results(final long cpuNs, final long wallNs, final double opsPerSecond)
    {
        final double ops = opsPerSecond * wallNs / 1e9;
        return List.of(new ScalarResult("cpu.ns/op", cpuNs / Math.max(1, ops), "ns/op", AggregationPolicy.AVG),
            new ScalarResult("cpu.share", (double)cpuNs / Math.max(1, wallNs), "cores", AggregationPolicy.AVG));
    }

    @Override
    public String getDescription()
    {
        return "CPU time of the benchmark's worker threads per operation";
    }
}
