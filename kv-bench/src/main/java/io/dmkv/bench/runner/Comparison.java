package io.dmkv.bench.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.HdrHistogram.Histogram;

/**
 * One cell of {@code kv bench --mode fusee,flexkv} (one workload), computed from its runs: per
 * operation kind and mode the median of the rounds with their spread (throughput, p50, p99), the
 * pooled costs per operation (round trips, RPCs and verbs the caller's thread posted), and the
 * FlexKV/FUSEE ratios of rounds that ran next to each other (round i of one mode against round i
 * of the other). Store-wide counts (CAS, FAA, CPU time) exist per phase only, so they are given
 * on the {@code all} row. The aims and exact checks of FlexKV's claim are {@link ClaimChecks}.
 */
public final class Comparison
{
    private final String cell;
    private final List<String> modes;
    private final List<Run> runs;
    private final List<String> ops;

    /**
     * One run of the cell.
     *
     * @param mode     fusee or flexkv.
     * @param round    1, 2, ...
     * @param merged   the run phase, merged over client processes.
     * @param mnCpuNs  CPU time of the memory-node daemons over the run phase, or -1 if unknown.
     * @param timeline operations done so far at points of the run phase: {elapsed ns, operations}.
     */
    public record Run(String mode, int round, ProcessResult.Merged merged, long mnCpuNs, List<long[]> timeline)
    {
        /** Throughput over the run phase, one point per second or so: {seconds into the run, ops/s}. */
        public List<double[]> throughputOverTime()
        {
            final List<double[]> points = new ArrayList<>();
            long lastNs = 0;
            long lastOps = 0;
            for (final long[] p : timeline)
            {
                if (p[0] - lastNs >= 1_000_000_000L)
                {
                    points.add(new double[] {p[0] / 1e9, (p[1] - lastOps) * 1e9 / (p[0] - lastNs)});
                    lastNs = p[0];
                    lastOps = p[1];
                }
            }
            return points;
        }
    }

    /** A median with the smallest and largest value it is the median of. */
    public record Spread(double median, double min, double max)
    {
        /** The median (mean of the middle two for an even count), min and max of {@code values}; NaNs are skipped. */
        public static Spread of(final double... values)
        {
            final double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0)
            {
                return new Spread(Double.NaN, Double.NaN, Double.NaN);
            }
            final int n = v.length;
            final double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
            return new Spread(median, v[0], v[n - 1]);
        }

        /** {@code 12,345 [11,000..13,000]}, or just the value when min = max. */
        public String format(final int decimals)
        {
            if (Double.isNaN(median))
            {
                return "-";
            }
            final String f = "%,." + decimals + "f";
            final String m = String.format(Locale.ROOT, f, median);
            if (min == max)
            {
                return m;
            }
            return m + " [" + String.format(Locale.ROOT, f, min) + ".." + String.format(Locale.ROOT, f, max) + "]";
        }
    }

    /**
     * What one operation kind (or {@code all}) of one mode measured over the rounds. The CPU figures
     * are the phase's (on the {@code all} row only): {@code cnJitUsPerOp} is the part of
     * {@code cnCpuUsPerOp} the client processes' JIT compilers took.
     */
    public record Row(String op, String mode, Spread opsPerSec, Spread p50Us, Spread p99Us, double rttPerOp,
        double rpcsPerOp, double verbsPerOp, double casPerOp, double faaPerOp, double cnCpuUsPerOp,
        double mnCpuUsPerOp, double cnJitUsPerOp)
    {
    }

    /** FlexKV ÷ FUSEE of one operation kind: per round pair for the timed figures, pooled for the counts. */
    public record Ratio(String op, Spread throughput, Spread p50, Spread p99, double rtt, double verbs)
    {
        /** 1 − the p99 ratio: how much lower FlexKV's p99 is (negative: higher). */
        public double p99Reduction()
        {
            return 1 - p99.median();
        }
    }

    /**
     * @param cell  the cell's name (a workload).
     * @param modes the modes in the order they alternated.
     * @param runs  every run of the cell.
     */
    public Comparison(final String cell, final List<String> modes, final List<Run> runs)
    {
        this.cell = cell;
        this.modes = List.copyOf(modes);
        this.runs = List.copyOf(runs);
        final Set<String> kinds = new LinkedHashSet<>();
        for (final Run r : runs)
        {
            for (final OpStats s : r.merged().result().ops())
            {
                if (s.ops() > 0)
                {
                    kinds.add(s.name());
                }
            }
        }
        this.ops = List.copyOf(kinds);
    }

    public String cell()
    {
        return cell;
    }

    public List<Run> runs()
    {
        return runs;
    }

    /** Operation kinds that ran, in the runner's order. */
    public List<String> ops()
    {
        return ops;
    }

    /** The modes in the order they alternated. */
    public List<String> modes()
    {
        return modes;
    }

    /** The runs of {@code mode}, in round order. */
    List<Run> of(final String mode)
    {
        return runs.stream().filter(r -> r.mode().equals(mode)).toList();
    }

    /** The stats of {@code op} in a run ({@code all} for every kind together), or null if it did not run there. */
    static OpStats stats(final Run r, final String op)
    {
        final RunResult result = r.merged().result();
        if ("all".equals(op))
        {
            return result.all();
        }
        return result.ops().stream().filter(s -> s.name().equals(op)).findFirst().orElse(null);
    }

    private static double opsPerSec(final Run r, final OpStats s)
    {
        return s == null ? Double.NaN : s.ops() * 1e9 / Math.max(1, r.merged().result().elapsedNs());
    }

    private static double percentileUs(final OpStats s, final double p)
    {
        return s == null || s.latencyNs().getTotalCount() == 0 ? Double.NaN : s.latencyNs().getValueAtPercentile(p) / 1e3;
    }

    /** The row of {@code op} ({@code all} included) for {@code mode}. */
    public Row row(final String op, final String mode)
    {
        final List<Run> rs = of(mode);
        final double[] tput = new double[rs.size()];
        final double[] p50 = new double[rs.size()];
        final double[] p99 = new double[rs.size()];
        long n = 0;
        long rtt = 0;
        long rpcs = 0;
        long verbs = 0;
        long cas = 0;
        long faa = 0;
        long phaseOps = 0;
        long cpu = 0;
        long jit = 0;
        long mnCpu = 0;
        boolean mnKnown = !rs.isEmpty();
        for (int i = 0; i < rs.size(); i++)
        {
            final Run r = rs.get(i);
            final OpStats s = stats(r, op);
            tput[i] = opsPerSec(r, s);
            p50[i] = percentileUs(s, 50);
            p99[i] = percentileUs(s, 99);
            if (s != null)
            {
                n += s.ops() + s.errors();
                rtt += s.roundTrips();
                rpcs += s.rpcs();
                verbs += s.verbs();
            }
            phaseOps += r.merged().result().totalOps();
            cas += r.merged().counters().cas();
            faa += r.merged().counters().faa();
            cpu += r.merged().cpuNs();
            jit += r.merged().jitCpuNs();
            mnKnown &= r.mnCpuNs() >= 0;
            mnCpu += Math.max(0, r.mnCpuNs());
        }
        final double per = Math.max(1, n);
        final boolean all = "all".equals(op);
        final double phase = Math.max(1, phaseOps);
        return new Row(op, mode, Spread.of(tput), Spread.of(p50), Spread.of(p99), rtt / per, rpcs / per, verbs / per,
            all ? cas / phase : Double.NaN, all ? faa / phase : Double.NaN,
            all && cpu > 0 ? cpu / 1e3 / phase : Double.NaN, all && mnKnown ? mnCpu / 1e3 / phase : Double.NaN,
            all && cpu > 0 && jit > 0 ? jit / 1e3 / phase : Double.NaN);
    }

    /**
     * {@code modes.get(1)} ÷ {@code modes.get(0)} for {@code op}, or null with fewer than two
     * modes. Round i of one mode is paired with round i of the other (they ran one after the
     * other); a round that one mode lacks (its run failed) is left out.
     */
    public Ratio ratio(final String op)
    {
        if (modes.size() < 2)
        {
            return null;
        }
        final List<Run> base = of(modes.get(0));
        final List<Run> other = of(modes.get(1));
        final List<Double> t = new ArrayList<>();
        final List<Double> p50 = new ArrayList<>();
        final List<Double> p99 = new ArrayList<>();
        for (final Run b : base)
        {
            for (final Run o : other)
            {
                if (o.round() == b.round())
                {
                    final OpStats sb = stats(b, op);
                    final OpStats so = stats(o, op);
                    t.add(opsPerSec(o, so) / opsPerSec(b, sb));
                    p50.add(percentileUs(so, 50) / percentileUs(sb, 50));
                    p99.add(percentileUs(so, 99) / percentileUs(sb, 99));
                }
            }
        }
        final Row rb = row(op, modes.get(0));
        final Row ro = row(op, modes.get(1));
        return new Ratio(op, spread(t), spread(p50), spread(p99), ro.rttPerOp() / rb.rttPerOp(),
            ro.verbsPerOp() / rb.verbsPerOp());
    }

    private static Spread spread(final List<Double> values)
    {
        return Spread.of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Every operation kind, then {@code all}. */
    private List<String> rowsOps()
    {
        final List<String> l = new ArrayList<>(ops);
        l.add("all");
        return l;
    }

    /** The cell's one table: per operation kind, a row per mode and a ratio row. */
    public String table()
    {
        final List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("op", "mode", "ops/s", "p50 us", "p99 us", "RTT/op", "RPC/op", "verbs/op", "CAS/op",
            "FAA/op", "CN CPU us/op", "MN CPU us/op"));
        for (final String op : rowsOps())
        {
            for (final String mode : modes)
            {
                final Row r = row(op, mode);
                rows.add(List.of(op, mode, r.opsPerSec().format(0), r.p50Us().format(1), r.p99Us().format(1),
                    num(r.rttPerOp(), 2), num(r.rpcsPerOp(), 2), num(r.verbsPerOp(), 2), num(r.casPerOp(), 3),
                    num(r.faaPerOp(), 3), num(r.cnCpuUsPerOp(), 1), num(r.mnCpuUsPerOp(), 1)));
            }
            final Ratio q = ratio(op);
            if (q != null)
            {
                rows.add(List.of(op, modes.get(1) + "/" + modes.get(0), q.throughput().format(2) + "x",
                    q.p50().format(2) + "x", q.p99().format(2) + "x", num(q.rtt(), 2) + "x", "", num(q.verbs(), 2) + "x",
                    "", "", "", ""));
            }
        }
        return render(rows);
    }

    /** For compare.json. */
    public Map<String, Object> json(final boolean rttMustDrop)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("cell", cell);
        m.put("modes", modes);
        final List<Object> rs = new ArrayList<>();
        for (final Run r : runs)
        {
            final Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", r.mode());
            o.put("round", r.round());
            o.put("throughput", r.merged().result().throughput());
            o.put("cpuNs", r.merged().cpuNs());
            o.put("jitCpuNs", r.merged().jitCpuNs());
            o.put("mnCpuNs", r.mnCpuNs() < 0 ? null : r.mnCpuNs());
            rs.add(o);
        }
        m.put("runs", rs);
        final List<Object> rows = new ArrayList<>();
        for (final String op : rowsOps())
        {
            for (final String mode : modes)
            {
                rows.add(row(op, mode));
            }
        }
        m.put("rows", rows);
        final List<Object> ratios = new ArrayList<>();
        for (final String op : rowsOps())
        {
            final Ratio q = ratio(op);
            if (q != null)
            {
                ratios.add(q);
            }
        }
        m.put("ratios", ratios);
        m.put("checks", ClaimChecks.checks(this, rttMustDrop));
        m.put("jit", ClaimChecks.jitLines(this));
        return m;
    }

    /** compare.csv rows: {@code cell,op,mode,metric,median,min,max}. */
    public String csv()
    {
        final StringBuilder sb = new StringBuilder();
        for (final String op : rowsOps())
        {
            for (final String mode : modes)
            {
                final Row r = row(op, mode);
                csv(sb, op, mode, "ops_per_s", r.opsPerSec());
                csv(sb, op, mode, "p50_us", r.p50Us());
                csv(sb, op, mode, "p99_us", r.p99Us());
                csv(sb, op, mode, "rtt_per_op", Spread.of(r.rttPerOp()));
                csv(sb, op, mode, "rpcs_per_op", Spread.of(r.rpcsPerOp()));
                csv(sb, op, mode, "verbs_per_op", Spread.of(r.verbsPerOp()));
                csv(sb, op, mode, "cas_per_op", Spread.of(r.casPerOp()));
                csv(sb, op, mode, "faa_per_op", Spread.of(r.faaPerOp()));
                csv(sb, op, mode, "cn_cpu_us_per_op", Spread.of(r.cnCpuUsPerOp()));
                csv(sb, op, mode, "mn_cpu_us_per_op", Spread.of(r.mnCpuUsPerOp()));
                csv(sb, op, mode, "cn_jit_us_per_op", Spread.of(r.cnJitUsPerOp()));
            }
            final Ratio q = ratio(op);
            if (q != null)
            {
                final String m = modes.get(1) + "/" + modes.get(0);
                csv(sb, op, m, "throughput_ratio", q.throughput());
                csv(sb, op, m, "p50_ratio", q.p50());
                csv(sb, op, m, "p99_ratio", q.p99());
                csv(sb, op, m, "rtt_ratio", Spread.of(q.rtt()));
            }
        }
        return sb.toString();
    }

    private void csv(final StringBuilder sb, final String op, final String mode, final String metric, final Spread s)
    {
        if (!Double.isNaN(s.median()))
        {
            sb.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%.4f,%.4f,%.4f%n", cell, op, mode, metric, s.median(),
                s.min(), s.max()));
        }
    }

    /** Each mode's latency histogram of {@code op}, all rounds added (for the CDF plot). */
    public Map<String, Histogram> pooledLatency(final String op)
    {
        final Map<String, Histogram> m = new LinkedHashMap<>();
        for (final String mode : modes)
        {
            final Histogram h = new Histogram(OpStats.MAX_LATENCY_NS, 3);
            for (final Run r : of(mode))
            {
                final OpStats s = stats(r, op);
                if (s != null)
                {
                    h.add(s.latencyNs());
                }
            }
            if (h.getTotalCount() > 0)
            {
                m.put(mode, h);
            }
        }
        return m;
    }

    private static String num(final double v, final int decimals)
    {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    /** Columns padded to their widest cell; the first two left-aligned, the rest right-aligned. */
    static String render(final List<List<String>> rows)
    {
        final int cols = rows.get(0).size();
        final int[] w = new int[cols];
        for (final List<String> r : rows)
        {
            for (int i = 0; i < cols; i++)
            {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        final StringBuilder sb = new StringBuilder();
        for (final List<String> r : rows)
        {
            final StringBuilder line = new StringBuilder();
            for (int i = 0; i < cols; i++)
            {
                final String c = r.get(i);
                final String pad = " ".repeat(w[i] - c.length());
                line.append(i < 2 ? c + pad : pad + c).append(i + 1 < cols ? "  " : "");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
