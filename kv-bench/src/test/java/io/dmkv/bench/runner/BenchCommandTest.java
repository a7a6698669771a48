package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.dmkv.bench.cli.BenchCommand;
import picocli.CommandLine;

/** {@code kv bench} as a user runs it: results folder, merged processes, sweeps, workload files. */
@Timeout(120)
class BenchCommandTest
{
    @TempDir
    Path dir;

    @Test
    void twoClientProcessesAgainstAnEmbeddedTcpClusterWriteOneMergedResult() throws Exception
    {
        final Path results = dir.resolve("two-processes");
        final Run r = run("--workload", "a", "--records", "500", "--threads", "2", "--processes", "2",
            "--process-heap", "128m", "--warmup", "1s", "--duration", "2s", "--value-size", "200", "--results",
            results.toString());
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("2 s per run, after a 1 s warm-up"), r.out);
        assertTrue(r.out.contains("run: 2 client processes, their histograms and counters merged"), r.out);
        assertTrue(r.out.contains("RTT/op") && r.out.contains("READ") && r.out.contains("UPDATE"), r.out);
        assertTrue(r.out.contains("results: " + results), r.out);
        for (final String f : List.of("result.json", "results.csv", "summary.txt", "throughput-vs-threads.png",
            "latency-cdf.png"))
        {
            assertTrue(Files.size(results.resolve(f)) > 0, f);
        }
        final JsonNode json = new ObjectMapper().readTree(results.resolve("result.json").toFile());
        assertEquals(BenchReport.FORMAT, json.path("format").asText());
        assertEquals(500, json.path("load").path("ops").asLong(), "the parent loads every record once");
        final JsonNode run = json.path("runs").get(0);
        assertEquals(2, run.path("processes").asInt(), "process count recorded");
        assertEquals(2, run.path("threads").asInt());
        assertTrue(run.path("ops").asLong() > 0, run.toString());
        assertEquals(0, run.path("errors").asLong());
        assertTrue(run.path("throughput").asDouble() > 0);
        long sum = 0;
        for (final JsonNode op : run.path("operations"))
        {
            sum += op.path("ops").asLong();
            assertTrue(op.path("histogram").asText().length() > 0);
            assertTrue(op.path("perOp").path("roundTrips").asDouble() >= 1, op.toString());
        }
        assertEquals(run.path("ops").asLong(), sum);
        assertTrue(run.path("counters").path("reads").asLong() > 0);
        assertEquals(1.0, json.path("warmupSeconds").asDouble());
        final List<String> csv = Files.readAllLines(results.resolve("results.csv"));
        assertTrue(csv.get(0).endsWith(",warmup_s"), csv.get(0));
        assertTrue(csv.stream().anyMatch(l -> l.startsWith("run,2,2,,READ,") && l.endsWith(",1.0")), csv.toString());
    }

    @Test
    void aThreadSweepOfAWorkloadFileRunsInThisJvm() throws Exception
    {
        final Path workload = dir.resolve("inserts.properties");
        Files.writeString(workload, String.join("\n", "recordcount=300", "readproportion=0.6",
            "updateproportion=0.1", "insertproportion=0.2", "readmodifywriteproportion=0.1",
            "requestdistribution=latest", "fieldcount=4", "fieldlength=50", "fieldlengthdistribution=uniform", ""));
        final Path results = dir.resolve("sweep");
        final Run r = run("--workload-file", workload.toString(), "--threads", "1,2", "--warmup", "0s", "--duration",
            "400ms",
            "--transport", "local", "--nodes", "1", "--results", results.toString(), "--no-plots");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("workload inserts: 60% READ, 10% UPDATE, 20% INSERT, 10% RMW, latest 0.99, "
            + "300 records of 4..200 B"), r.out);
        assertTrue(r.out.contains("r = 1"), r.out);
        final JsonNode json = new ObjectMapper().readTree(results.resolve("result.json").toFile());
        assertEquals(2, json.path("runs").size());
        assertEquals(1, json.path("runs").get(0).path("threads").asInt());
        assertEquals(2, json.path("runs").get(1).path("threads").asInt());
        for (final JsonNode run : json.path("runs"))
        {
            assertEquals(1, run.path("processes").asInt());
            assertEquals(0, run.path("misses").asLong(), "latest reads only keys that exist: " + run);
            assertEquals(0, run.path("errors").asLong());
        }
        assertTrue(Files.exists(results.resolve("results.csv")));
        assertTrue(!Files.exists(results.resolve("latency-cdf.png")), "--no-plots");
    }

    /** One run per --memory-budget value, each with its budget in the JSON, the CSV and the table. */
    @Test
    void aMemoryBudgetSweepRunsOncePerBudgetInFlexkvMode() throws Exception
    {
        final Path results = dir.resolve("budgets");
        final Run r = run("--mode", "flexkv", "--workload", "c", "--records", "300", "--value-size", "500",
            "--threads", "2", "--warmup", "0s", "--duration", "500ms", "--transport", "local", "--nodes", "1",
            "--memory-budget",
            "0,100%", "--results", results.toString(), "--no-plots");
        assertEquals(0, r.exit, r.out + r.err);
        final Workload w = new Workload("c", 1, 0, 0, 0, Workload.Distribution.ZIPFIAN, 0.99, 300, 500, 500, -1);
        final long full = MemoryBudget.fullBytes(w, 1);
        final String fullText = io.dmkv.core.config.Sizes.format(full);
        assertTrue(r.out.contains("proxy memory budgets: 0 B, 100% (" + fullText + ")"), r.out);
        assertTrue(r.out.contains("run 2 of 2: 2 threads in 1 process, budget " + fullText), r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith(fullText + " ") && l.contains(" 2 ")), r.out);
        final JsonNode json = new ObjectMapper().readTree(results.resolve("result.json").toFile());
        assertEquals(2, json.path("runs").size());
        assertEquals(0, json.path("runs").get(0).path("memoryBudget").asLong(-1));
        assertEquals(full, json.path("runs").get(1).path("memoryBudget").asLong());
        for (final JsonNode run : json.path("runs"))
        {
            assertTrue(run.path("ops").asLong() > 0, run.toString());
            assertEquals(0, run.path("errors").asLong());
        }
        final String csv = Files.readString(results.resolve("results.csv"));
        assertTrue(csv.contains("load,2,1,,INSERT,"), csv);
        assertTrue(csv.contains("run,2,1,0,READ,") && csv.contains("run,2,1," + full + ",READ,"), csv);
    }

    /** The operation bound and the counters are the run phase's: the warm-up before it is not counted. */
    @Test
    void anOperationCountEndsTheRunBeforeItsDuration() throws Exception
    {
        final Path results = dir.resolve("count");
        final Run r = run("--workload", "c", "--records", "200", "--threads", "2", "--operations", "1000",
            "--warmup", "1s", "--duration", "1m", "--transport", "local", "--results", results.toString(),
            "--no-plots");
        assertEquals(0, r.exit, r.out + r.err);
        final JsonNode run = new ObjectMapper().readTree(results.resolve("result.json").toFile()).path("runs").get(0);
        assertEquals(1000, run.path("ops").asLong());
        // A second of reads before it would post thousands more READs than 1,000 reads do.
        assertTrue(run.path("counters").path("reads").asLong() <= 4 * 1000, run.path("counters").toString());
        assertTrue(run.path("elapsedNs").asLong() < 30_000_000_000L);
    }

    @Test
    void badOptionsAreUsageErrors()
    {
        assertEquals(2, run("--workload", "e").exit, "scans are refused");
        assertEquals(2, run("--workload", "a", "--workload-file", "x").exit, "one workload source");
        assertEquals(2, run("--processes", "2", "--transport", "local").exit, "children cannot reach local nodes");
        assertEquals(2, run("--threads", "0").exit);
        assertEquals(2, run("--no-load").exit, "an embedded cluster starts empty");
        assertEquals(2, run("--value-size", "1K..10").exit);
    }

    @Test
    void badComparisonOptionsAreUsageErrorsBeforeAnythingStarts()
    {
        assertError("--mode takes fusee, flexkv or both", "--mode", "fusee,clover");
        assertError("--mode takes fusee, flexkv or both", "--mode", "flexkv,flexkv");
        assertError("--rounds must be in 1..50", "--rounds", "0");
        assertError("--shift-at must lie strictly between 0% and 100%", "--shift-at", "150%");
        assertError("--shift-at takes a share of the run such as 50% or 0.5", "--shift-at", "half");
        assertError("no workload here is zipfian", "--workload", "c", "--distribution", "uniform", "--shift-at", "50%");
        assertError("--cluster must be embedded or daemons", "--cluster", "cloud");
        assertError("without --memnodes", "--mode", "fusee,flexkv", "--memnodes", "127.0.0.1:1");
        assertError("drop --memnodes", "--cluster", "daemons", "--memnodes", "127.0.0.1:1");
        assertError("take one --threads value", "--mode", "fusee,flexkv", "--threads", "1,2");
        assertError("several modes, rounds or workloads need a fresh cluster", "--rounds", "2", "--cluster", "embedded");
        assertError("flexkv mode with --memnodes needs --coordinator", "--mode", "flexkv", "--memnodes", "127.0.0.1:1");
        assertError("--coordinator is for --cluster daemons or --memnodes", "--coordinator", "127.0.0.1:1");
        assertError("no workload named 'z'", "--workload", "a,z");
        assertError("use it with --mode flexkv alone", "--memory-budget", "25%");
        assertError("use it with --mode flexkv alone", "--mode", "fusee,flexkv", "--memory-budget", "2M");
        assertError("use it with --mode flexkv alone", "--mode", "flexkv", "--rounds", "2", "--memory-budget", "2M");
        assertError("--memory-budget share must be in (0%, 1000%]", "--mode", "flexkv", "--memory-budget", "5%,0%");
        assertError("--memory-budget takes a share such as 25% or a size", "--mode", "flexkv", "--memory-budget", "x");
        assertError("at most 100 runs", "--mode", "flexkv", "--threads", "1,2,3,4,5,6,7,8,9,10,11",
            "--memory-budget", "1%,2%,3%,4%,5%,6%,7%,8%,9%,10%");
        assertEquals(0, ChildReaper.live(), "nothing was started");
    }

    /**
     * The end-to-end slice of {@code --mode fusee,flexkv}: two client processes, one round of a
     * second in each mode, on fresh clusters of a memory-node daemon and a coordinator process; one
     * table, the checks, the files, and every child process gone at the end. Then {@code kv model}
     * reads the folder.
     */
    @Test
    @Timeout(300)
    void bothModesRunSideBySideOnFreshDaemonClusters() throws Exception
    {
        final Path results = dir.resolve("modes");
        final Run r = run("--mode", "fusee,flexkv", "--workload", "c", "--records", "300", "--threads", "2",
            "--processes", "2", "--process-heap", "128m", "--warmup", "500ms", "--duration", "1s", "--nodes", "1",
            "--value-size", "100", "--results", results.toString());
        assertEquals(0, r.exit, r.out + r.err);
        for (final String step : List.of("[1/2] c-zipfian, round 1 of 1, fusee mode", "[2/2] c-zipfian, round 1 of 1, "
            + "flexkv mode"))
        {
            assertTrue(r.out.contains(step + ": starting a fresh cluster"), "progress line for " + step + ": " + r.out);
        }
        assertTrue(r.out.contains("1 s per run (counted after a 500 ms warm-up); 1 round of fusee, flexkv alternating on"
            + " fresh clusters"), r.out);
        assertTrue(java.util.regex.Pattern.compile("(?m)^READ +flexkv/fusee +[0-9.]+x").matcher(r.out).find(),
            "the ratio row: " + r.out);
        assertTrue(r.out.contains("exact: remote CAS in flexkv mode, all rounds: 0 "), r.out);
        assertTrue(r.out.contains("exact: READ critical-path round trips per operation"), "C zipfian must cut RTTs: "
            + r.out);
        assertTrue(r.out.contains("load average (1 minute)"), r.out);
        final boolean proc = Files.isDirectory(Path.of("/proc/self/task"));
        if (proc)
        {
            // Half a second of warm-up leaves the compilers busy in the counted second: said per run and per cell.
            assertTrue(java.util.regex.Pattern.compile("flexkv mode: [0-9,]+ ops/s, p99 [0-9,]+ us; load average "
                + "[0-9.]+ -> [0-9.]+; JIT [0-9]+% of client CPU").matcher(r.out).find(), r.out);
            assertTrue(r.out.contains("JIT compiler in the counted phase, share of the client processes' CPU: fusee "),
                r.out);
        }
        final JsonNode json = new ObjectMapper().readTree(results.resolve("compare.json").toFile());
        assertEquals("dmkv-bench-compare/1", json.path("format").asText());
        final JsonNode cell = json.path("cells").get(0);
        assertEquals("c-zipfian", cell.path("cell").asText());
        assertEquals(2, cell.path("runs").size());
        assertEquals(0, json.path("failures").size());
        for (final String run : List.of("fusee-1", "flexkv-1"))
        {
            final JsonNode phase = new ObjectMapper().readTree(results.resolve("c-zipfian").resolve(run)
                .resolve("result.json").toFile()).path("runs").get(0);
            assertEquals(2, phase.path("processes").asInt(), run);
            assertEquals(0, phase.path("errors").asLong(), run);
            assertTrue(phase.path("ops").asLong() > 0 && phase.path("cpuNs").asLong() > 0, run + ": " + phase);
            final long jit = phase.path("jitCpuNs").asLong(-1);
            assertTrue(proc ? jit > 0 && jit <= phase.path("cpuNs").asLong() : jit == 0, run + ": " + phase);
            if (run.startsWith("flexkv"))
            {
                assertEquals(0, phase.path("counters").path("cas").asLong(), "no remote CAS on proxied partitions");
            }
        }
        assertTrue(Files.readString(results.resolve("compare.csv")).contains("c-zipfian,READ,flexkv/fusee,"
            + "throughput_ratio,"));
        assertTrue(Files.readString(results.resolve("compare.csv")).contains("c-zipfian,all,all,warmup_s,0.5,0.5,0.5"));
        for (final String f : List.of("summary.txt", "throughput-by-mode.png", "c-zipfian-latency-cdf.png",
            "c-zipfian-throughput-over-time.png"))
        {
            assertTrue(Files.size(results.resolve(f)) > 0, f);
        }
        assertEquals(0, ChildReaper.live(), "every memory node, coordinator and client process has ended");

        final StringWriter model = new StringWriter();
        final CommandLine cl = new CommandLine(new io.dmkv.bench.cli.ModelCommand());
        cl.setOut(new PrintWriter(model, true));
        assertEquals(0, cl.execute("--results", results.toString(), "--proxy-cpu-us", "measured"));
        assertTrue(model.toString().contains("cx3: FlexKV mode") && model.toString().contains("cx6: FUSEE mode")
            && model.toString().contains("| c-zipfian "), model.toString());
    }

    private static void assertError(final String message, final String... args)
    {
        final Run r = run(args);
        assertEquals(2, r.exit, String.join(" ", args) + ": " + r.out + r.err);
        assertTrue(r.err.contains(message), String.join(" ", args) + " should say '" + message + "': " + r.err);
    }

    private static Run run(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private record Run(int exit, String out, String err)
    {
    }
}
