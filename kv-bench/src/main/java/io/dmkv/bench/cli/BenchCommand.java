package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import io.dmkv.KvConfig;
import io.dmkv.KvConfigException;
import io.dmkv.bench.runner.BenchReport;
import io.dmkv.bench.runner.BenchRunner;
import io.dmkv.bench.runner.ClusterSizing;
import io.dmkv.bench.runner.Keys;
import io.dmkv.bench.runner.Workload;
import io.dmkv.core.config.Sizes;
import io.dmkv.memnode.EmbeddedCluster;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv bench}: YCSB-style workloads against an embedded cluster or running memory nodes,
 * in one or several client processes, with a thread sweep; results as JSON, CSV and PNG plots
 * in a results folder. See docs/bench-runner.md.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs a YCSB-style workload on the key-value store: loads the records (progress bar), then runs "
        + "the mix for --duration at each thread count, in this JVM or in --processes client JVMs whose histograms "
        + "and counters are merged. Prints throughput, p50/p99/p999 latency and round trips, verbs and bytes per "
        + "operation, and writes result.json, results.csv, summary.txt and PNG plots (throughput vs threads, "
        + "latency CDF) to a results folder.",
        "Example: kv bench --workload a --threads 1,2,4 --duration 10s",
        "Example: kv bench --workload-file my.properties --processes 4 --threads 8 --process-heap 512m",
        "Example: kv bench --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 --workload c --no-load"})
public final class BenchCommand implements Callable<Integer>
{
    /** Exactly one workload source. */
    static final class WorkloadSource
    {
        @Option(names = "--workload", paramLabel = "NAME",
            description = "YCSB core workload a (50/50 read/update), b (95/5), c (read only), d (read latest/insert) "
                + "or f (read-modify-write); default a.")
        String name;

        @Option(names = "--workload-file", paramLabel = "FILE",
            description = "YCSB-style properties: readproportion, updateproportion, insertproportion, "
                + "readmodifywriteproportion, requestdistribution, zipfianconstant, recordcount, operationcount, "
                + "fieldcount, fieldlength, fieldlengthdistribution.")
        Path file;
    }

    @ArgGroup(exclusive = true)
    WorkloadSource source;

    @Option(names = "--threads", paramLabel = "N[,N...]", split = ",",
        description = "Client threads over all processes; several values sweep (one run each), e.g. 1,2,4 (default: 4).")
    List<Integer> threads = new ArrayList<>(List.of(4));

    @Option(names = "--processes", paramLabel = "N",
        description = "Client JVMs sharing the threads of each run, results merged (default: ${DEFAULT-VALUE}: this JVM).")
    int processes = 1;

    @Option(names = "--process-heap", paramLabel = "SIZE", description = "-Xmx of each client JVM (default: ${DEFAULT-VALUE}).")
    String processHeap = "512m";

    @Option(names = "--records", paramLabel = "N", description = "Keys to load (default: the workload's; 100,000 for a named one).")
    Integer records;

    @Option(names = "--distribution", paramLabel = "NAME", description = "Key popularity: uniform, zipfian or latest (default: the workload's).")
    String distribution;

    @Option(names = "--zipf", paramLabel = "THETA", description = "θ of zipfian and latest (default: the workload's; 0.99).")
    Double zipf;

    @Option(names = "--value-size", paramLabel = "SIZE|MIN..MAX",
        description = "Bytes per value, or a uniform range, e.g. 1K or 100..4K (default: the workload's; 1000).")
    String valueSize;

    @Option(names = "--duration", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Length of each run phase, e.g. 10s, 1m (default: 10s).")
    Duration duration = Duration.ofSeconds(10);

    @Option(names = "--operations", paramLabel = "N",
        description = "Also end each run phase after N operations (default: the workload's operationcount, else none).")
    Long operations;

    @Option(names = "--load-threads", paramLabel = "N", description = "Threads of the load phase (default: the largest --threads).")
    Integer loadThreads;

    @Option(names = "--no-load", description = "Skip the load phase (the memory nodes already hold the records).")
    boolean noLoad;

    @Option(names = "--memnodes", paramLabel = "HOST:PORT,...", split = ",", converter = KvCli.EndpointConverter.class,
        description = "Running memory nodes to use, in the cluster's order (default: start an embedded cluster).")
    List<String> memnodes;

    @Option(names = "--nodes", paramLabel = "N", description = "Memory nodes of the embedded cluster (default: ${DEFAULT-VALUE}).")
    int nodes = 2;

    @Option(names = "--memory", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Memory per embedded node (default: room for the records and the run's updates).")
    Long memory;

    @Option(names = "--transport", paramLabel = "NAME",
        description = "local or tcp for the embedded cluster (tcp when --processes > 1); tcp, local or rdma with "
            + "--memnodes (default: tcp).")
    String transport = "tcp";

    @Option(names = "--replication", paramLabel = "R",
        description = "Replicas of every object and index slot; with --memnodes it must match the cluster's "
            + "(default: 2, or 1 with one node).")
    Integer replication;

    @Option(names = "--mode", paramLabel = "MODE",
        description = "fusee or flexkv: the index mode of the embedded cluster; with flexkv every client process is"
            + " a proxy-enabled compute node and the partitions spread over them (docs/flexkv.md) (default:"
            + " ${DEFAULT-VALUE}).")
    String mode = "fusee";

    @Option(names = "--results", paramLabel = "DIR", description = "Results folder (default: results/<yyyyMMdd-HHmmss>).")
    Path results;

    @Option(names = "--no-plots", description = "Do not draw the PNG plots.")
    boolean noPlots;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default: random).")
    Long seed;

    @CommandLine.Mixin
    SecurityOptions security;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception
    {
        final Workload workload = workload();
        validate(workload);
        final boolean embedded = memnodes == null;
        final int nodeCount = embedded ? nodes : memnodes.size();
        final int r = replication != null ? replication : Math.min(2, nodeCount);
        final int maxThreads = Collections.max(threads);
        final long keysBound = workload.records() + (workload.insertProportion() > 0 ? 2L * workload.records() : 0);
        ClusterSizing sizing = ClusterSizing.forKeys(keysBound, Keys.LENGTH, workload.maxValueSize(), nodeCount, r);
        if (memory != null)
        {
            sizing = sizing.withMemory(memory);
        }
        final String clusterTransport = embedded && processes > 1 ? "tcp" : transport;
        final PrintWriter out = spec.commandLine().getOut();
        final Path folder = results != null ? results : BenchReport.newFolder(Path.of("results"));
        final boolean flexkv = mode.equals("flexkv");
        if (!flexkv && !mode.equals("fusee") || flexkv && !embedded)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--mode must be fusee or flexkv (flexkv with"
                + " the embedded cluster only: it needs a coordinator), got '" + mode + "'");
        }
        try (EmbeddedCluster cluster = embedded
            ? EmbeddedCluster.start(nodes, sizing.memoryPerNode(), sizing.regionBytes(), clusterTransport, flexkv)
            : null)
        {
            final List<String> endpoints = embedded ? cluster.endpoints() : memnodes.stream().map(String::trim).toList();
            final KvConfig store;
            try
            {
                final KvConfig.Builder b = flexkv ? KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                    .mode("flexkv").proxyEnabled(true) : KvConfig.builder().memnodes(endpoints);
                store = security.apply(b.transport(clusterTransport).replication(r).indexAreaBytes(sizing.indexAreaBytes()))
                    .build();
            }
            catch (final KvConfigException e)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            out.printf(Locale.ROOT, "dmkv bench (%s mode): workload %s; %s; %s transport, r = %d; threads %s in %d"
                + " process%s; %s per run%n", mode, workload.summary(), embedded ? String.format(Locale.ROOT,
                    "embedded cluster of %d memory nodes (%s each)", nodes, Sizes.format(sizing.memoryPerNode()))
                    : "memory nodes " + String.join(",", endpoints), clusterTransport, r, threads, processes,
                processes == 1 ? "" : "es", seconds(duration));
            out.flush();
            final Map<String, Object> setup = setup(embedded, endpoints, clusterTransport, r, sizing);
            final BenchRunner.Plan plan = new BenchRunner.Plan(store, workload, List.copyOf(threads), processes,
                processHeap, duration, loadThreads != null ? loadThreads : maxThreads, !noLoad,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(), folder, !noPlots, setup);
            final BenchReport.Bench bench = BenchRunner.run(plan, out);
            final boolean failed = bench.runs().stream().anyMatch(run -> run.merged().result().totalOps() == 0)
                || (bench.load() != null && bench.load().result().totalErrors() > 0);
            return failed ? 1 : 0;
        }
    }

    private static String seconds(final Duration d)
    {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private Workload workload()
    {
        final CommandLine cl = spec.commandLine();
        try
        {
            Workload w = source != null && source.file != null ? Workload.fromFile(source.file)
                : Workload.named(source != null && source.name != null ? source.name : "a");
            if (records != null)
            {
                w = w.withRecords(records);
            }
            if (distribution != null || zipf != null)
            {
                w = w.withDistribution(distribution != null ? Workload.Distribution.of(distribution) : w.distribution(),
                    zipf != null ? zipf : w.zipfianConstant());
            }
            if (valueSize != null)
            {
                final String[] range = valueSize.split("\\.\\.", -1);
                if (range.length > 2)
                {
                    throw new IllegalArgumentException("--value-size takes SIZE or MIN..MAX, got " + valueSize);
                }
                final long min = Sizes.parse(range[0].trim());
                final long max = range.length == 2 ? Sizes.parse(range[1].trim()) : min;
                w = w.withValueSizes((int)Math.min(Integer.MAX_VALUE, min), (int)Math.min(Integer.MAX_VALUE, max));
            }
            if (operations != null)
            {
                w = w.withOperations(operations);
            }
            return w;
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(cl, e.getMessage(), e);
        }
    }

    private void validate(final Workload w)
    {
        final CommandLine cl = spec.commandLine();
        for (final int t : threads)
        {
            if (t < 1 || t > 1024)
            {
                throw new CommandLine.ParameterException(cl, "--threads must be in 1..1024, got " + t);
            }
        }
        if (processes < 1 || processes > 64)
        {
            throw new CommandLine.ParameterException(cl, "--processes must be in 1..64");
        }
        if (!processHeap.matches("\\d+[kKmMgG]?"))
        {
            throw new CommandLine.ParameterException(cl, "--process-heap must be an -Xmx size such as 512m or 2g");
        }
        if (duration.isNegative() || duration.isZero())
        {
            throw new CommandLine.ParameterException(cl, "--duration must be positive");
        }
        if (loadThreads != null && (loadThreads < 1 || loadThreads > 1024))
        {
            throw new CommandLine.ParameterException(cl, "--load-threads must be in 1..1024");
        }
        if (memnodes == null)
        {
            if (nodes < 1 || nodes > 16)
            {
                throw new CommandLine.ParameterException(cl, "--nodes must be in 1..16");
            }
            if (!"local".equals(transport) && !"tcp".equals(transport))
            {
                throw new CommandLine.ParameterException(cl, "--transport must be local or tcp for the embedded cluster");
            }
            if (processes > 1 && "local".equals(transport))
            {
                throw new CommandLine.ParameterException(cl, "the embedded cluster's local memory nodes live in this "
                    + "JVM, out of reach of client processes: use --transport tcp (or --memnodes of daemons started "
                    + "with --shm-file)");
            }
            if (noLoad)
            {
                throw new CommandLine.ParameterException(cl, "--no-load needs --memnodes: a new embedded cluster is empty");
            }
        }
        final int nodeCount = memnodes == null ? nodes : memnodes.size();
        if (replication != null && (replication < 1 || replication > Math.min(5, nodeCount)))
        {
            throw new CommandLine.ParameterException(cl, "--replication must be in 1.." + Math.min(5, nodeCount)
                + " with " + nodeCount + " memory node(s)");
        }
        if (threads.size() > 100)
        {
            throw new CommandLine.ParameterException(cl, "at most 100 runs in a sweep");
        }
    }

    private Map<String, Object> setup(final boolean embedded, final List<String> endpoints, final String t, final int r,
        final ClusterSizing sizing)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "kv bench " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        m.put("started", Instant.now().toString());
        final Map<String, Object> cluster = new LinkedHashMap<>();
        cluster.put("embedded", embedded);
        cluster.put("memnodes", endpoints);
        cluster.put("transport", t);
        cluster.put("replication", r);
        if (embedded)
        {
            cluster.put("memoryPerNode", sizing.memoryPerNode());
        }
        m.put("cluster", cluster);
        m.put("threads", threads);
        m.put("processes", processes);
        m.put("processHeap", processHeap);
        m.put("durationSeconds", duration.toMillis() / 1e3);
        final Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
            + System.getProperty("os.arch"));
        machine.put("maxHeap", Runtime.getRuntime().maxMemory());
        m.put("machine", machine);
        return m;
    }
}
