package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.dmkv.rdma.VerbCounters;

/** The medians, spreads, ratios and checks of a mode comparison, on runs whose figures are known. */
class ComparisonTest
{
    private static final long SECOND = 1_000_000_000L;

    /**
     * A run of one second: {@code reads} READs at {@code readUs} µs each with {@code rtt} round trips
     * apiece, and {@code cas} CAS in the store's counters.
     */
    private static Comparison.Run run(final String mode, final int round, final long reads, final long readUs,
        final long rtt, final long cas, final long cpuNs)
    {
        return run(mode, round, reads, readUs, rtt, cas, new PhaseCpu(cpuNs, 0));
    }

    /** As above, with the client processes' CPU and its JIT compilers' part. */
    private static Comparison.Run run(final String mode, final int round, final long reads, final long readUs,
        final long rtt, final long cas, final PhaseCpu cpu)
    {
        final OpStats read = new OpStats("READ");
        for (long i = 0; i < reads; i++)
        {
            read.latencyNs.recordValue(readUs * 1000);
        }
        read.ops = reads;
        read.roundTrips = rtt * reads;
        read.verbs = 2 * reads;
        read.rpcs = "flexkv".equals(mode) ? reads : 0;
        final OpStats update = new OpStats("UPDATE");
        final RunResult r = new RunResult("run", 4, SECOND, List.of(read, update));
        final ProcessResult p = ProcessResult.of(0, r, 0, new long[2],
            new VerbCounters.Snapshot(2 * reads, 0, cas, 5, 0, 0, 0, rtt * reads), cpu);
        return new Comparison.Run(mode, round, ProcessResult.merge("run", List.of(p)), -1, List.of());
    }

    @Test
    void spreadIsTheMedianWithTheSmallestAndLargestValue()
    {
        assertEquals(new Comparison.Spread(3, 1, 9), Comparison.Spread.of(9, 1, 3));
        assertEquals(new Comparison.Spread(2.5, 1, 9), Comparison.Spread.of(9, 1, 2, 3), "even count: mean of the middle");
        assertEquals(new Comparison.Spread(4, 4, 4), Comparison.Spread.of(4, Double.NaN), "NaN is skipped");
        assertTrue(Double.isNaN(Comparison.Spread.of().median()));
        assertEquals("1,234 [1,000..2,000]", new Comparison.Spread(1234, 1000, 2000).format(0));
        assertEquals("7.50", new Comparison.Spread(7.5, 7.5, 7.5).format(2));
    }

    @Test
    void ratiosPairTheRoundsThatRanOneAfterTheOther()
    {
        final List<Comparison.Run> runs = new ArrayList<>();
        // fusee: 1000, 2000, 4000 ops/s; flexkv: 3000, 3000, 4000: ratios 3, 1.5, 1 by round
        runs.add(run("fusee", 1, 1000, 100, 3, 10, 0));
        runs.add(run("flexkv", 1, 3000, 50, 2, 0, 0));
        runs.add(run("fusee", 2, 2000, 100, 3, 10, 0));
        runs.add(run("flexkv", 2, 3000, 25, 2, 0, 0));
        runs.add(run("fusee", 3, 4000, 200, 3, 10, 0));
        runs.add(run("flexkv", 3, 4000, 100, 2, 0, 0));
        final Comparison c = new Comparison("b-zipfian", List.of("fusee", "flexkv"), runs);
        assertEquals(List.of("READ"), c.ops(), "UPDATE did not run");
        final Comparison.Row f = c.row("READ", "fusee");
        assertEquals(new Comparison.Spread(2000, 1000, 4000), f.opsPerSec());
        assertEquals(100, f.p99Us().median(), 1);
        assertEquals(3.0, f.rttPerOp(), 1e-9, "pooled over the rounds");
        final Comparison.Ratio q = c.ratio("READ");
        assertEquals(1.5, q.throughput().median(), 1e-9);
        assertEquals(1.0, q.throughput().min(), 1e-9);
        assertEquals(3.0, q.throughput().max(), 1e-9);
        assertEquals(0.5, q.p99().median(), 0.01, "p99 ratios 0.5, 0.25, 0.5");
        assertEquals(0.5, q.p99Reduction(), 0.01);
        assertEquals(2.0 / 3.0, q.rtt(), 1e-9);
        final Comparison.Row all = c.row("all", "fusee");
        assertEquals(10.0 * 3 / 7000, all.casPerOp(), 1e-12, "store-wide CAS over all rounds' operations");
        assertTrue(Double.isNaN(f.casPerOp()), "CAS exists per phase only");
        final String table = c.table();
        assertTrue(table.contains("flexkv/fusee") && table.contains("1.50 [1.00..3.00]x"), table);
    }

    @Test
    void aRoundOneModeLacksIsLeftOutOfTheRatios()
    {
        final List<Comparison.Run> runs = List.of(run("fusee", 1, 1000, 100, 3, 0, 0), run("flexkv", 1, 2000, 100, 2, 0, 0),
            run("fusee", 2, 1000, 100, 3, 0, 0));
        final Comparison.Ratio q = new Comparison("x", List.of("fusee", "flexkv"), runs).ratio("READ");
        assertEquals(new Comparison.Spread(2, 2, 2), q.throughput());
        assertNull(new Comparison("x", List.of("fusee"), runs).ratio("READ"), "one mode has no ratio");
    }

    @Test
    void checksSayWhatWasMetAndWhatWasNot()
    {
        final List<Comparison.Run> runs = List.of(run("fusee", 1, 1000, 100, 2, 7, 0), run("flexkv", 1, 1500, 90, 3, 0, 0));
        final List<String> checks = ClaimChecks.checks(new Comparison("c-zipfian", List.of("fusee", "flexkv"), runs), true);
        assertTrue(checks.get(0).startsWith("exact: remote CAS in flexkv mode, all rounds: 0 ") && checks.get(0)
            .endsWith("PASS"), checks.toString());
        assertTrue(checks.get(1).contains("READ critical-path round trips per operation, flexkv 3.00 vs fusee 2.00: FAIL"),
            checks.toString());
        assertTrue(checks.get(2).contains("1.50x: not met"), checks.toString());
        assertTrue(checks.get(3).contains("10% lower") && checks.get(3).endsWith("not met"), checks.toString());
        assertTrue(checks.get(4).endsWith("met") && !checks.get(4).contains("SLOWER"), checks.toString());

        final List<Comparison.Run> slower = List.of(run("fusee", 1, 3000, 10, 2, 0, 0), run("flexkv", 1, 1000, 100, 1,
            4, 0));
        final List<String> s = ClaimChecks.checks(new Comparison("b", List.of("fusee", "flexkv"), slower), false);
        assertTrue(s.get(0).contains(": 4 ") && s.get(0).endsWith("FAIL"), s.toString());
        assertTrue(s.get(1).startsWith("reported: ") && s.get(1).endsWith("fewer"), s.toString());
        assertTrue(s.get(3).contains("900% higher"), s.toString());
        assertTrue(s.get(4).contains("SLOWER"), s.toString());
    }

    @Test
    void cpuPerOperationIsTheProcessesTimeOverTheOperations()
    {
        final Comparison c = new Comparison("x", List.of("flexkv"), List.of(run("flexkv", 1, 2000, 100, 2, 0, 500_000_000L)));
        assertEquals(250.0, c.row("all", "flexkv").cnCpuUsPerOp(), 1e-9, "0.5 s of CPU over 2,000 operations");
        assertTrue(Double.isNaN(c.row("all", "flexkv").mnCpuUsPerOp()), "memory nodes not measured");
        assertEquals(1.0, c.row("READ", "flexkv").rpcsPerOp(), 1e-9);
        assertTrue(Double.isNaN(c.row("all", "flexkv").cnJitUsPerOp()), "the compiler's CPU not measured");
        assertEquals(List.of(), ClaimChecks.jitLines(c), "nothing said of a compiler not measured");
    }

    @Test
    void aModeWhoseCompilerTookMoreThanATenthOfTheCpuIsNamed()
    {
        // fusee: 1 s of CPU, 20 ms of it compiling (2%); flexkv: 1 s over two rounds, 150 + 100 ms (25%)
        final List<Comparison.Run> runs = List.of(run("fusee", 1, 1000, 100, 2, 0, new PhaseCpu(1_000_000_000L,
            20_000_000L)), run("flexkv", 1, 1000, 100, 1, 0, new PhaseCpu(500_000_000L, 150_000_000L)),
            run("flexkv", 2, 1000, 100, 1, 0, new PhaseCpu(500_000_000L, 100_000_000L)));
        final Comparison c = new Comparison("b", List.of("fusee", "flexkv"), runs);
        assertEquals(20.0, c.row("all", "fusee").cnJitUsPerOp(), 1e-9, "20 ms over 1,000 operations");
        assertEquals(125.0, c.row("all", "flexkv").cnJitUsPerOp(), 1e-9, "250 ms over 2,000 operations");
        assertTrue(Double.isNaN(c.row("READ", "flexkv").cnJitUsPerOp()), "phase-wide: on the all row only");
        final List<String> lines = ClaimChecks.jitLines(c);
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("fusee 2% (20.0 us/op), flexkv 25% (125.0 us/op)"), lines.toString());
        assertTrue(lines.get(1).startsWith("note: in flexkv mode the JIT compiler took more than 10% of the client "
            + "processes' CPU in the counted phase"), lines.toString());
        assertFalse(lines.get(1).contains("fusee"), "a mode below the threshold is not named: " + lines);

        final Comparison quiet = new Comparison("b", List.of("fusee", "flexkv"), List.of(runs.get(0)));
        assertEquals(1, ClaimChecks.jitLines(quiet).size(), "no note when every mode is below the threshold");
        assertTrue(quiet.csv().contains("b,all,fusee,cn_jit_us_per_op,20"), quiet.csv());
        // 10.3% prints as 10%, and is not called more than 10%; 10.6% prints as 11% and is.
        final List<String> ten = ClaimChecks.jitLines(new Comparison("b", List.of("fusee"), List.of(run("fusee", 1, 1000,
            100, 2, 0, new PhaseCpu(1_000_000_000L, 103_000_000L)))));
        assertEquals(List.of("JIT compiler in the counted phase, share of the client processes' CPU: fusee 10% (103.0 "
            + "us/op)"), ten);
        assertEquals(2, ClaimChecks.jitLines(new Comparison("b", List.of("fusee"), List.of(run("fusee", 1, 1000, 100, 2,
            0, new PhaseCpu(1_000_000_000L, 106_000_000L))))).size());
    }
}
