package io.dmkv.bench.runner;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.HdrHistogram.Histogram;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.dmkv.core.config.Sizes;
import io.dmkv.rdma.VerbCounters;

/**
 * The results folder of {@code kv bench}: {@code result.json} (everything, with each
 * operation's encoded latency histogram so results can be merged again), {@code results.csv}
 * (one row per phase, thread count and operation), {@code summary.txt} (the printed tables) and
 * the plots {@code throughput-vs-threads.png} and {@code latency-cdf.png}.
 */
public final class BenchReport
{
    /** Name of the JSON file in a results folder. */
    public static final String JSON_FILE = "result.json";
    public static final String CSV_FILE = "results.csv";
    public static final String SUMMARY_FILE = "summary.txt";
    /** Format tag and version of {@link #JSON_FILE}. */
    public static final String FORMAT = "dmkv-bench-result/1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchReport()
    {
    }

    /** What a run phase of a sweep varies: the thread count and the proxy memory budget (null: the store's own). */
    public record Point(int threads, Long budget)
    {
    }

    /** One run phase of a sweep. */
    public record Run(Point point, ProcessResult.Merged merged)
    {
        public int threads()
        {
            return point.threads();
        }
    }

    /**
     * Everything one {@code kv bench} measured.
     *
     * @param setup    how it ran (command, cluster, machine, ...), written as given.
     * @param workload the workload.
     * @param load     the load phase, or null if skipped.
     * @param runs     the run phases, one per thread count.
     */
    public record Bench(Map<String, Object> setup, Workload workload, ProcessResult.Merged load, List<Run> runs)
    {
    }

    /** A new folder {@code results/<yyyyMMdd-HHmmss>} under {@code base} (with a suffix if taken). */
    public static Path newFolder(final Path base) throws IOException
    {
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        Path dir = base.resolve(stamp);
        for (int i = 2; Files.exists(dir); i++)
        {
            dir = base.resolve(stamp + "-" + i);
        }
        return Files.createDirectories(dir);
    }

    /**
     * Writes the JSON, CSV and summary into {@code dir}, and the plots unless {@code plots} is
     * false. Returns a warning if the plots could not be drawn, else null.
     */
    public static String write(final Path dir, final Bench bench, final String summary, final boolean plots)
        throws IOException
    {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve(JSON_FILE).toFile(), json(bench));
        try (Writer w = Files.newBufferedWriter(dir.resolve(CSV_FILE), StandardCharsets.UTF_8))
        {
            w.write(csv(bench));
        }
        Files.writeString(dir.resolve(SUMMARY_FILE), summary, StandardCharsets.UTF_8);
        if (plots && !bench.runs().isEmpty())
        {
            try
            {
                BenchPlots.throughputVsThreads(bench, dir.resolve(BenchPlots.THROUGHPUT_FILE));
                BenchPlots.latencyCdf(bench, dir.resolve(BenchPlots.LATENCY_FILE));
            }
            catch (final Exception | LinkageError e)
            {
                return "plots skipped: " + e;
            }
        }
        return null;
    }

    static Map<String, Object> json(final Bench bench)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.putAll(bench.setup());
        m.put("workload", bench.workload().describe());
        m.put("load", bench.load() == null ? null : phase(bench.load()));
        final List<Object> runs = new ArrayList<>();
        for (final Run r : bench.runs())
        {
            final Map<String, Object> phase = phase(r.merged());
            if (r.point().budget() != null)
            {
                phase.put("memoryBudget", r.point().budget());
            }
            runs.add(phase);
        }
        m.put("runs", runs);
        return m;
    }

    private static Map<String, Object> phase(final ProcessResult.Merged merged)
    {
        final RunResult r = merged.result();
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("phase", r.phase());
        m.put("threads", r.threads());
        m.put("processes", merged.processes());
        m.put("elapsedNs", r.elapsedNs());
        m.put("ops", r.totalOps());
        m.put("errors", r.totalErrors());
        m.put("misses", merged.misses());
        m.put("throughput", r.throughput());
        m.put("counters", counters(merged.counters()));
        m.put("cpuNs", merged.cpuNs());
        m.put("jitCpuNs", merged.jitCpuNs());
        m.put("cnCpuUsPerOp", Double.isNaN(merged.cpuMicrosPerOp()) ? null : merged.cpuMicrosPerOp());
        final List<Object> ops = new ArrayList<>();
        for (int i = 0; i < r.ops().size(); i++)
        {
            final OpStats s = r.ops().get(i);
            if (s.ops() + s.errors() > 0)
            {
                final Map<String, Object> o = op(s, r.elapsedNs());
                o.put("misses", merged.opMisses().get(i));
                o.put("histogram", ProcessResult.encode(s.latencyNs()));
                ops.add(o);
            }
        }
        m.put("operations", ops);
        m.put("all", op(r.all(), r.elapsedNs()));
        return m;
    }

    private static Map<String, Object> counters(final VerbCounters.Snapshot c)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("reads", c.reads());
        m.put("writes", c.writes());
        m.put("cas", c.cas());
        m.put("faa", c.faa());
        m.put("rpcs", c.rpcs());
        m.put("bytesOut", c.bytesOut());
        m.put("bytesIn", c.bytesIn());
        m.put("roundTrips", c.roundTrips());
        return m;
    }

    private static Map<String, Object> op(final OpStats s, final long elapsedNs)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final Histogram h = s.latencyNs();
        final double n = Math.max(1, s.ops() + s.errors());
        m.put("name", s.name());
        m.put("ops", s.ops());
        m.put("errors", s.errors());
        m.put("opsPerSec", s.ops() * 1e9 / Math.max(1, elapsedNs));
        final Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("p50", h.getValueAtPercentile(50) / 1e3);
        lat.put("p90", h.getValueAtPercentile(90) / 1e3);
        lat.put("p99", h.getValueAtPercentile(99) / 1e3);
        lat.put("p999", h.getValueAtPercentile(99.9) / 1e3);
        lat.put("max", h.getMaxValue() / 1e3);
        lat.put("mean", h.getMean() / 1e3);
        m.put("latencyUs", lat);
        final Map<String, Object> per = new LinkedHashMap<>();
        per.put("roundTrips", s.roundTrips() / n);
        per.put("verbs", s.verbs() / n);
        per.put("rpcs", s.rpcs() / n);
        per.put("bytesOut", s.bytesOut() / n);
        per.put("bytesIn", s.bytesIn() / n);
        m.put("perOp", per);
        final Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("roundTrips", s.roundTrips());
        totals.put("verbs", s.verbs());
        totals.put("rpcs", s.rpcs());
        totals.put("bytesOut", s.bytesOut());
        totals.put("bytesIn", s.bytesIn());
        m.put("totals", totals);
        return m;
    }

    static String csv(final Bench bench)
    {
        final StringBuilder sb = new StringBuilder("phase,threads,processes,memory_budget,op,ops,errors,ops_per_s,"
            + "p50_us,p90_us,p99_us,p999_us,max_us,mean_us,rtt_per_op,verbs_per_op,rpcs_per_op,bytes_out_per_op,"
            + "bytes_in_per_op,warmup_s\n");
        if (bench.load() != null)
        {
            csvRows(sb, bench.load(), null, 0);
        }
        final Object warmup = bench.setup().get("warmupSeconds");
        for (final Run r : bench.runs())
        {
            csvRows(sb, r.merged(), r.point().budget(), warmup instanceof Number n ? n.doubleValue() : 0);
        }
        return sb.toString();
    }

    /**
     * Rows of one phase; {@code budget} null leaves the memory_budget column empty; {@code warmup}:
     * the seconds run before the phase and not counted.
     */
    private static void csvRows(final StringBuilder sb, final ProcessResult.Merged merged, final Long budget,
        final double warmup)
    {
        final RunResult r = merged.result();
        final List<OpStats> rows = new ArrayList<>();
        for (final OpStats s : r.ops())
        {
            if (s.ops() + s.errors() > 0)
            {
                rows.add(s);
            }
        }
        rows.add(r.all());
        for (final OpStats s : rows)
        {
            final Histogram h = s.latencyNs();
            final double n = Math.max(1, s.ops() + s.errors());
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%s,%s,%d,%d,%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.3f,%.3f,"
                + "%.3f,%.1f,%.1f,%.1f%n", r.phase(), r.threads(), merged.processes(), budget == null ? "" : budget,
                s.name(), s.ops(), s.errors(), s.ops() * 1e9 / Math.max(1, r.elapsedNs()),
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3, h.getMean() / 1e3, s.roundTrips() / n, s.verbs() / n, s.rpcs() / n,
                s.bytesOut() / n, s.bytesIn() / n, warmup));
        }
    }

    /** One line per run of a memory-budget sweep: budget, threads, throughput, latency and remote work per op. */
    static String budgetTable(final List<Run> runs)
    {
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-12s %7s %12s %9s %9s %8s %8s%n",
            "budget", "threads", "ops/s", "p50 us", "p99 us", "RTT/op", "verbs/op"));
        for (final Run r : runs)
        {
            final OpStats all = r.merged().result().all();
            final Histogram h = all.latencyNs();
            final double n = Math.max(1, all.ops() + all.errors());
            sb.append(String.format(Locale.ROOT, "%-12s %7d %,12.0f %9.1f %9.1f %8.3f %8.3f%n",
                Sizes.format(r.point().budget()), r.threads(), r.merged().result().throughput(),
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3, all.roundTrips() / n,
                all.verbs() / n));
        }
        return sb.toString();
    }

    /** The tables {@code kv bench} prints for a phase: the runner's table, then counters and misses. */
    public static String phaseText(final ProcessResult.Merged merged)
    {
        final StringBuilder sb = new StringBuilder();
        if (merged.processes() > 1)
        {
            sb.append(String.format(Locale.ROOT, "%s: %d client processes, their histograms and counters merged%n",
                merged.result().phase(), merged.processes()));
        }
        sb.append(merged.result().table());
        final VerbCounters.Snapshot c = merged.counters();
        sb.append(String.format(Locale.ROOT, "verbs: %,d round trips, %,d READ, %,d WRITE, %,d CAS, %,d FAA, %,d RPC; "
            + "%s out, %s in%n", c.roundTrips(), c.reads(), c.writes(), c.cas(), c.faa(), c.rpcs(),
            Sizes.format(c.bytesOut()), Sizes.format(c.bytesIn())));
        if (merged.misses() > 0)
        {
            final List<String> kinds = new ArrayList<>();
            for (int i = 0; i < merged.opMisses().size(); i++)
            {
                if (merged.opMisses().get(i) > 0)
                {
                    kinds.add(String.format(Locale.ROOT, "%,d %s", merged.opMisses().get(i),
                        merged.result().ops().get(i).name()));
                }
            }
            sb.append(String.format(Locale.ROOT, "found no key: %s (%s)%n", String.join(", ", kinds),
                "load".equals(merged.result().phase()) ? "keys already present"
                    : "READ, UPDATE, RMW: key absent; INSERT: key present"));
        }
        return sb.toString();
    }
}
