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
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import io.dmkv.KvConfig;
import io.dmkv.KvConfigException;
import io.dmkv.bench.runner.BenchCluster;
import io.dmkv.bench.runner.BenchReport;
import io.dmkv.bench.runner.BenchRunner;
import io.dmkv.bench.runner.ClusterSizing;
import io.dmkv.bench.runner.CoordinatorProcess;
import io.dmkv.bench.runner.Keys;
import io.dmkv.bench.runner.MemoryBudget;
import io.dmkv.bench.runner.ModeCompare;
import io.dmkv.bench.runner.PartitionSettle;
import io.dmkv.bench.runner.Workload;
import io.dmkv.core.config.Sizes;
import picocli.CommandLine;
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
        + "latency CDF) to a results folder. With --mode fusee,flexkv (or several workloads, or --rounds) it compares "
        + "the index modes on identical work: each run on a fresh cluster of memory-node daemons and a ZooKeeper "
        + "process, the modes alternating, one table per workload with medians, spreads, FlexKV/FUSEE ratios, "
        + "round trips, RPCs, verbs, CAS/FAA and CPU per operation, and the checks of FlexKV's claim; "
        + "compare.json, compare.csv, summary.txt and plots in the results folder, each run's own results below "
        + "it. Ctrl-C stops every process it started.",
        "Example: kv bench --workload a --threads 1,2,4 --duration 10s",
        "Example: kv bench --workload-file my.properties --processes 4 --threads 8 --process-heap 512m",
        "Example: kv bench --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 --workload c --no-load",
        "Example: kv bench --mode fusee,flexkv --workload a,b,c,d --distribution zipfian,uniform --processes 4 "
            + "--threads 8 --process-heap 256m --rounds 3 --warmup 40s --duration 10s --memory 512m",
        "Example: kv bench --mode fusee,flexkv --workload b --shift-at 50%% --processes 4 --threads 8 --rounds 3",
        "Example: kv bench --mode flexkv --workload b --processes 2 --threads 4 --memory-budget 5%%,25%%,100%%"})
public final class BenchCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    WorkloadOptions work;

    @Option(names = "--threads", paramLabel = "N[,N...]", split = ",",
        description = "Client threads over all processes; several values sweep (one run each), e.g. 1,2,4 (default: 4).")
    List<Integer> threads = new ArrayList<>(List.of(4));

    @Option(names = "--memory-budget", paramLabel = "B[,B...]", split = ",",
        description = {"flexkv mode: sweep each proxy's byte budget dmkv.proxy.memoryBudget (index copy + level-1 "
            + "values, docs/flexkv.md section 8), one run per value (with each --threads value), passed to every "
            + "client process. A size (2M, 64M, 0) or a share (5%%, 25%%, 100%%) of the bytes a proxy needs for its "
            + "index copy and all its partitions' values, estimated as (index slots x 16 + records x (mean value + "
            + "key + 96 + key + 16)) / processes bytes: 16 per index-copy slot, empty or not (at least 4 subtables "
            + "of 86,016 slots), key + value + 96 per cached value, key + 16 per learnt key (key = 16 B)."})
    List<String> memoryBudgets = new ArrayList<>();

    @Option(names = "--processes", paramLabel = "N",
        description = "Client JVMs sharing the threads of each run, results merged (default: ${DEFAULT-VALUE}: this JVM).")
    int processes = 1;

    @Option(names = "--process-heap", paramLabel = "SIZE", description = "-Xmx of each client JVM (default: ${DEFAULT-VALUE}).")
    String processHeap = "512m";

    @Option(names = "--duration", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Length of each run phase, e.g. 10s, 1m (default: 10s).")
    Duration duration = Duration.ofSeconds(10);

    @Option(names = "--warmup", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Before each run phase, run its workload this long without counting it, so the run measures a "
            + "steady state (JIT compiled, caches filled, FlexKV partitions loaded and keys learnt); the same in every "
            + "mode, on the threads of the run; 0s for none (default: 5s). A comparison says how much of the counted "
            + "phase's CPU the JIT compiler took: on a small machine FlexKV mode needs 30-40s.")
    Duration warmup = Duration.ofSeconds(5);

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

    @Option(names = "--mode", paramLabel = "MODE[,MODE]", split = ",",
        description = "fusee, flexkv, or both (fusee,flexkv): the index mode of each run's cluster; with flexkv every "
            + "client process is a proxy-enabled compute node and the partitions spread over them "
            + "(docs/flexkv.md). Two modes run side by side on identical work, alternating for --rounds, each "
            + "run on a fresh cluster, and print one table per workload with the FlexKV/FUSEE ratios "
            + "(default: fusee).")
    List<String> modes = new ArrayList<>(List.of("fusee"));

    @Option(names = "--rounds", paramLabel = "N",
        description = "Rounds of each workload: the modes alternate (fusee, flexkv, fusee, flexkv, ...) and the "
            + "table gives the median with the spread of the rounds (default: ${DEFAULT-VALUE}).")
    int rounds = 1;

    @Option(names = "--cluster", paramLabel = "KIND",
        description = "embedded: memory nodes in this JVM (a ZooKeeper too in flexkv mode); daemons: --nodes "
            + "memory-node daemons on tcp, each in a JVM of its own, and a ZooKeeper coordinator process (or "
            + "--coordinator), a fresh cluster per run (default: daemons with several modes, rounds or workloads, "
            + "else embedded).")
    String cluster;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT",
        description = "A running ZooKeeper (scripts/coordinator): with --cluster daemons each run's cluster takes a "
            + "fresh chroot on it instead of a coordinator process the bench starts; with --memnodes, the one those "
            + "memory nodes registered with (needed for flexkv).")
    String coordinator;

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
        final List<Workload> cells = work.cells(spec.commandLine());
        validate(cells);
        final boolean given = memnodes != null;
        final int nodeCount = given ? memnodes.size() : nodes;
        final int r = replication != null ? replication : Math.min(2, nodeCount);
        long keysBound = 0;
        int maxValue = 1;
        for (final Workload w : cells)
        {
            keysBound = Math.max(keysBound, w.records() + (w.insertProportion() > 0 ? 2L * w.records() : 0));
            maxValue = Math.max(maxValue, w.maxValueSize());
        }
        ClusterSizing sizing = ClusterSizing.forKeys(keysBound, Keys.LENGTH, maxValue, nodeCount, r);
        if (memory != null)
        {
            sizing = sizing.withMemory(memory);
        }
        final ClusterSizing size = sizing;
        final PrintWriter out = spec.commandLine().getOut();
        final Path folder = results != null ? results : BenchReport.newFolder(Path.of("results"));
        final long seedValue = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        final int maxThreads = Collections.max(threads);
        final int load = loadThreads != null ? loadThreads : maxThreads;
        final ModeCompare.Stores stores = (c, mode) ->
        {
            try
            {
                return security.apply(c.store(mode).replication(r).indexAreaBytes(size.indexAreaBytes())).build();
            }
            catch (final KvConfigException | IllegalArgumentException e)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
        };
        if (!"daemons".equals(clusterKind()))
        {
            return single(cells.get(0), modes.get(0), r, size, folder, seedValue, load, stores, out);
        }
        final Map<String, Object> setup = setup(r, size);
        setup.put("cluster", Map.of("kind", "daemons", "nodes", nodes, "transport", "tcp", "replication", r,
            "memoryPerNode", size.memoryPerNode()));
        out.printf(Locale.ROOT, "dmkv bench: modes %s, %d round%s, %d workload%s; each run on a fresh cluster of %d "
            + "memory-node daemons (%s each, tcp, r = %d) and %s; %d threads in %d client process%s (-Xmx%s), %s per "
            + "run%s%n", String.join(",", modes), rounds, rounds == 1 ? "" : "s", cells.size(), cells.size() == 1 ? ""
                : "s", nodes, Sizes.format(size.memoryPerNode()), r, coordinator != null ? "a chroot on ZooKeeper "
                + coordinator : "a ZooKeeper coordinator process", maxThreads, processes, processes == 1 ? "" : "es",
            processHeap, seconds(duration), afterWarmup());
        out.flush();
        final ModeCompare.Matrix m = new ModeCompare.Matrix(cells, List.copyOf(modes), rounds, maxThreads, processes,
            processHeap, warmup, duration, load, seedValue, folder, !noPlots, setup);
        try (CoordinatorProcess zk = coordinator == null ? CoordinatorProcess.start(BenchCluster.COORDINATOR_TICK) : null)
        {
            final ModeCompare.Clusters clusters = (cell, mode, round) -> BenchCluster.daemons(nodes, size,
                zk != null ? zk.freshChroot() : coordinator + "/bench-" + UUID.randomUUID().toString().substring(0, 12),
                "bench-" + mode + "-mn");
            final ModeCompare.Result result = ModeCompare.run(m, clusters, stores, out);
            return result.failures().isEmpty() ? 0 : 1;
        }
    }

    /** One mode, one round, one workload: the thread sweep of docs/bench-runner.md. */
    private int single(final Workload workload, final String mode, final int r, final ClusterSizing sizing,
        final Path folder, final long seedValue, final int load, final ModeCompare.Stores stores, final PrintWriter out)
        throws Exception
    {
        final boolean embedded = memnodes == null;
        final String clusterTransport = embedded && processes > 1 ? "tcp" : transport;
        try (BenchCluster c = embedded ? BenchCluster.embedded(nodes, sizing, clusterTransport, "flexkv".equals(mode))
            : BenchCluster.given(memnodes.stream().map(String::trim).toList(), clusterTransport, coordinator))
        {
            final KvConfig store = stores.store(c, mode);
            out.printf(Locale.ROOT, "dmkv bench (%s mode): workload %s; %s; %s transport, r = %d; threads %s in %d"
                + " process%s; %s per run%s%n", mode, workload.summary(), embedded ? String.format(Locale.ROOT,
                    "embedded cluster of %d memory nodes (%s each)", nodes, Sizes.format(sizing.memoryPerNode()))
                    : "memory nodes " + String.join(",", c.endpoints()), clusterTransport, r, threads, processes,
                processes == 1 ? "" : "es", seconds(duration), afterWarmup());
            out.flush();
            final Map<String, Object> setup = setup(r, sizing);
            setup.put("mode", mode);
            final Map<String, Object> cl = new LinkedHashMap<>(c.describe());
            cl.put("embedded", embedded);
            cl.put("replication", r);
            if (embedded)
            {
                cl.put("memoryPerNode", sizing.memoryPerNode());
            }
            setup.put("cluster", cl);
            final BenchRunner.RunHooks hooks = !"flexkv".equals(mode) ? BenchRunner.RunHooks.NONE
                : new BenchRunner.RunHooks()
                {
                    @Override
                    public void beforeGo(final int clients) throws InterruptedException
                    {
                        PartitionSettle.await(store, clients, Duration.ofSeconds(60), out);
                    }

                    @Override
                    public void afterRun()
                    {
                    }
                };
            final List<Long> budgets = budgets(workload);
            if (!budgets.isEmpty())
            {
                setup.put("memoryBudgets", describeBudgets(workload, budgets));
                out.printf(Locale.ROOT, "proxy memory budgets: %s%n", String.join(", ", describeBudgets(workload,
                    budgets)));
                out.flush();
            }
            final BenchRunner.Plan plan = new BenchRunner.Plan(store, workload, List.copyOf(threads), budgets,
                processes, processHeap, warmup, duration, load, !noLoad, seedValue, folder, !noPlots, setup, hooks);
            final BenchReport.Bench bench = BenchRunner.run(plan, out);
            final boolean failed = bench.runs().stream().anyMatch(run -> run.merged().result().totalOps() == 0)
                || (bench.load() != null && bench.load().result().totalErrors() > 0);
            return failed ? 1 : 0;
        }
    }

    /** The --memory-budget values in bytes, for this workload and one proxy per client process. */
    private List<Long> budgets(final Workload workload)
    {
        return memoryBudgets.stream().map(t -> MemoryBudget.parse(t).bytes(workload, processes)).toList();
    }

    private List<String> describeBudgets(final Workload workload, final List<Long> bytes)
    {
        final List<String> d = new ArrayList<>();
        for (int i = 0; i < bytes.size(); i++)
        {
            d.add(MemoryBudget.parse(memoryBudgets.get(i)).describe(bytes.get(i)));
        }
        return d;
    }

    /** The cluster kind: --cluster, else daemons for a comparison (several modes, rounds or workloads). */
    private String clusterKind()
    {
        if (cluster != null)
        {
            return cluster;
        }
        final boolean many = modes.size() > 1 || rounds > 1 || work.names().size() * work.distributions().size() > 1;
        return many && memnodes == null ? "daemons" : "embedded";
    }

    /** ", after a W warm-up", or nothing without one. */
    private String afterWarmup()
    {
        return warmup.isZero() ? "" : ", after a " + seconds(warmup) + " warm-up";
    }

    private static String seconds(final Duration d)
    {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The checks of --mode, --rounds, --cluster and --coordinator. */
    private void validateModes(final CommandLine cl, final List<Workload> cells)
    {
        try
        {
            ModeCompare.checkModes(modes);
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(cl, e.getMessage(), e);
        }
        if (rounds < 1 || rounds > 50)
        {
            throw new CommandLine.ParameterException(cl, "--rounds must be in 1..50, got " + rounds);
        }
        if (cluster != null && !cluster.equals("embedded") && !cluster.equals("daemons"))
        {
            throw new CommandLine.ParameterException(cl, "--cluster must be embedded or daemons, got '" + cluster + "'");
        }
        final boolean daemons = "daemons".equals(clusterKind());
        final boolean many = modes.size() > 1 || rounds > 1 || cells.size() > 1;
        if (many && !daemons)
        {
            throw new CommandLine.ParameterException(cl, "several modes, rounds or workloads need a fresh cluster per "
                + "run: use --cluster daemons (the default then), without --memnodes");
        }
        if (daemons)
        {
            if (memnodes != null)
            {
                throw new CommandLine.ParameterException(cl, "--cluster daemons starts its own memory nodes: drop "
                    + "--memnodes (or run one mode, one round against them)");
            }
            if (threads.size() > 1)
            {
                throw new CommandLine.ParameterException(cl, "--cluster daemons and mode comparisons take one "
                    + "--threads value, got " + threads);
            }
            if (noLoad)
            {
                throw new CommandLine.ParameterException(cl, "--no-load needs --memnodes: a fresh cluster is empty");
            }
            if (security.secretFile != null || security.tlsCa != null || security.tlsCert != null)
            {
                throw new CommandLine.ParameterException(cl, "--secret-file and --tls-* are for --memnodes: the "
                    + "daemons --cluster daemons starts have no secret or certificate");
            }
        }
        if (modes.contains("flexkv") && memnodes != null && coordinator == null)
        {
            throw new CommandLine.ParameterException(cl, "flexkv mode with --memnodes needs --coordinator, the "
                + "ZooKeeper those memory nodes registered with");
        }
        if (coordinator != null && memnodes == null && !daemons)
        {
            throw new CommandLine.ParameterException(cl, "--coordinator is for --cluster daemons or --memnodes");
        }
    }

    private void validate(final List<Workload> cells)
    {
        final CommandLine cl = spec.commandLine();
        validateModes(cl, cells);
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
        if (warmup.isNegative())
        {
            throw new CommandLine.ParameterException(cl, "--warmup must not be negative");
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
        validateBudgets(cl);
        if (threads.size() * Math.max(1, memoryBudgets.size()) > 100)
        {
            throw new CommandLine.ParameterException(cl, "at most 100 runs in a sweep");
        }
    }

    /** --memory-budget: well formed, and only in flexkv mode alone. */
    private void validateBudgets(final CommandLine cl)
    {
        if (memoryBudgets.isEmpty())
        {
            return;
        }
        if (!modes.equals(List.of("flexkv")) || "daemons".equals(clusterKind()))
        {
            throw new CommandLine.ParameterException(cl, "--memory-budget sizes the FlexKV proxies' memory: use it "
                + "with --mode flexkv alone, one workload and one round, got --mode " + String.join(",", modes));
        }
        for (final String b : memoryBudgets)
        {
            try
            {
                MemoryBudget.parse(b);
            }
            catch (final IllegalArgumentException e)
            {
                throw new CommandLine.ParameterException(cl, e.getMessage(), e);
            }
        }
    }

    private Map<String, Object> setup(final int r, final ClusterSizing sizing)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final List<String> args = spec.commandLine().getParseResult().originalArgs();
        // run through kv, the arguments start with the subcommand's name
        m.put("command", "kv bench " + String.join(" ", !args.isEmpty() && args.get(0).equals("bench")
            ? args.subList(1, args.size()) : args));
        m.put("started", Instant.now().toString());
        m.put("replication", r);
        m.put("indexAreaBytes", sizing.indexAreaBytes());
        m.put("threads", threads);
        m.put("processes", processes);
        m.put("processHeap", processHeap);
        m.put("warmupSeconds", warmup.toMillis() / 1e3);
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
