package io.dmkv.bench.runner;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.dmkv.KvConfig;

/**
 * {@code kv bench --mode fusee,flexkv}: every cell (a workload) runs in every mode for a number
 * of rounds, the modes alternating (fusee, flexkv, fusee, flexkv, ...), each run on a fresh
 * cluster with the same seed as the other mode's run of that round: identical work. Each run is
 * an ordinary {@link BenchRunner} run with its own results folder; the cell's {@link Comparison}
 * (one table, the checks of FlexKV's claim) is printed as the cell completes, and the whole lot is
 * written as {@code compare.json}, {@code compare.csv}, {@code summary.txt} and PNG plots.
 */
public final class ModeCompare
{
    /** Format tag and version of {@code compare.json}. */
    public static final String FORMAT = "dmkv-bench-compare/1";
    public static final String JSON_FILE = "compare.json";
    public static final String CSV_FILE = "compare.csv";
    /** Tries of a run: one failure (a starved machine's lost session, say) is retried on a fresh cluster. */
    private static final int ATTEMPTS = 2;
    /** How long a FlexKV run waits for its partition map to settle before it starts anyway. */
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModeCompare()
    {
    }

    /** A fresh cluster for each run. */
    @FunctionalInterface
    public interface Clusters
    {
        /** A cluster for the run of {@code mode} in round {@code round} of cell {@code cell}. */
        BenchCluster start(String cell, String mode, int round) throws IOException, InterruptedException;
    }

    /** How a cluster's store is configured for a mode (replication, index area, security). */
    @FunctionalInterface
    public interface Stores
    {
        KvConfig store(BenchCluster cluster, String mode);
    }

    /**
     * What to run.
     *
     * @param cells       the workloads, one cell each.
     * @param modes       the modes, in the order they alternate within a round.
     * @param rounds      rounds per cell.
     * @param threads     client threads of each run, over all processes.
     * @param processes   client processes of each run.
     * @param processHeap {@code -Xmx} of each client process.
     * @param duration    length of each run phase.
     * @param loadThreads threads of each load.
     * @param seed        seed of round 1; round i uses {@code seed + i - 1} in every mode.
     * @param folder      results folder.
     * @param plots       whether to draw PNG plots.
     * @param setup       facts for compare.json (command line, machine, cluster shape).
     */
    public record Matrix(List<Workload> cells, List<String> modes, int rounds, int threads, int processes,
        String processHeap, Duration warmup, Duration duration, int loadThreads, long seed, Path folder, boolean plots,
        Map<String, Object> setup)
    {
    }

    /**
     * Checks a {@code --mode} list: fusee, flexkv, or both in either order.
     *
     * @throws IllegalArgumentException naming what is wrong.
     */
    public static void checkModes(final List<String> modes)
    {
        if (modes.isEmpty() || modes.size() > 2 || modes.stream().anyMatch(m -> !m.equals("fusee") && !m.equals("flexkv"))
            || modes.size() == 2 && modes.get(0).equals(modes.get(1)))
        {
            throw new IllegalArgumentException("--mode takes fusee, flexkv or both (fusee,flexkv), got '"
                + String.join(",", modes) + "'");
        }
    }

    /** The name of a cell: {@code b-zipfian}, {@code a-uniform}, {@code a-zipfian-shift50}. */
    public static String cellName(final Workload w)
    {
        return w.name() + "-" + w.distribution().ycsbName()
            + (w.shifts() ? String.format(Locale.ROOT, "-shift%.0f", w.hotSetShift() * 100) : "");
    }

    /**
     * Whether FlexKV must cut the critical-path round trips of this cell (YCSB B and C, zipfian,
     * hot set fixed), or they are only reported.
     */
    static boolean rttMustDrop(final Workload w)
    {
        return w.distribution() == Workload.Distribution.ZIPFIAN && !w.shifts() && w.insertProportion() == 0
            && w.readModifyWriteProportion() == 0 && w.readProportion() >= 0.95;
    }

    /**
     * Runs the matrix, printing a progress line per run and each cell's table and checks on
     * {@code out}. Returns the comparisons; exit status 1 is due if any run failed
     * ({@link Result#failures}).
     */
    public static Result run(final Matrix m, final Clusters clusters, final Stores stores, final PrintWriter out)
        throws IOException, InterruptedException
    {
        Files.createDirectories(m.folder());
        final List<Comparison> cells = new ArrayList<>();
        final List<Double> loads = new ArrayList<>();
        final StringBuilder summary = new StringBuilder();
        final List<String> failures = new ArrayList<>();
        final List<String> retries = new ArrayList<>();
        final int total = m.cells().size() * m.rounds() * m.modes().size();
        int done = 0;
        for (final Workload w : m.cells())
        {
            final String cell = cellName(w);
            final List<Comparison.Run> runs = new ArrayList<>();
            for (int round = 1; round <= m.rounds(); round++)
            {
                for (final String mode : m.modes())
                {
                    done++;
                    final String what = String.format(Locale.ROOT, "[%d/%d] %s, round %d of %d, %s mode", done, total,
                        cell, round, m.rounds(), mode);
                    out.println(what + ": starting a fresh cluster");
                    out.flush();
                    final double loadBefore = LoadAverage.oneMinute();
                    for (int attempt = 1; attempt <= ATTEMPTS; attempt++)
                    {
                        try
                        {
                            final Comparison.Run run = runOne(m, w, cell, mode, round, clusters, stores, out);
                            runs.add(run);
                            final double loadAfter = LoadAverage.oneMinute();
                            loads.add(loadBefore);
                            loads.add(loadAfter);
                            out.printf(Locale.ROOT, "%s: %,.0f ops/s, p99 %,.0f us; load average %.2f -> %.2f%s%n",
                                what, run.merged().result().throughput(),
                                run.merged().result().all().latencyNs().getValueAtPercentile(99) / 1e3, loadBefore,
                                loadAfter, jitShare(run.merged()));
                            break;
                        }
                        catch (final RuntimeException | IOException e)
                        {
                            if (attempt < ATTEMPTS)
                            {
                                retries.add(what + ": " + e.getMessage());
                                out.println(what + ": failed (" + e.getMessage() + "); once more on a fresh cluster");
                            }
                            else
                            {
                                failures.add(what + ": " + e.getMessage());
                                out.println(what + ": FAILED: " + e.getMessage());
                            }
                        }
                    }
                    out.flush();
                }
            }
            final Comparison c = new Comparison(cell, m.modes(), runs);
            cells.add(c);
            final String text = cellText(m, w, c);
            out.println();
            out.print(text);
            out.println();
            out.flush();
            summary.append(text).append('\n');
        }
        final Comparison.Spread load = Comparison.Spread.of(loads.stream().mapToDouble(Double::doubleValue).toArray());
        final String loadLine = String.format(Locale.ROOT, "load average (1 minute) at the start and end of each run: "
            + "median %.2f, %.2f..%.2f, on %d cores%n", load.median(), load.min(), load.max(),
            Runtime.getRuntime().availableProcessors());
        summary.append(loadLine);
        for (final String f : retries)
        {
            summary.append("retried: ").append(f).append('\n');
        }
        for (final String f : failures)
        {
            summary.append("FAILED: ").append(f).append('\n');
        }
        out.print(loadLine);
        write(m, cells, summary.toString(), load, failures, retries, out);
        out.println("results: " + m.folder());
        out.flush();
        return new Result(cells, failures);
    }

    /** The comparisons of every cell, and the runs that failed. */
    public record Result(List<Comparison> cells, List<String> failures)
    {
    }

    private static Comparison.Run runOne(final Matrix m, final Workload w, final String cell, final String mode,
        final int round, final Clusters clusters, final Stores stores, final PrintWriter out)
        throws IOException, InterruptedException
    {
        try (BenchCluster cluster = clusters.start(cell, mode, round))
        {
            final KvConfig store = stores.store(cluster, mode);
            final long[] mnCpu = {-1, -1};
            final List<long[]> timeline = new ArrayList<>();
            final BenchRunner.RunHooks hooks = new BenchRunner.RunHooks()
            {
                @Override
                public void beforeGo(final int processes) throws InterruptedException
                {
                    if ("flexkv".equals(mode))
                    {
                        PartitionSettle.await(store, processes, SETTLE_TIMEOUT, out);
                    }
                }

                @Override
                public void measuring()
                {
                    mnCpu[0] = cluster.daemonCpuNanos();
                }

                @Override
                public void afterRun()
                {
                    mnCpu[1] = cluster.daemonCpuNanos();
                }

                @Override
                public void progress(final long elapsedNs, final long opsDone)
                {
                    timeline.add(new long[] {elapsedNs, opsDone});
                }
            };
            final Map<String, Object> setup = new LinkedHashMap<>(m.setup());
            setup.put("mode", mode);
            setup.put("round", round);
            setup.put("cluster", cluster.describe());
            final Path folder = m.folder().resolve(cell).resolve(mode + "-" + round);
            final BenchRunner.Plan plan = new BenchRunner.Plan(store, w, List.of(m.threads()), List.of(),
                m.processes(), m.processHeap(), m.warmup(), m.duration(), m.loadThreads(), true, m.seed() + round - 1, folder,
                false, setup, hooks);
            final StringWriter tables = new StringWriter();
            final BenchReport.Bench bench = BenchRunner.run(plan, new PrintWriter(tables));
            final ProcessResult.Merged merged = bench.runs().get(0).merged();
            if (merged.result().totalOps() == 0)
            {
                throw new IllegalStateException("the run completed no operation (see " + folder + ")");
            }
            final long mn = mnCpu[0] >= 0 && mnCpu[1] >= 0 ? mnCpu[1] - mnCpu[0] : -1;
            return new Comparison.Run(mode, round, merged, mn, List.copyOf(timeline));
        }
    }

    /** A cell's heading, table and checks. */
    static String cellText(final Matrix m, final Workload w, final Comparison c)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: workload %s%n  %d client processes, %d threads, %s per run%s; %d "
            + "round%s of %s alternating on fresh clusters; median [min..max] over the rounds%n", c.cell(),
            w.summary(), m.processes(), m.threads(), seconds(m.duration()), m.warmup().isZero() ? ""
                : " (counted after a " + seconds(m.warmup()) + " warm-up)", m.rounds(), m.rounds() == 1 ? "" : "s",
            String.join(", ", m.modes())));
        if (c.runs().isEmpty())
        {
            return sb.append("  no run completed\n").toString();
        }
        sb.append(c.table());
        sb.append("  RTT/op, RPC/op, verbs/op: what the caller's thread posted (a proxied operation's RPC counts as "
            + "one round trip; the proxy's write-through inside it counts on the proxy); CAS/op, FAA/op and CPU: "
            + "store-wide over the run phase (frees are FAAs)\n");
        for (final String line : ClaimChecks.checks(c, rttMustDrop(w)))
        {
            sb.append("  ").append(line).append('\n');
        }
        for (final String line : ClaimChecks.jitLines(c))
        {
            sb.append("  ").append(line).append('\n');
        }
        return sb.toString();
    }

    /** {@code "; JIT 12% of client CPU"}, or nothing where the compiler's CPU is unknown. */
    static String jitShare(final ProcessResult.Merged m)
    {
        return m.cpuNs() <= 0 || m.jitCpuNs() <= 0 ? "" : String.format(Locale.ROOT, "; JIT %.0f%% of client CPU",
            100.0 * m.jitCpuNs() / m.cpuNs());
    }

    private static String seconds(final Duration d)
    {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static void write(final Matrix m, final List<Comparison> cells, final String summary,
        final Comparison.Spread load, final List<String> failures, final List<String> retries, final PrintWriter out)
        throws IOException
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT);
        json.putAll(m.setup());
        json.put("modes", m.modes());
        json.put("rounds", m.rounds());
        json.put("threads", m.threads());
        json.put("processes", m.processes());
        json.put("warmupSeconds", m.warmup().toMillis() / 1e3);
        json.put("durationSeconds", m.duration().toMillis() / 1e3);
        json.put("loadAverage", Map.of("median", load.median(), "min", load.min(), "max", load.max()));
        final List<Object> cs = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++)
        {
            final Map<String, Object> c = new LinkedHashMap<>(cells.get(i).json(rttMustDrop(m.cells().get(i))));
            c.put("workload", m.cells().get(i).describe());
            cs.add(c);
        }
        json.put("cells", cs);
        json.put("failures", failures);
        json.put("retried", retries);
        JSON.writeValue(m.folder().resolve(JSON_FILE).toFile(), json);
        final StringBuilder csv = new StringBuilder("cell,op,mode,metric,median,min,max\n");
        for (final Comparison c : cells)
        {
            csv.append(c.csv()).append(String.format(Locale.ROOT, "%1$s,all,all,warmup_s,%2$.1f,%2$.1f,%2$.1f%n",
                c.cell(), m.warmup().toMillis() / 1e3));
        }
        Files.writeString(m.folder().resolve(CSV_FILE), csv, StandardCharsets.UTF_8);
        Files.writeString(m.folder().resolve(BenchReport.SUMMARY_FILE), summary, StandardCharsets.UTF_8);
        if (m.plots())
        {
            try
            {
                BenchPlots.modeThroughput(cells, m.modes(), m.folder().resolve(BenchPlots.MODES_FILE));
                for (final Comparison c : cells)
                {
                    if (!c.runs().isEmpty())
                    {
                        BenchPlots.modeLatencyCdf(c, m.folder().resolve(c.cell() + "-latency-cdf.png"));
                        BenchPlots.modeTimeline(c, m.folder().resolve(c.cell() + "-throughput-over-time.png"));
                    }
                }
            }
            catch (final Exception | LinkageError e)
            {
                out.println("plots skipped: " + e);
            }
        }
    }
}
