package io.dmkv.bench.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.dmkv.bench.runner.Comparison.Ratio;
import io.dmkv.bench.runner.Comparison.Row;
import io.dmkv.bench.runner.Comparison.Run;

/**
 * What a cell of {@code kv bench --mode fusee,flexkv} says of FlexKV's claim ({@link #checks}: the
 * exact checks and the aims) and of its own measurement ({@link #jitLines}: how much of the
 * counted phase the JIT compiler took), one line each, from a {@link Comparison}'s figures.
 */
public final class ClaimChecks
{
    /** FlexKV's claimed throughput gain over FUSEE-class stores. */
    public static final double AIM_THROUGHPUT = 2.94;
    /** FlexKV's claimed latency reduction (p99 here). */
    public static final double AIM_P99_REDUCTION = 0.85;
    /**
     * Share of the client processes' CPU in the counted phase above which the JIT compiler is said
     * to be still compiling (a warm-up too short for this machine): FUSEE mode's steady state here
     * is 1–3 %.
     */
    public static final double JIT_STILL_COMPILING = 0.10;

    private ClaimChecks()
    {
    }

    /**
     * The exact checks and the aims of FlexKV's claim, one line each, for a cell with both modes
     * (empty otherwise). {@code rttMustDrop}: whether fewer critical-path round trips per operation
     * in FlexKV mode is required of this cell (YCSB B and C zipfian) or only reported.
     */
    static List<String> checks(final Comparison c, final boolean rttMustDrop)
    {
        final List<String> out = new ArrayList<>();
        if (c.modes().size() < 2 || !c.modes().contains("fusee") || !c.modes().contains("flexkv"))
        {
            return out;
        }
        long cas = 0;
        for (final Run r : c.of("flexkv"))
        {
            cas += r.merged().counters().cas();
        }
        out.add(String.format(Locale.ROOT, "exact: remote CAS in flexkv mode, all rounds: %,d (0 expected on the index "
            + "path of proxied partitions; a subtable split's root lock would add some): %s", cas, cas == 0 ? "PASS"
                : "FAIL"));
        for (final String op : c.ops())
        {
            final double f = c.row(op, "fusee").rttPerOp();
            final double x = c.row(op, "flexkv").rttPerOp();
            out.add(String.format(Locale.ROOT, "%s: %s critical-path round trips per operation, flexkv %.2f vs fusee "
                + "%.2f: %s", rttMustDrop ? "exact" : "reported", op, x, f,
                x < f ? (rttMustDrop ? "PASS (fewer)" : "fewer") : (rttMustDrop ? "FAIL (not fewer)" : "not fewer")));
        }
        final Ratio all = c.ratio("all");
        out.add(String.format(Locale.ROOT, "aim: throughput flexkv/fusee >= %.2fx: %sx: %s", AIM_THROUGHPUT,
            all.throughput().format(2), all.throughput().median() >= AIM_THROUGHPUT ? "met" : "not met"));
        for (final String op : c.ops())
        {
            final Ratio q = c.ratio(op);
            final double cut = q.p99Reduction();
            out.add(String.format(Locale.ROOT, "aim: %s p99 at least %.0f%% lower in flexkv mode: %.0f%% %s (ratio "
                + "%sx): %s", op, AIM_P99_REDUCTION * 100, Math.abs(cut) * 100, cut >= 0 ? "lower" : "higher",
                q.p99().format(2), cut >= AIM_P99_REDUCTION ? "met" : "not met"));
        }
        final Row f = c.row("all", "fusee");
        final Row x = c.row("all", "flexkv");
        final boolean slower = x.opsPerSec().max() < f.opsPerSec().min();
        out.add(String.format(Locale.ROOT, "aim: flexkv never slower than fusee beyond the spread of the rounds: "
            + "flexkv %s ops/s, fusee %s ops/s: %s", x.opsPerSec().format(0), f.opsPerSec().format(0),
            slower ? "SLOWER (flexkv's best round below fusee's worst)" : "met"));
        return out;
    }

    /**
     * How much of the client processes' CPU in the counted phase went to the JIT compiler, per mode,
     * and a note when a mode's share passes {@link #JIT_STILL_COMPILING}: its counted phase then
     * measured compilation as well as operations, and a longer warm-up would measure a steadier
     * state. Empty where the compiler's CPU is unknown (not Linux).
     */
    static List<String> jitLines(final Comparison c)
    {
        final List<String> shares = new ArrayList<>();
        final List<String> busy = new ArrayList<>();
        for (final String mode : c.modes())
        {
            final Row r = c.row("all", mode);
            if (Double.isNaN(r.cnJitUsPerOp()))
            {
                continue;
            }
            // Decided on the whole percent printed, so that "10%" is never called more than 10%.
            final long percent = Math.round(r.cnJitUsPerOp() / r.cnCpuUsPerOp() * 100);
            final String s = String.format(Locale.ROOT, "%s %d%% (%.1f us/op)", mode, percent, r.cnJitUsPerOp());
            shares.add(s);
            if (percent > Math.round(JIT_STILL_COMPILING * 100))
            {
                busy.add(mode);
            }
        }
        final List<String> out = new ArrayList<>();
        if (shares.isEmpty())
        {
            return out;
        }
        out.add("JIT compiler in the counted phase, share of the client processes' CPU: " + String.join(", ", shares));
        if (!busy.isEmpty())
        {
            out.add(String.format(Locale.ROOT, "note: in %s mode the JIT compiler took more than %.0f%% of the client "
                + "processes' CPU in the counted phase: the figures include compilation; a longer --warmup measures a "
                + "steadier state", String.join(" and ", busy), JIT_STILL_COMPILING * 100));
        }
        return out;
    }
}
