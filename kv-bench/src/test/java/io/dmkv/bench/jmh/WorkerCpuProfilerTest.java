package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.Result;

class WorkerCpuProfilerTest
{
    @Test
    void cpuPerOperationIsTheWorkersCpuOverTheOperationsOfTheIteration()
    {
        // 2 ms of CPU over 0.5 s at 4,000 ops/s: 2,000 operations, 1,000 ns each, on 0.004 cores.
        final List<Result> r = WorkerCpuProfiler.results(2_000_000, 500_000_000, 4_000);
        assertEquals("cpu.ns/op", r.get(0).getLabel());
        assertEquals(1_000, r.get(0).getScore(), 1e-6);
        assertEquals("cpu.share", r.get(1).getLabel());
        assertEquals(0.004, r.get(1).getScore(), 1e-9);
    }

    @Test
    void countsTheCpuOfJmhWorkerThreadsWhileTheyLive() throws Exception
    {
        final WorkerCpuProfiler profiler = new WorkerCpuProfiler();
        final long before = profiler.workerCpuNs();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong spins = new AtomicLong();
        final Thread worker = new Thread(() ->
        {
            while (!stop.get())
            {
                spins.incrementAndGet();
            }
        }, "test-jmh-worker-1");
        worker.start();
        try
        {
            // Bounded: at most 5 s for the thread to be seen burning 20 ms of CPU.
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (profiler.workerCpuNs() - before < 20_000_000 && System.nanoTime() < deadline)
            {
                Thread.sleep(5);
            }
            assertTrue(profiler.workerCpuNs() - before >= 20_000_000, "a spinning worker's CPU is counted");
        }
        finally
        {
            stop.set(true);
            worker.join();
        }
        final long after = profiler.workerCpuNs();
        Thread.sleep(50);
        assertTrue(profiler.workerCpuNs() - after < 20_000_000, "a thread that ended counts no more");
    }
}
