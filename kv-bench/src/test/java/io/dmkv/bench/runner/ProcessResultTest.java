package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.rdma.VerbCounters;

/** Results of client processes cross a file as JSON and merge into one: the merge is the sum. */
class ProcessResultTest
{
    @TempDir
    Path dir;

    @Test
    void mergeOfTwoProcessesIsTheSumOfTheirCountersAndHistograms() throws Exception
    {
        final OpStats[] a = stats(new long[] {1_000, 2_000, 3_000}, new long[] {10_000});
        final OpStats[] b = stats(new long[] {1_500, 50_000}, new long[] {20_000, 30_000, 2_000_000});
        a[0].roundTrips = 3;
        a[0].verbs = 9;
        a[0].bytesOut = 0;
        a[0].bytesIn = 3_840;
        a[1].roundTrips = 3;
        a[1].verbs = 11;
        a[1].bytesOut = 3_137;
        a[1].bytesIn = 300;
        a[1].rpcs = 1;
        a[1].errors = 2;
        b[0].roundTrips = 2;
        b[0].verbs = 6;
        b[0].bytesIn = 2_560;
        b[1].roundTrips = 9;
        b[1].verbs = 33;
        b[1].bytesOut = 9_411;
        b[1].bytesIn = 900;
        final VerbCounters.Snapshot ca = new VerbCounters.Snapshot(10, 4, 2, 1, 1, 3_200, 4_200, 6);
        final VerbCounters.Snapshot cb = new VerbCounters.Snapshot(20, 12, 6, 3, 0, 9_500, 3_500, 11);
        // process 0 runs from t = 1 s to 3 s, process 1 from 1.5 s to 3.5 s: the phase lasted 2.5 s
        final long t0 = 1_000_000_000_000L;
        final ProcessResult pa = ProcessResult.of(0, new RunResult("run", 2, 2_000_000_000L, List.of(a)), t0,
            new long[] {5, 0}, ca, new PhaseCpu(700_000_000L, 90_000_000L));
        final ProcessResult pb = ProcessResult.of(1, new RunResult("run", 3, 2_000_000_000L, List.of(b)),
            t0 + 500_000_000L, new long[] {3, 4}, cb, new PhaseCpu(500_000_000L, 30_000_000L));
        pa.write(dir.resolve("a.json"));
        pb.write(dir.resolve("b.json"));

        final ProcessResult.Merged m = ProcessResult.merge("run",
            List.of(ProcessResult.read(dir.resolve("a.json")), ProcessResult.read(dir.resolve("b.json"))));

        assertEquals(2, m.processes());
        assertEquals(5, m.result().threads());
        assertEquals(2_500_000_000L, m.result().elapsedNs(), "earliest start to latest end");
        assertEquals(12, m.misses());
        assertEquals(1_200_000_000L, m.cpuNs(), "CPU time of all processes adds up");
        assertEquals(120_000_000L, m.jitCpuNs(), "so does their compilers' (through the JSON files)");
        assertEquals(List.of(8L, 4L), m.opMisses());
        assertEquals(ca.plus(cb), m.counters());
        final OpStats read = m.result().ops().get(0);
        final OpStats update = m.result().ops().get(1);
        assertEquals("READ", read.name());
        assertEquals(5, read.ops());
        assertEquals(5, read.roundTrips());
        assertEquals(15, read.verbs());
        assertEquals(6_400, read.bytesIn());
        assertEquals(4, update.ops());
        assertEquals(2, update.errors());
        assertEquals(12, update.roundTrips());
        assertEquals(44, update.verbs());
        assertEquals(12_548, update.bytesOut());
        assertEquals(1_200, update.bytesIn());
        assertEquals(1, update.rpcs());
        assertEquals(9, m.result().totalOps());
        assertEquals(9 / 2.5, m.result().throughput(), 1e-9, "all operations over the wall time");

        final Histogram allReads = histogram(1_000, 2_000, 3_000, 1_500, 50_000);
        assertEquals(allReads, read.latencyNs(), "the merged histogram holds every process's values");
        final Histogram allUpdates = histogram(10_000, 20_000, 30_000, 2_000_000);
        for (final double p : new double[] {0, 50, 90, 99, 100})
        {
            assertEquals(allUpdates.getValueAtPercentile(p), update.latencyNs().getValueAtPercentile(p));
        }
    }

    @Test
    void histogramsSurviveTheirTextEncoding()
    {
        final Histogram h = histogram(1, 999, 1_000_000, OpStats.MAX_LATENCY_NS);
        assertEquals(h, ProcessResult.decode(ProcessResult.encode(h)));
        assertEquals(0, ProcessResult.decode(ProcessResult.encode(new Histogram(OpStats.MAX_LATENCY_NS, 3)))
            .getTotalCount());
    }

    @Test
    void processesThatRanDifferentOperationsAreNotMerged()
    {
        final ProcessResult a = ProcessResult.of(0, new RunResult("run", 1, 1, List.of(new OpStats("READ"))), 0,
            new long[1], VerbCounters.Snapshot.ZERO, PhaseCpu.ZERO);
        final ProcessResult b = ProcessResult.of(1, new RunResult("run", 1, 1, List.of(new OpStats("UPDATE"))), 0,
            new long[1], VerbCounters.Snapshot.ZERO, PhaseCpu.ZERO);
        assertThrows(IllegalArgumentException.class, () -> ProcessResult.merge("run", List.of(a, b)));
    }

    private static OpStats[] stats(final long[] reads, final long[] updates)
    {
        final OpStats read = new OpStats("READ");
        final OpStats update = new OpStats("UPDATE");
        for (final long v : reads)
        {
            read.latencyNs.recordValue(v);
            read.ops++;
        }
        for (final long v : updates)
        {
            update.latencyNs.recordValue(v);
            update.ops++;
        }
        return new OpStats[] {read, update};
    }

    private static Histogram histogram(final long... values)
    {
        final Histogram h = new Histogram(OpStats.MAX_LATENCY_NS, 3);
        for (final long v : values)
        {
            h.recordValue(v);
        }
        return h;
    }
}
