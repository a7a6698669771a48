package io.dmkv.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.dmkv.bench.model.DmkvMixes;
import io.dmkv.bench.model.FuseeReference;
import io.dmkv.bench.model.ModeModel;
import io.dmkv.bench.model.ModelReport;
import io.dmkv.bench.model.NicModel;
import io.dmkv.bench.model.NicSpec;
import io.dmkv.bench.runner.Keys;
import io.dmkv.bench.runner.Workload;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv model}: the NIC model (docs/nic-model.md). Checks it against FUSEE's published
 * figures with FUSEE's verb mix, and prints what it predicts for dmkv's measured mix beside them.
 */
@Command(name = "model", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"A MODEL, not a measurement: turns verbs, bytes and round trips per operation into the "
        + "throughput and latency a named RDMA NIC would deliver (round-trip time, message rate, atomic rate, link "
        + "bandwidth; presets cx3 = ConnectX-3 56 Gb/s, cx6 = ConnectX-6 100 Gb/s). First checks the model against "
        + "FUSEE's published figures using FUSEE's verb mix, then prints the prediction for dmkv's mix, measured by "
        + "a short local run (default) or read from a kv bench results folder. Given the folder of a mode comparison "
        + "(kv bench --mode fusee,flexkv), prints FUSEE and FlexKV mode side by side on the cx3 and cx6 presets, "
        + "FlexKV with a compute-node term: CN-to-CN proxy RPCs on the CN NICs and the proxy's CPU per operation.",
        "Example: kv model",
        "Example: kv model --results results/20261205-003000 --proxy-cpu-us measured",
        "Example: kv model --results results/20261121-103032 --nic cx6 --memnodes 4 --clients 256"})
public final class ModelCommand implements Callable<Integer>
{
    /** Where dmkv's mix comes from. */
    static final class Source
    {
        @Option(names = "--measure", description = "Measure dmkv's mix with a short run on an embedded cluster (the default).")
        boolean measure;

        @Option(names = "--results", paramLabel = "DIR", description = "Take dmkv's mix from a kv bench results folder (or its result.json).")
        Path results;

        @Option(names = "--fusee-only", description = "Only check the model against FUSEE's figures.")
        boolean fuseeOnly;
    }

    @ArgGroup(exclusive = true)
    Source source;

    @Option(names = "--nic", paramLabel = "NAME", description = "NIC preset for dmkv's prediction: cx3 or cx6 (default: ${DEFAULT-VALUE}).")
    String nic = "cx3";

    @Option(names = "--memnodes", paramLabel = "N", description = "Memory nodes for dmkv's prediction (default: ${DEFAULT-VALUE}, FUSEE's).")
    int memnodes = FuseeReference.MEMORY_NODES;

    @Option(names = "--clients", paramLabel = "N", description = "Clients for dmkv's prediction (default: ${DEFAULT-VALUE}, FUSEE's).")
    int clients = FuseeReference.CLIENTS;

    @Option(names = "--client-nodes", paramLabel = "N", description = "Machines the clients run on (default: clients / 8, as FUSEE).")
    Integer clientNodes;

    @Option(names = "--outstanding", paramLabel = "N", description = "Operations each client keeps in flight (default: ${DEFAULT-VALUE}).")
    int outstanding = 1;

    @Option(names = "--atomics", paramLabel = "MODE",
        description = "shared: an atomic occupies the NIC 1/atomic-rate and other verbs 1/verb-rate, added up; "
            + "separate: two independent limits (default: ${DEFAULT-VALUE}).")
    String atomics = "shared";

    @Option(names = "--rtt-us", paramLabel = "US", description = "Override the preset's round-trip time, us.")
    Double rttMicros;

    @Option(names = "--verb-rate", paramLabel = "MOPS", description = "Override the preset's verbs per second per NIC, millions.")
    Double verbRate;

    @Option(names = "--atomic-rate", paramLabel = "MOPS", description = "Override the preset's atomics per second per NIC, millions.")
    Double atomicRate;

    @Option(names = "--link-gbps", paramLabel = "GBPS", description = "Override the preset's link data rate, Gb/s each way.")
    Double linkGbps;

    @Option(names = "--measure-records", paramLabel = "N", description = "Keys of the measurement (default: ${DEFAULT-VALUE}).")
    int measureRecords = DmkvMixes.Measurement.DEFAULT.records();

    @Option(names = "--measure-ops", paramLabel = "N", description = "Operations of each kind in the measurement (default: ${DEFAULT-VALUE}).")
    int measureOps = DmkvMixes.Measurement.DEFAULT.ops();

    @Option(names = "--value-size", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Value size of the measurement (default: 1008 B: with the 16-byte key, FUSEE's 1 KiB KV pair).")
    Long valueSize;

    @Option(names = "--proxy-cpu-us", paramLabel = "US|measured",
        description = "With a mode comparison: CPU a FlexKV proxy spends per operation, us, or 'measured' for what kv "
            + "bench measured (client-process CPU ÷ operations, tcp transport included) (default: ${DEFAULT-VALUE}, "
            + "an assumption: docs/nic-model.md).")
    String proxyCpu = Double.toString(ModeModel.DEFAULT_PROXY_CPU_MICROS);

    @Option(names = "--proxy-cores", paramLabel = "N",
        description = "With a mode comparison: cores per compute node serving proxy work (default: ${DEFAULT-VALUE}).")
    int proxyCores = ModeModel.DEFAULT_PROXY_CORES;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException
    {
        final CommandLine cl = spec.commandLine();
        final NicModel.Atomics mode;
        final NicSpec chosen;
        final NicModel.Setup setup;
        try
        {
            mode = NicModel.Atomics.valueOf(atomics.trim().toUpperCase(Locale.ROOT));
            chosen = NicSpec.named(nic).with(rttMicros, verbRate == null ? null : verbRate * 1e6,
                atomicRate == null ? null : atomicRate * 1e6, linkGbps);
            setup = new NicModel.Setup(chosen, memnodes, clients, clientNodes != null ? clientNodes : (clients + 7) / 8,
                outstanding, mode);
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(cl, e.getMessage(), e);
        }
        if (measureRecords < 1 || measureRecords > Workload.MAX_RECORDS || measureOps < 1)
        {
            throw new CommandLine.ParameterException(cl, "--measure-records must be in 1.." + Workload.MAX_RECORDS
                + " and --measure-ops at least 1");
        }
        final int value = valueSize != null ? (int)Math.min(Integer.MAX_VALUE, valueSize)
            : FuseeReference.KV_BYTES - Keys.LENGTH;
        if (value < 1 || value > Workload.MAX_VALUE_SIZE)
        {
            throw new CommandLine.ParameterException(cl, "--value-size must be in 1.." + Workload.MAX_VALUE_SIZE);
        }
        final PrintWriter out = cl.getOut();
        final DmkvMixes dmkv;
        if (source != null && source.fuseeOnly)
        {
            dmkv = null;
        }
        else if (source != null && source.results != null && ModeModel.isComparison(source.results))
        {
            final ModeModel.Settings s;
            try
            {
                s = new ModeModel.Settings(memnodes, clients, setup.clientNodes(), outstanding, mode,
                    "measured".equals(proxyCpu.trim()) ? null : Double.valueOf(proxyCpu.trim()), proxyCores);
                if (s.proxyCpuMicros() != null && (s.proxyCpuMicros() < 0 || s.proxyCpuMicros().isNaN())
                    || proxyCores < 1)
                {
                    throw new NumberFormatException("--proxy-cpu-us must be 'measured' or at least 0, --proxy-cores at "
                        + "least 1");
                }
                out.print(ModeModel.text(ModeModel.read(source.results), s, source.results));
            }
            catch (final IllegalArgumentException | IOException e)
            {
                throw new CommandLine.ParameterException(cl, "--results / --proxy-cpu-us: " + e.getMessage(), e);
            }
            out.flush();
            return 0;
        }
        else if (source != null && source.results != null)
        {
            try
            {
                dmkv = DmkvMixes.fromResults(source.results);
            }
            catch (final IllegalArgumentException | IOException e)
            {
                throw new CommandLine.ParameterException(cl, "--results: " + e.getMessage(), e);
            }
        }
        else
        {
            out.println("measuring dmkv's verb mix (a few seconds)...");
            out.flush();
            dmkv = DmkvMixes.measure(new DmkvMixes.Measurement(measureRecords, measureOps, value,
                Workload.DEFAULT_ZIPFIAN_CONSTANT));
        }
        // The check runs on FUSEE's NIC: the ConnectX-3 preset, with the overrides only when cx3 was chosen.
        final NicSpec fuseeNic = "cx3".equals(chosen.id()) ? chosen : NicSpec.CX3;
        out.print(new ModelReport(fuseeNic, mode, dmkv, setup).text());
        out.flush();
        return 0;
    }
}
