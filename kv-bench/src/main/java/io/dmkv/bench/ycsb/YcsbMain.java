package io.dmkv.bench.ycsb;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

import io.dmkv.KvConfig;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.memnode.EmbeddedCluster;
import site.ycsb.Client;
import site.ycsb.DBException;

/**
 * {@code scripts/ycsb load|run -P FILE [YCSB options]}: YCSB 0.17.0 with dmkv's binding.
 * <p>
 * With {@code dmkv.memnodes} or {@code dmkv.coordinator} given (or another {@code -db}), it hands the command line to YCSB's
 * own {@code site.ycsb.Client} with {@code -load} or {@code -t} and {@code -db
 * io.dmkv.bench.ycsb.DmkvClient} in front, after opening and closing the store once so that a
 * bad setting or an unreachable node is one clear message (exit 2). Without, it starts an {@link EmbeddedCluster} in this
 * JVM and runs the load phase, then the run phase on it ({@link YcsbPhase}; YCSB's client
 * would exit the JVM after the first), and exits 1 if any operation or data-integrity check
 * was not OK.
 */
public final class YcsbMain
{
    /** Memory nodes of an embedded cluster (default 2). */
    public static final String EMBEDDED_NODES = DmkvClient.EMBEDDED_PREFIX + "nodes";
    /** Memory per embedded node, e.g. 512M (default: sized from the workload). */
    public static final String EMBEDDED_MEMORY = DmkvClient.EMBEDDED_PREFIX + "memory";
    /** Where bare {@code -P} names are looked up; the script sets it to kv-bench/workloads. */
    public static final String WORKLOADS_DIR = "dmkv.workloads.dir";

    private static final Set<String> EMBEDDED_KEYS = Set.of(EMBEDDED_NODES, EMBEDDED_MEMORY);
    private static final long MIN_NODE_MEMORY = 256L << 20;
    private static final long MEMORY_STEP = 64L << 20;
    /** Per node beyond the objects: the index area, blocks being filled, region headers. */
    private static final long SLACK_BYTES = 128L << 20;

    private static final String USAGE = String.join(System.lineSeparator(),
        "Usage: ycsb load|run -P FILE [-p NAME=VALUE]... [-threads N] [-target OPS] [-s] [-l LABEL] [-db CLASS]",
        "",
        "Runs YCSB 0.17.0 with dmkv's binding (io.dmkv.bench.ycsb.DmkvClient).",
        "",
        "  load | run      YCSB's load phase (-load) or transaction phase (-t)",
        "  -P FILE         a workload file; a bare name (workloada) is looked up in kv-bench/workloads",
        "  -p NAME=VALUE   a property over the files' (YCSB's own, or dmkv.* below)",
        "  -threads N, -target OPS, -s, -l LABEL   as in YCSB's client",
        "  -db CLASS       another binding, e.g. io.dmkv.bench.redis.RedisHashClient -p redis.port=6379",
        "",
        "With -p dmkv.memnodes=HOST:PORT,... or -p dmkv.coordinator=HOST:PORT (or either in a -P file) it runs YCSB's own client",
        "(site.ycsb.Client) against running memory nodes (scripts/memnode); pass the cluster's",
        "-p dmkv.replication=R, and any other KvConfig property (dmkv.transport, dmkv.timeout, dmkv.cache.entries, ...).",
        "",
        "Without either it starts an embedded cluster and coordinator in this JVM and runs load, then run on it",
        "(whichever of load|run was asked), and exits 1 if any operation or data-integrity check was not OK:",
        "  dmkv.embedded.nodes=N      memory nodes (default 2)",
        "  dmkv.embedded.memory=SIZE  memory per node, e.g. 512M (default: sized from the workload)",
        "  dmkv.transport=tcp|local   tcp on loopback (default) or in-JVM",
        "  dmkv.replication=R         replicas (default: 2, or 1 with one node)",
        "",
        "Workloads a, b, c, d and f are in kv-bench/workloads; e needs scans, which dmkv's hash index lacks.",
        "",
        "Examples:",
        "  ycsb run -P workloada -p dataintegrity=true -p fieldlengthdistribution=constant",
        "  ycsb load -P workloadb -p dmkv.memnodes=10.0.0.5:7410,10.0.0.6:7410 -p dmkv.replication=2 -threads 16",
        "  ycsb run  -P workloadb -p dmkv.memnodes=10.0.0.5:7410,10.0.0.6:7410 -p dmkv.replication=2 -threads 16",
        "",
        "Environment: YCSB_JAVA_OPTS (default -Xmx2g), YCSB_LOG_LEVEL (default warn).");

    private YcsbMain()
    {
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command; returns the exit code (0 fine, 1 a failed operation or check, 2 a usage
     * error). The official-client path does not return: YCSB's client exits the JVM.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final List<String> all = Arrays.asList(args);
        if (all.isEmpty() || all.contains("--help") || all.contains("-h") || all.contains("help"))
        {
            (all.isEmpty() ? err : out).println(USAGE);
            return all.isEmpty() ? 2 : 0;
        }
        final String phase = all.get(0);
        if (!phase.equals("load") && !phase.equals("run"))
        {
            err.println("ycsb: the first argument is load or run, got '" + phase + "' (ycsb --help)");
            return 2;
        }
        final Path workloads = workloadsDir();
        final List<String> ycsbArgs = new ArrayList<>(List.of("-db", DmkvClient.class.getName()));
        final List<String> rest = all.subList(1, all.size());
        for (int i = 0; i < rest.size(); i++)
        {
            final boolean file = rest.get(i).equals("-P") && i + 1 < rest.size();
            ycsbArgs.add(rest.get(i));
            if (file)
            {
                ycsbArgs.add(YcsbArgs.resolve(rest.get(++i), workloads).toString());
            }
        }
        final Properties props;
        try
        {
            props = YcsbArgs.parse(ycsbArgs);
            checkEmbeddedKeys(props);
        }
        catch (final IllegalArgumentException e)
        {
            err.println("ycsb: " + e.getMessage() + " (ycsb --help)");
            return 2;
        }
        if (!props.containsKey("workload"))
        {
            err.println("ycsb: no workload: give a workload file with -P, e.g. -P workloada (ycsb --help)");
            return 2;
        }
        final boolean embedded = DmkvClient.class.getName().equals(props.getProperty("db"))
            && !props.containsKey(KvConfig.MEMNODES) && !props.containsKey(KvConfig.COORDINATOR);
        if (!embedded)
        {
            if (DmkvClient.class.getName().equals(props.getProperty("db")))
            {
                // YCSB's client would print one stack trace per thread and run nothing.
                try
                {
                    DmkvClient.acquireStore(props);
                    DmkvClient.releaseStore();
                }
                catch (final DBException e)
                {
                    err.println("ycsb: " + e.getMessage());
                    return 2;
                }
            }
            ycsbArgs.add(0, phase.equals("load") ? "-load" : "-t");
            Client.main(ycsbArgs.toArray(new String[0]));
            return 0;
        }
        try
        {
            return runEmbedded(props, out, err);
        }
        catch (final IllegalArgumentException e)
        {
            err.println("ycsb: " + e.getMessage());
            return 2;
        }
    }

    /** Load, then run, on an embedded cluster; 0 if every operation and check was OK, else 1. */
    static int runEmbedded(final Properties props, final PrintStream out, final PrintStream err)
    {
        final int nodes = integer(props, EMBEDDED_NODES, 2);
        if (nodes < 1 || nodes > 64)
        {
            throw new IllegalArgumentException(EMBEDDED_NODES + " must be in 1..64, got " + nodes);
        }
        final String transport = props.getProperty(KvConfig.TRANSPORT, "tcp").trim().toLowerCase(Locale.ROOT);
        if (!transport.equals("tcp") && !transport.equals("local"))
        {
            throw new IllegalArgumentException("an embedded cluster runs on dmkv.transport=tcp or local, got '"
                + transport + "'");
        }
        final int r = integer(props, KvConfig.REPLICATION, Math.min(2, nodes));
        YcsbPhase.checkCoreWorkload(props);
        final long memory = props.containsKey(EMBEDDED_MEMORY) ? size(props.getProperty(EMBEDDED_MEMORY))
            : nodeMemory(props, nodes, r);
        err.printf(Locale.ROOT, "ycsb: no dmkv.memnodes or dmkv.coordinator given: embedded cluster of %d memory nodes"
            + " (%s, %s each) and a coordinator in this JVM, r = %d; running load, then run%n", nodes, transport.equals("tcp") ? "tcp on loopback"
            : "local, in-JVM", Sizes.format(memory), r);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, memory, transport))
        {
            props.setProperty(KvConfig.COORDINATOR, cluster.coordinatorConnectString());
            props.setProperty(KvConfig.TRANSPORT, transport);
            props.setProperty(KvConfig.REPLICATION, Integer.toString(r));
            try
            {
                // Held across both phases: one store, as one client process would have.
                DmkvClient.acquireStore(props);
            }
            catch (final DBException e)
            {
                err.println("ycsb: " + e.getMessage());
                return 1;
            }
            final List<String> failures = new ArrayList<>();
            try
            {
                for (final String phase : List.of("load", "run"))
                {
                    final Properties p = new Properties();
                    p.putAll(props);
                    p.setProperty(YcsbArgs.TRANSACTIONS, Boolean.toString(phase.equals("run")));
                    out.println("# YCSB " + phase + " phase (embedded dmkv cluster)");
                    out.flush();
                    YcsbPhase.run(p, out, err).failures().forEach(f -> failures.add(phase + ": " + f));
                    DmkvClient.takeFailureSummary().forEach(line -> err.println("ycsb: " + phase + " phase: " + line));
                }
            }
            finally
            {
                try
                {
                    DmkvClient.releaseStore();
                }
                catch (final DBException e)
                {
                    err.println("ycsb: " + e.getMessage());
                }
            }
            if (!failures.isEmpty())
            {
                err.println("ycsb: FAILED:");
                failures.forEach(f -> err.println("  " + f));
                return 1;
            }
            return 0;
        }
    }

    /**
     * Memory per node for the workload: its records (loaded, and inserted by the run phase) held r
     * times across the nodes, twice over because updates write new objects out of place and the
     * old ones come back only at the next reclaim, plus slack for the index and open blocks.
     */
    static long nodeMemory(final Properties props, final int nodes, final int r)
    {
        final long fields = integer(props, "fieldcount", 10);
        final long fieldLength = integer(props, "fieldlength", 100);
        final String prefix = props.getProperty("fieldnameprefix", "field");
        final long recordBytes = FieldRecordCodec.FIRST_FIELD_OFFSET
            + fields * (2L * FieldRecordCodec.LENGTH_BYTES + prefix.length() + Long.toString(fields).length() + fieldLength);
        // "user" and a 64-bit hash in decimal, or the zero padding if longer.
        final int keyBytes = Math.max(24, 4 + integer(props, "zeropadding", 1));
        final int objectBytes = SizeClasses.objectSize(SizeClasses.sizeClassFor(Math.min(keyBytes,
            KvObject.MAX_KEY_LENGTH), (int)Math.min(recordBytes, KvObject.MAX_VALUE_LENGTH)));
        final double inserts = integer(props, "operationcount", 0)
            * Double.parseDouble(props.getProperty("insertproportion", "0"));
        final long records = integer(props, "recordcount", 0) + (long)Math.ceil(inserts);
        final long objectsPerNode = (records * r + nodes - 1) / nodes;
        final long wanted = Math.max(MIN_NODE_MEMORY, 2 * objectsPerNode * objectBytes + SLACK_BYTES);
        return (wanted + MEMORY_STEP - 1) / MEMORY_STEP * MEMORY_STEP;
    }

    private static void checkEmbeddedKeys(final Properties props)
    {
        for (final String name : props.stringPropertyNames())
        {
            if (name.startsWith(DmkvClient.EMBEDDED_PREFIX) && !EMBEDDED_KEYS.contains(name))
            {
                throw new IllegalArgumentException("unknown property " + name + "; known: " + EMBEDDED_KEYS);
            }
        }
    }

    private static Path workloadsDir()
    {
        final String dir = System.getProperty(WORKLOADS_DIR);
        final Path p = dir != null ? Path.of(dir) : Path.of("kv-bench", "workloads");
        return Files.isDirectory(p) ? p : null;
    }

    private static int integer(final Properties props, final String name, final int dflt)
    {
        final String v = props.getProperty(name);
        try
        {
            return v == null ? dflt : Integer.parseInt(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
        }
    }

    private static long size(final String v)
    {
        try
        {
            return Sizes.parse(v.trim());
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException(EMBEDDED_MEMORY + ": " + e.getMessage());
        }
    }
}
