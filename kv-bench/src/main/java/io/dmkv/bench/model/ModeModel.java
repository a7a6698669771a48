package io.dmkv.bench.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.dmkv.bench.runner.BenchReport;
import io.dmkv.bench.runner.ModeCompare;
import io.dmkv.rdma.VerbCounters;

/**
 * {@code kv model --results DIR} of a {@code kv bench --mode fusee,flexkv} run: the NIC model for
 * each workload's FUSEE-mode and FlexKV-mode mix, side by side on the ConnectX-3 and ConnectX-6
 * presets. FlexKV mode adds the compute-node term ({@link NicModel.ComputeNode}): its CN-to-CN
 * proxy RPCs on the compute nodes' NICs, and the proxy's CPU per operation, assumed
 * ({@code --proxy-cpu-us}, default {@link #DEFAULT_PROXY_CPU_MICROS}) or as the bench measured it
 * (client-process CPU time ÷ operations, which on this machine includes the tcp transport's work).
 */
public final class ModeModel
{
    /**
     * Assumed CPU a proxy spends per operation on an RDMA cluster, µs: a hash-table step under a
     * lock, posting the write-through, answering an RPC — about a microsecond of a core.
     */
    public static final double DEFAULT_PROXY_CPU_MICROS = 1.0;
    /** Assumed cores per compute node serving proxy work. */
    public static final int DEFAULT_PROXY_CORES = 1;

    private ModeModel()
    {
    }

    /**
     * One workload in one mode, all rounds pooled.
     *
     * @param cell          the workload's cell name.
     * @param mode          fusee or flexkv.
     * @param mix           verbs and bytes per operation (store counters of all client processes, the proxies'
     *                      write-through included), round trips per operation on the caller's critical path.
     * @param cnRpcs        CN-to-CN proxy RPCs per operation (0 in FUSEE mode).
     * @param cpuMicrosPerOp client-process CPU per operation as measured, µs (NaN if unknown).
     */
    public record CellMix(String cell, String mode, VerbMix mix, double cnRpcs, double cpuMicrosPerOp)
    {
    }

    /** How the comparison is modelled. */
    public record Settings(int memoryNodes, int clients, int clientNodes, int outstanding, NicModel.Atomics atomics,
        Double proxyCpuMicros, int proxyCores)
    {
        /** The proxy CPU per operation to model for {@code m}: the given figure, or (null) the measured one. */
        double proxyCpu(final CellMix m)
        {
            return proxyCpuMicros != null ? proxyCpuMicros : Double.isNaN(m.cpuMicrosPerOp()) ? 0 : m.cpuMicrosPerOp();
        }
    }

    /** True if {@code folder} holds a mode comparison ({@link ModeCompare#JSON_FILE}). */
    public static boolean isComparison(final Path folder)
    {
        return Files.isRegularFile(folder.resolve(ModeCompare.JSON_FILE));
    }

    /** Every cell and mode of a comparison's results folder, its rounds pooled. */
    public static List<CellMix> read(final Path folder) throws IOException
    {
        final ObjectMapper json = new ObjectMapper();
        final JsonNode root = json.readTree(folder.resolve(ModeCompare.JSON_FILE).toFile());
        if (!ModeCompare.FORMAT.equals(root.path("format").asText()))
        {
            throw new IllegalArgumentException(folder + " is not a kv bench mode comparison (" + ModeCompare.FORMAT + ")");
        }
        final List<CellMix> out = new ArrayList<>();
        for (final JsonNode cell : root.path("cells"))
        {
            final String name = cell.path("cell").asText();
            for (final JsonNode mode : cell.path("modes"))
            {
                final String m = mode.asText();
                VerbCounters.Snapshot c = VerbCounters.Snapshot.ZERO;
                long ops = 0;
                double rtts = 0;
                double rpcs = 0;
                long cpu = 0;
                for (final JsonNode run : cell.path("runs"))
                {
                    if (!m.equals(run.path("mode").asText()))
                    {
                        continue;
                    }
                    final Path file = folder.resolve(name).resolve(m + "-" + run.path("round").asInt())
                        .resolve(BenchReport.JSON_FILE);
                    final JsonNode phase = json.readTree(file.toFile()).path("runs").get(0);
                    c = c.plus(DmkvMixes.counters(phase));
                    ops += phase.path("ops").asLong() + phase.path("errors").asLong();
                    for (final JsonNode op : phase.path("operations"))
                    {
                        rtts += op.path("totals").path("roundTrips").asDouble();
                        rpcs += op.path("totals").path("rpcs").asDouble();
                    }
                    cpu += phase.path("cpuNs").asLong();
                }
                if (ops == 0)
                {
                    continue;
                }
                final VerbMix store = VerbMix.of(name + " " + m, c, ops);
                final VerbMix mix = new VerbMix(store.name(), rtts / ops, store.reads(), store.writes(), store.atomics(),
                    store.rpcs(), store.bytesOut(), store.bytesIn());
                out.add(new CellMix(name, m, mix, "flexkv".equals(m) ? rpcs / ops : 0,
                    cpu > 0 ? cpu / 1e3 / ops : Double.NaN));
            }
        }
        return out;
    }

    /** The prediction for one mix on {@code nic}. */
    static NicModel.Prediction predict(final CellMix m, final NicSpec nic, final Settings s)
    {
        final NicModel.Setup setup = new NicModel.Setup(nic, s.memoryNodes(), s.clients(), s.clientNodes(),
            s.outstanding(), s.atomics());
        final NicModel.ComputeNode cn = "flexkv".equals(m.mode())
            ? new NicModel.ComputeNode(m.cnRpcs(), s.proxyCpu(m), s.proxyCores()) : null;
        return NicModel.predict(m.mix(), setup, cn);
    }

    /** The report: per workload, FUSEE and FlexKV mode on cx3 and cx6, then the mixes. */
    public static String text(final List<CellMix> mixes, final Settings s, final Path source)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("NIC MODEL, FUSEE and FlexKV mode side by side (a model, not a measurement: predictions from the "
            + "verb mixes kv bench measured and assumed NIC parameters)\n");
        sb.append("mixes: ").append(source).append(" (all rounds of each mode pooled)\n");
        sb.append(String.format(Locale.ROOT, "set-up: %d memory nodes, %d clients on %d compute nodes, %d operation%s in "
            + "flight each, atomics %s%n", s.memoryNodes(), s.clients(), s.clientNodes(), s.outstanding(),
            s.outstanding() == 1 ? "" : "s", s.atomics().name().toLowerCase(Locale.ROOT)));
        sb.append(String.format(Locale.ROOT, "compute-node term (flexkv mode): CN-to-CN proxy RPCs on the CN NICs "
            + "(%d B each way + headers), proxy CPU %s per operation on %d core%s per compute node%n",
            NicModel.PROXY_RPC_BYTES, s.proxyCpuMicros() != null ? String.format(Locale.ROOT, "%.2f us (--proxy-cpu-us)",
                s.proxyCpuMicros()) : "as measured by kv bench (client-process CPU ÷ operations, tcp transport "
                + "included)", s.proxyCores(), s.proxyCores() == 1 ? "" : "s"));
        for (final NicSpec nic : List.of(NicSpec.CX3, NicSpec.CX6))
        {
            sb.append("  ").append(nic.summary()).append('\n');
        }
        sb.append('\n');
        final List<List<String>> rows = new ArrayList<>();
        final List<List<String>> lat = new ArrayList<>();
        final List<List<String>> mixRows = new ArrayList<>();
        for (int i = 0; i < mixes.size(); i++)
        {
            final CellMix f = mixes.get(i);
            if (!"fusee".equals(f.mode()))
            {
                continue;
            }
            final CellMix x = mixes.stream().filter(o -> o.cell().equals(f.cell()) && "flexkv".equals(o.mode()))
                .findFirst().orElse(null);
            final List<String> row = new ArrayList<>(List.of(f.cell()));
            final List<String> latRow = new ArrayList<>(List.of(f.cell()));
            for (final NicSpec nic : List.of(NicSpec.CX3, NicSpec.CX6))
            {
                final NicModel.Prediction pf = predict(f, nic, s);
                final NicModel.Prediction px = x == null ? null : predict(x, nic, s);
                row.add(String.format(Locale.ROOT, "%.2f (%s)", pf.throughput() / 1e6, pf.bottleneck()));
                row.add(px == null ? "-" : String.format(Locale.ROOT, "%.2f (%s)", px.throughput() / 1e6,
                    px.bottleneck()));
                row.add(px == null ? "-" : String.format(Locale.ROOT, "%.2f", px.throughput() / pf.throughput()));
                latRow.add(String.format(Locale.ROOT, "%.2f", pf.latencyMicros()));
                latRow.add(px == null ? "-" : String.format(Locale.ROOT, "%.2f", px.latencyMicros()));
            }
            rows.add(row);
            lat.add(latRow);
            mixRows.add(List.of(f.cell() + ", fusee", f.mix().summary(), "-", num(f.cpuMicrosPerOp())));
            if (x != null)
            {
                mixRows.add(List.of(x.cell() + ", flexkv", x.mix().summary(), String.format(Locale.ROOT, "%.2f",
                    x.cnRpcs()), num(x.cpuMicrosPerOp())));
            }
        }
        ModelReport.table(sb, List.of("throughput, Mops (bottleneck)", "cx3: FUSEE mode", "cx3: FlexKV mode",
            "cx3: FlexKV ÷ FUSEE", "cx6: FUSEE mode", "cx6: FlexKV mode", "cx6: FlexKV ÷ FUSEE"), rows);
        sb.append('\n');
        ModelReport.table(sb, List.of("unloaded latency, us", "cx3: FUSEE mode", "cx3: FlexKV mode", "cx6: FUSEE mode",
            "cx6: FlexKV mode"), lat);
        sb.append('\n');
        ModelReport.table(sb, List.of("mix per operation (model input, measured)", "RTT (critical path), verbs, bytes",
            "CN-to-CN RPCs", "client CPU us (measured here)"), mixRows);
        sb.append("RTT is what the caller's thread posted (a proxy RPC counts once; a remote proxy's write-through "
            + "inside it is not counted, so FlexKV's remote writes are modelled one round trip short); verbs and "
            + "bytes are every client process's store counters (the proxies' write-through included).\n");
        return sb.toString();
    }

    private static String num(final double v)
    {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }
}
