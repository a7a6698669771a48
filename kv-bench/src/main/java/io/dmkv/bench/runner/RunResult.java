package io.dmkv.bench.runner;

import java.util.List;
import java.util.Locale;

import org.HdrHistogram.Histogram;

/** The merged measurements of one phase of a workload. */
public record RunResult(String phase, int threads, long elapsedNs, List<OpStats> ops)
{
    public long totalOps()
    {
        long n = 0;
        for (final OpStats s : ops)
        {
            n += s.ops();
        }
        return n;
    }

    public long totalErrors()
    {
        long n = 0;
        for (final OpStats s : ops)
        {
            n += s.errors();
        }
        return n;
    }

    public double throughput()
    {
        return elapsedNs == 0 ? 0 : totalOps() * 1e9 / elapsedNs;
    }

    /** All operations together. */
    public OpStats all()
    {
        final OpStats all = new OpStats("all");
        for (final OpStats s : ops)
        {
            all.add(s);
        }
        return all;
    }

    /** A fixed-width table: one row per operation kind and one for all. */
    public String table()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: %d threads, %.1f s, %,.0f ops/s%s%n", phase, threads, elapsedNs / 1e9,
            throughput(), totalErrors() > 0 ? ", " + totalErrors() + " errors" : ""));
        sb.append(String.format(Locale.ROOT, "%-10s %12s %12s %9s %9s %9s %8s %9s %10s %10s%n", "op", "ops", "ops/s",
            "p50 us", "p99 us", "p999 us", "RTT/op", "verbs/op", "B out/op", "B in/op"));
        for (final OpStats s : ops)
        {
            if (s.ops() + s.errors() > 0)
            {
                row(sb, s);
            }
        }
        if (ops.size() > 1)
        {
            row(sb, all());
        }
        return sb.toString();
    }

    private void row(final StringBuilder sb, final OpStats s)
    {
        final Histogram h = s.latencyNs();
        final double n = Math.max(1, s.ops() + s.errors());
        sb.append(String.format(Locale.ROOT, "%-10s %,12d %,12.0f %9.1f %9.1f %9.1f %8.2f %9.2f %,10.0f %,10.0f%n",
            s.name(), s.ops(), s.ops() * 1e9 / Math.max(1, elapsedNs), h.getValueAtPercentile(50) / 1e3,
            h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, s.roundTrips() / n, s.verbs() / n,
            s.bytesOut() / n, s.bytesIn() / n));
    }
}
