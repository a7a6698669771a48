package io.dmkv.bench.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The output of {@code kv model}: the NIC model checked against FUSEE's published figures with
 * FUSEE's verb mix, and its prediction for dmkv's mix beside them. Every number the model
 * produced is labelled a model.
 */
public final class ModelReport
{
    private final NicModel.Setup testbed;
    private final NicModel.Setup dmkvSetup;
    private final DmkvMixes dmkv;
    private final Map<String, VerbMix> fuseeMixes = new LinkedHashMap<>();
    private final Map<String, VerbMix> dmkvMixes = new LinkedHashMap<>();
    private final List<Row> rows = new ArrayList<>();

    /**
     * One operation or workload.
     *
     * @param name        SEARCH ... YCSB D (or another workload of a results folder).
     * @param published   FUSEE's figure (NaN if none).
     * @param fusee       the model for FUSEE's mix on FUSEE's testbed (null if no FUSEE mix).
     * @param dmkv        the model for dmkv's mix on FUSEE's testbed (null if no dmkv mix).
     * @param dmkvThere   the model for dmkv's mix on the requested set-up (null if no dmkv mix).
     * @param estimated   whether dmkv's mix of this row is partly estimated.
     * @param publishedP50 FUSEE's single-client p50 latency, µs (NaN if none).
     */
    public record Row(String name, double published, NicModel.Prediction fusee, NicModel.Prediction dmkv,
        NicModel.Prediction dmkvThere, NicModel.Prediction fuseeThere, boolean estimated, double publishedP50)
    {
        /** Model(dmkv's mix) ÷ model(FUSEE's mix) on FUSEE's testbed (NaN if either is missing). */
        public double ratio()
        {
            return fusee == null || dmkv == null ? Double.NaN : dmkv.throughput() / fusee.throughput();
        }

        /** The same ratio on the other set-up (NaN if either is missing). */
        public double ratioThere()
        {
            return fuseeThere == null || dmkvThere == null ? Double.NaN : dmkvThere.throughput() / fuseeThere.throughput();
        }

        /** The model's throughput error against FUSEE's figure: model / published − 1 (NaN if either is missing). */
        public double throughputError()
        {
            return fusee == null || Double.isNaN(published) ? Double.NaN : fusee.throughput() / 1e6 / published - 1;
        }

        /** The model's latency error against FUSEE's single-client p50 (NaN if either is missing). */
        public double latencyError()
        {
            return fusee == null || Double.isNaN(publishedP50) ? Double.NaN : fusee.latencyMicros() / publishedP50 - 1;
        }
    }

    /**
     * @param fuseeNic  the NIC of FUSEE's testbed for the check (the ConnectX-3 preset, or it modified).
     * @param atomics   how atomics load a NIC.
     * @param dmkv      dmkv's mixes, or null for the check alone.
     * @param dmkvSetup where to predict dmkv's mix as well (may equal FUSEE's testbed).
     */
    public ModelReport(final NicSpec fuseeNic, final NicModel.Atomics atomics, final DmkvMixes dmkv,
        final NicModel.Setup dmkvSetup)
    {
        this.testbed = FuseeReference.testbed(fuseeNic, atomics);
        this.dmkvSetup = dmkvSetup;
        this.dmkv = dmkv;
        final Map<String, VerbMix> fuseeOps = FuseeReference.operations();
        fuseeMixes.putAll(fuseeOps);
        fuseeMixes.putAll(FuseeReference.workloads(fuseeOps));
        if (dmkv != null)
        {
            dmkvMixes.putAll(dmkv.ops());
            FuseeReference.workloads(dmkv.ops()).forEach((k, v) ->
            {
                if (v != null)
                {
                    dmkvMixes.put(k, v);
                }
            });
            dmkvMixes.putAll(dmkv.workloads());
        }
        for (final FuseeReference.Published p : FuseeReference.PUBLISHED)
        {
            rows.add(row(p.name(), p.mops(), p.p50Micros()));
        }
        for (final String name : dmkvMixes.keySet())
        {
            if (!fuseeMixes.containsKey(name))
            {
                rows.add(row(name, Double.NaN, Double.NaN));
            }
        }
    }

    private Row row(final String name, final double published, final double p50)
    {
        final VerbMix f = fuseeMixes.get(name);
        final VerbMix d = dmkvMixes.get(name);
        final boolean estimated = dmkv != null && !dmkv.workloads().containsKey(name)
            && components(name).stream().anyMatch(dmkv.estimated()::contains);
        return new Row(name, published, f == null ? null : NicModel.predict(f, testbed),
            d == null ? null : NicModel.predict(d, testbed), d == null ? null : NicModel.predict(d, dmkvSetup),
            f == null ? null : NicModel.predict(f, dmkvSetup), estimated, p50);
    }

    /** The operations a row's mix is made of. */
    private static List<String> components(final String name)
    {
        switch (name)
        {
            case "YCSB A":
            case "YCSB B":
                return List.of("SEARCH", "UPDATE");
            case "YCSB C":
                return List.of("SEARCH");
            case "YCSB D":
                return List.of("SEARCH", "INSERT");
            default:
                return List.of(name);
        }
    }

    public List<Row> rows()
    {
        return rows;
    }

    /** The rows with a published figure and a FUSEE mix: the check. */
    public List<Row> checked()
    {
        return rows.stream().filter(r -> r.fusee() != null && !Double.isNaN(r.published())).toList();
    }

    private boolean elsewhere()
    {
        return dmkv != null && !dmkvSetup.equals(testbed);
    }

    /** The whole report as text (Markdown tables). */
    public String text()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("NIC MODEL (a model, not a measurement: predictions from verb mixes and assumed NIC parameters)\n");
        sb.append("model parameters: ").append(testbed.nic().summary()).append('\n');
        sb.append("  ").append(testbed.nic().source()).append('\n');
        sb.append("FUSEE testbed (the check): ").append(testbed.summary()).append("; r = ")
            .append(FuseeReference.REPLICATION).append(", 1 KiB KV, zipf 0.99, 100 K keys\n");
        if (dmkv != null)
        {
            sb.append("dmkv mixes: ").append(dmkv.source()).append('\n');
            if (elsewhere())
            {
                sb.append("dmkv prediction also on: ").append(dmkvSetup.summary()).append('\n');
                sb.append("  ").append(dmkvSetup.nic().source()).append('\n');
            }
        }
        else
        {
            sb.append("dmkv mixes: none (kv model --measure, or --results DIR of a kv bench run)\n");
        }
        sb.append('\n');
        final List<String> header = new ArrayList<>(List.of("throughput, Mops", "FUSEE published",
            "model: FUSEE mix", "model error", "model: dmkv mix", "model bottleneck, dmkv mix", "dmkv ÷ FUSEE"));
        if (elsewhere())
        {
            final String there = dmkvSetup.nic().id() + ", " + dmkvSetup.memoryNodes() + " MNs, " + dmkvSetup.clients()
                + " clients";
            header.add("model: FUSEE mix, " + there);
            header.add("model: dmkv mix, " + there);
            header.add("model bottleneck there");
            header.add("dmkv ÷ FUSEE there");
        }
        final List<List<String>> t = new ArrayList<>();
        for (final Row r : rows)
        {
            final List<String> cells = new ArrayList<>(List.of(r.name(), num(r.published(), 2),
                r.fusee() == null ? "-" : num(r.fusee().throughput() / 1e6, 2), pct(r.throughputError()),
                r.dmkv() == null ? "-" : (r.estimated() ? "~" : "") + num(r.dmkv().throughput() / 1e6, 2),
                r.dmkv() == null ? "-" : r.dmkv().bottleneck(), ratio(r.ratio(), r.estimated())));
            if (elsewhere())
            {
                cells.add(r.fuseeThere() == null ? "-" : num(r.fuseeThere().throughput() / 1e6, 2));
                cells.add(r.dmkvThere() == null ? "-" : (r.estimated() ? "~" : "")
                    + num(r.dmkvThere().throughput() / 1e6, 2));
                cells.add(r.dmkvThere() == null ? "-" : r.dmkvThere().bottleneck());
                cells.add(ratio(r.ratioThere(), r.estimated()));
            }
            t.add(cells);
        }
        table(sb, header, t);
        sb.append('\n');
        final List<List<String>> lat = new ArrayList<>();
        for (final Row r : rows)
        {
            if (!Double.isNaN(r.publishedP50()))
            {
                final List<String> cells = new ArrayList<>(List.of(r.name(), num(r.publishedP50(), 1),
                    num(r.fusee().latencyMicros(), 2), pct(r.latencyError()),
                    r.dmkv() == null ? "-" : num(r.dmkv().latencyMicros(), 2)));
                if (elsewhere())
                {
                    cells.add(r.dmkvThere() == null ? "-" : num(r.dmkvThere().latencyMicros(), 2));
                }
                lat.add(cells);
            }
        }
        final List<String> latHeader = new ArrayList<>(List.of("single-client p50 latency, us", "FUSEE published",
            "model: FUSEE mix", "model error", "model: dmkv mix"));
        if (elsewhere())
        {
            latHeader.add("model: dmkv mix, " + dmkvSetup.nic().id());
        }
        table(sb, latHeader, lat);
        sb.append('\n');
        final List<List<String>> mixes = new ArrayList<>();
        for (final Row r : rows)
        {
            final VerbMix f = fuseeMixes.get(r.name());
            final VerbMix d = dmkvMixes.get(r.name());
            mixes.add(List.of(r.name(), f == null ? "-" : f.summary(), d == null ? "-"
                : (r.estimated() ? "~ " : "") + d.summary()));
        }
        table(sb, List.of("verb mix per operation (model input)", "FUSEE (from the paper)", "dmkv (measured)"), mixes);
        if (rows.stream().anyMatch(Row::estimated))
        {
            sb.append("~ dmkv's split of verbs into READ/WRITE/atomic is estimated for operations measured inside a "
                + "mixed phase (see docs/nic-model.md)\n");
        }
        return sb.toString();
    }

    private static String ratio(final double r, final boolean estimated)
    {
        return Double.isNaN(r) ? "-" : (estimated ? "~" : "") + num(r, 2);
    }

    static void table(final StringBuilder sb, final List<String> header, final List<List<String>> rows)
    {
        final int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++)
        {
            w[i] = header.get(i).length();
            for (final List<String> r : rows)
            {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        line(sb, header, w);
        final StringBuilder rule = new StringBuilder("|");
        for (int i = 0; i < w.length; i++)
        {
            rule.append('-').append("-".repeat(w[i])).append(i == 0 ? "-|" : ":|");
        }
        sb.append(rule).append('\n');
        for (final List<String> r : rows)
        {
            line(sb, r, w);
        }
    }

    private static void line(final StringBuilder sb, final List<String> cells, final int[] w)
    {
        sb.append('|');
        for (int i = 0; i < w.length; i++)
        {
            final String c = cells.get(i);
            sb.append(' ').append(i == 0 ? c + " ".repeat(w[i] - c.length()) : " ".repeat(w[i] - c.length()) + c)
                .append(" |");
        }
        sb.append('\n');
    }

    private static String num(final double v, final int decimals)
    {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String pct(final double v)
    {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.0f%%", v * 100);
    }
}
