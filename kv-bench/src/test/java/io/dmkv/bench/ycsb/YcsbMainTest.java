package io.dmkv.bench.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import site.ycsb.measurements.Measurements;
import site.ycsb.workloads.CoreWorkload;

/**
 * YCSB's load and run phases in one JVM on an embedded cluster, through {@link YcsbMain} as
 * {@code scripts/ycsb} runs them, with YCSB checking every value it reads (dataintegrity).
 */
class YcsbMainTest
{
    private static final Path WORKLOADS = Path.of("workloads");

    /** What a {@link YcsbMain#run} printed and returned. */
    private record Run(int exit, String out, String err)
    {
        /** The report of one phase: the text after its "# YCSB PHASE phase" line. */
        YcsbReport phase(final String phase)
        {
            final String marker = "# YCSB " + phase + " phase";
            final int from = out.indexOf(marker);
            assertTrue(from >= 0, "no " + phase + " phase in:\n" + out);
            final int to = out.indexOf("# YCSB ", from + marker.length());
            return YcsbReport.parse(out.substring(from, to < 0 ? out.length() : to));
        }
    }

    private static Run ycsb(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = YcsbMain.run(args, o, e);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] tinyRun(final String workload, final String... more)
    {
        final List<String> args = new ArrayList<>(List.of("run", "-P", WORKLOADS.resolve(workload).toString(),
            "-p", "recordcount=300", "-p", "operationcount=600", "-p", "dataintegrity=true",
            "-p", "fieldlengthdistribution=constant", "-p", "dmkv.embedded.memory=128M", "-threads", "4"));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"workloada", "workloadb", "workloadd", "workloadf"})
    void loadThenRunInOneJvmPassesYcsbsDataIntegrityCheck(final String workload)
    {
        final Run r = ycsb(tinyRun(workload));
        assertEquals(0, r.exit(), r.err());

        final YcsbReport load = r.phase("load");
        assertEquals(300, load.returns("INSERT", "OK"));
        assertEquals(List.of(), load.failures());

        final YcsbReport run = r.phase("run");
        assertEquals(List.of(), run.failures());
        final long reads = run.returns("READ", "OK");
        assertTrue(reads > 0, "no reads in:\n" + r.out());
        assertEquals(reads, run.returns("VERIFY", "OK"), "every read value is verified");
        final long writes = run.returns("UPDATE", "OK") + run.returns("INSERT", "OK");
        assertEquals(600, workload.equals("workloadf") ? reads : reads + writes);
        assertTrue(run.throughput() > 0);
    }

    @Test
    void eachPhaseReportsOnlyItsOwnOperations()
    {
        final Run r = ycsb(tinyRun("workloadc"));
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.phase("run").sections().contains("INSERT"), "the load's inserts leaked into the run:\n"
            + r.out());
        assertFalse(r.phase("load").sections().contains("READ"));
    }

    @Test
    void aWorkloadThatCannotCheckIntegrityIsAUsageError()
    {
        final Run r = ycsb("run", "-P", WORKLOADS.resolve("workloada").toString(), "-p", "dataintegrity=true",
            "-p", "fieldlengthdistribution=uniform", "-p", "dmkv.embedded.memory=128M");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("constant field size"), r.err());
    }

    @Test
    void scansOfWorkloadEFailTheRun()
    {
        final Run r = ycsb(tinyRun("workloada", "-p", "dataintegrity=false", "-p", "readproportion=0.5",
            "-p", "updateproportion=0", "-p", "scanproportion=0.5"));
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("[SCAN] Return=NOT_IMPLEMENTED"), r.err());
    }

    @Test
    void theChecksBeforeAPhaseWorkInAFreshJvm()
    {
        // As in a new JVM: no measurement properties yet, so a CoreWorkload cannot be created.
        Measurements.setProperties(null);
        YcsbPhase.resetMeasurements();
        final Properties p = new Properties();
        p.setProperty("workload", CoreWorkload.class.getName());
        p.setProperty("recordcount", "10");
        YcsbPhase.checkCoreWorkload(p);
        p.setProperty("insertcount", "11");
        assertThrows(IllegalArgumentException.class, () -> YcsbPhase.checkCoreWorkload(p));
    }

    @Test
    void helpAndBadArgumentsExitCleanly()
    {
        final Run help = ycsb("--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().startsWith("Usage: ycsb load|run -P FILE"), help.out());

        assertEquals(2, ycsb().exit());
        final Run phase = ycsb("bench", "-P", "x");
        assertEquals(2, phase.exit());
        assertTrue(phase.err().contains("load or run"), phase.err());

        final Run file = ycsb("run", "-P", "no/such/workload");
        assertEquals(2, file.exit());
        assertTrue(file.err().contains("no/such/workload"), file.err());

        final Run noWorkload = ycsb("run", "-p", "recordcount=1");
        assertEquals(2, noWorkload.exit());
        assertTrue(noWorkload.err().contains("-P"), noWorkload.err());

        final Run embedded = ycsb("run", "-P", WORKLOADS.resolve("workloada").toString(), "-p", "dmkv.embedded.node=2");
        assertEquals(2, embedded.exit());
        assertTrue(embedded.err().contains("dmkv.embedded.node"), embedded.err());
    }

    @Test
    void argsLikeYcsbsClientPutEveryDashPOverTheFiles()
    {
        final Properties p = YcsbArgs.parse(List.of("-p", "recordcount=5", "-P", WORKLOADS.resolve("workloadb")
            .toString(), "-threads", "3", "-load", "-db", "x.Y", "-s"));
        assertEquals("5", p.getProperty("recordcount"), "-p wins over the file whatever the order");
        assertEquals("0.95", p.getProperty("readproportion"));
        assertEquals("3", p.getProperty("threadcount"));
        assertEquals("false", p.getProperty("dotransactions"));
        assertEquals("x.Y", p.getProperty("db"));
        assertEquals("true", p.getProperty("status"));
        assertEquals(WORKLOADS.resolve("workloadc"), YcsbArgs.resolve("workloadc", WORKLOADS));
    }

    @Test
    void reportParsingFindsThroughputLatencyAndFailures()
    {
        final YcsbReport r = YcsbReport.parse(String.join("\n",
            "[OVERALL], RunTime(ms), 1000",
            "[OVERALL], Throughput(ops/sec), 2500.5",
            "[READ], Operations, 10",
            "[READ], 99thPercentileLatency(us), 812",
            "[READ], Return=OK, 9",
            "[READ], Return=NOT_FOUND, 1",
            "[READ-FAILED], Operations, 1",
            "[VERIFY], Return=OK, 9",
            "not a measurement"));
        assertEquals(2500.5, r.throughput());
        assertEquals(812, r.p99Micros("READ").orElseThrow());
        assertEquals(9, r.returns("VERIFY", "OK"));
        assertEquals(List.of("[READ] Return=NOT_FOUND: 1"), r.failures());
    }
}
