package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.DiscreteSampler;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.simple.RandomSource;

import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStats;
import io.dmkv.KvStore;
import io.dmkv.bench.runner.Comparison;
import io.dmkv.bench.runner.ConsoleProgress;
import io.dmkv.bench.runner.ModeCompare;
import io.dmkv.bench.runner.NodeSpread;
import io.dmkv.bench.runner.PhaseCpu;
import io.dmkv.bench.runner.ProcessResult;
import io.dmkv.bench.runner.RunResult;
import io.dmkv.bench.runner.WorkloadException;
import io.dmkv.bench.runner.WorkloadRunner;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbCounters;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv demo}: the key-value store on an embedded cluster. Starts memory nodes in this JVM,
 * opens one {@link KvStore} shared by every thread, loads the keys (INSERT), runs a read/update
 * mix with zipfian popularity for a fixed time, prints throughput, latency percentiles and the
 * round trips, verbs and bytes of each operation, and finally reads every key back: each must
 * hold a whole value written for it, and one it may end on ({@link KeyLedger}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the key-value store on an embedded cluster of memory nodes: loads keys with a progress bar, "
        + "runs a read/update mix (zipfian popularity) for a fixed duration on several threads sharing one store, "
        + "and prints throughput, p50/p99/p999 latency and round trips, verbs and bytes per operation, SNAPSHOT "
        + "and index statistics. Then reads every key back and checks it (exit 1 if any key is wrong).",
        "Example: kv demo --duration 30s --threads 8 --transport local"})
public final class DemoCommand implements Callable<Integer>
{
    /** Most keys the demo loads: the index at its largest (256 default subtables) holds about 22 M. */
    static final int MAX_KEYS = 10_000_000;
    /** Keys a subtable of the default shape holds comfortably (under half of its 86,016 slots). */
    private static final int KEYS_PER_SUBTABLE = 40_000;
    /** Index root, directory and client log heads, with room to spare. */
    private static final long INDEX_FIXED_BYTES = 1L << 20;
    /** Memory per node beyond the objects: blocks being filled, the index, region headers. */
    private static final long SLACK_BYTES = 64L << 20;
    private static final long MIN_REGION_BYTES = 64L << 20;
    private static final long MAX_REGION_BYTES = 1L << 30;
    /** Failures remembered for the report; the rest are only counted. */
    private static final int MAX_REPORTED = 5;

    @Option(names = "--duration", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Length of the read/update phase, e.g. 10s, 1m (default: 10s).")
    Duration duration = Duration.ofSeconds(10);

    @Option(names = "--threads", paramLabel = "N",
        description = "Client threads sharing the store in the read/update run (default: ${DEFAULT-VALUE}).")
    int threads = 4;

    @Option(names = "--load-threads", paramLabel = "N",
        description = "Threads that load the keys and check them at the end (default: ${DEFAULT-VALUE}).")
    int loadThreads = 8;

    @Option(names = "--transport", paramLabel = "NAME", description = "local or tcp (default: ${DEFAULT-VALUE}).")
    String transport = "tcp";

    @Option(names = "--nodes", paramLabel = "N", description = "Memory nodes (default: ${DEFAULT-VALUE}).")
    int nodes = 2;

    @Option(names = "--replication", paramLabel = "R",
        description = "Replicas of every object and index slot, 1..5 and at most --nodes (default: 2, or 1 with one node).")
    Integer replication;

    @Option(names = {"--keys", "--objects"}, paramLabel = "N", description = "Keys to load (default: ${DEFAULT-VALUE}).")
    int keys = 100_000;

    @Option(names = "--value-size", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Bytes per value, 16..60K (default: 1K).")
    long valueSize = 1024;

    @Option(names = "--read-ratio", paramLabel = "R", description = "Share of reads, 0..1 (default: ${DEFAULT-VALUE}).")
    double readRatio = 0.5;

    @Option(names = "--zipf", paramLabel = "THETA", description = "Zipfian exponent; 0 for uniform (default: ${DEFAULT-VALUE}).")
    double zipf = 0.99;

    @Option(names = "--mode", paramLabel = "MODE[,MODE]", split = ",",
        description = "fusee (one-sided, SNAPSHOT), flexkv (this compute node proxies every partition:"
            + " local atomics, write-through; docs/flexkv.md), or fusee,flexkv: both, one after the other on fresh"
            + " clusters with the same keys and mix, then one table side by side (default: fusee).")
    List<String> modes = new ArrayList<>(List.of("fusee"));

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        validate();
        try
        {
            ModeCompare.checkModes(modes);
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        final PrintWriter out = spec.commandLine().getOut();
        final List<Comparison.Run> runs = new ArrayList<>();
        boolean ok = true;
        for (final String mode : modes)
        {
            if (runs.size() > 0)
            {
                out.println();
            }
            ok &= runMode(mode, out, runs);
        }
        if (modes.size() > 1)
        {
            out.println();
            out.printf(Locale.ROOT, "side by side (the run phase; same keys, values, mix, threads and duration; "
                + "%s/%s is the ratio):%n", modes.get(1), modes.get(0));
            out.print(new Comparison("demo", modes, runs).table());
            out.println("(CN CPU: this JVM's CPU time over the run, its embedded memory nodes and coordinator included)");
            out.flush();
        }
        return ok ? 0 : 1;
    }

    /** One mode on a fresh cluster: the demo as it always ran; adds the run phase to {@code runs}; true if all keys checked out. */
    private boolean runMode(final String mode, final PrintWriter out, final List<Comparison.Run> runs)
    {
        final int r = replication != null ? replication : Math.min(2, nodes);
        final int length = (int)valueSize;
        final long indexArea = indexAreaBytes(keys);
        final long regionBytes = Math.min(MAX_REGION_BYTES, Math.max(MIN_REGION_BYTES,
            Long.highestOneBit(indexArea * 4 - 1) << 1));
        final long objectBytes = SizeClasses.objectSize(SizeClasses.sizeClassFor(DemoValue.KEY_LENGTH, length));
        // Every key's object on r of the nodes, and half as much again: updates write new objects
        // out of place and the old ones return to the allocator only at the next reclaim.
        final long objectsPerNode = ((long)keys * r + nodes - 1) / nodes;
        final long wanted = objectsPerNode * objectBytes * 3 / 2 + indexArea + SLACK_BYTES;
        final long memory = (wanted + regionBytes - 1) / regionBytes * regionBytes;

        out.printf(Locale.ROOT, "dmkv demo (%s mode): %d memory nodes (%s each, %s transport) and a coordinator in this"
            + " JVM, r = %d, %,d keys with %s values, %d threads, %.0f%% reads, zipf %.2f%n", mode, nodes,
            Sizes.format(memory), transport, r, keys, Sizes.format(valueSize), threads, readRatio * 100, zipf);
        out.flush();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, memory, regionBytes, transport);
            KvStore kv = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport(cluster.transport()).replication(r).indexAreaBytes(indexArea).mode(mode)
                .proxyEnabled(mode.equals("flexkv")).build()))
        {
            final KeyLedger ledger = new KeyLedger(keys, threads);
            final RunResult load = WorkloadRunner.run("load", List.of("INSERT"), loadThreads, keys, null,
                index -> loader(kv, index, length), ConsoleProgress.ofOps("load", keys));
            final VerbCounters.Snapshot before = kv.counters();
            final PhaseCpu cpu = PhaseCpu.now();
            final RunResult run = WorkloadRunner.run("run", List.of("READ", "UPDATE"), threads, -1, duration,
                index -> worker(kv, ledger, length), ConsoleProgress.ofTime("run", duration));
            runs.add(new Comparison.Run(mode, 1, ProcessResult.merge("run", List.of(ProcessResult.of(0, run, 0,
                new long[2], kv.counters().minus(before), PhaseCpu.now().since(cpu)))), -1, List.of()));
            final AtomicLong wrong = new AtomicLong();
            final Queue<String> reported = new ConcurrentLinkedQueue<>();
            WorkloadRunner.run("check", List.of("GET"), loadThreads, keys, null,
                index -> checker(kv, ledger, length, index, wrong, reported), ConsoleProgress.ofOps("check", keys));
            out.println();
            out.print(load.table());
            out.println();
            out.print(run.table());
            out.println();
            out.println(statsLine(kv));
            out.println(countersLine(kv.counters()));
            final boolean ok = wrong.get() == 0 && load.totalErrors() == 0;
            if (ok)
            {
                out.printf(Locale.ROOT, "check: %,d keys read back, each holds a whole value of its own that it may "
                    + "end on: OK%n", keys);
            }
            else
            {
                out.printf(Locale.ROOT, "check: %,d of %,d keys FAILED%s%s%n", wrong.get(), keys,
                    load.totalErrors() > 0 ? " (" + load.totalErrors() + " inserts failed)" : "",
                    reported.isEmpty() ? "" : "; first: " + String.join("; ", reported));
            }
            out.flush();
            return ok;
        }
    }

    private void validate()
    {
        final CommandLine cl = spec.commandLine();
        if (threads < 1 || threads > 1024)
        {
            throw new CommandLine.ParameterException(cl, "--threads must be in 1..1024");
        }
        if (loadThreads < 1 || loadThreads > 1024)
        {
            throw new CommandLine.ParameterException(cl, "--load-threads must be in 1..1024");
        }
        if (nodes < 1 || nodes > 16)
        {
            throw new CommandLine.ParameterException(cl, "--nodes must be in 1..16");
        }
        if (replication != null && (replication < 1 || replication > Math.min(5, nodes)))
        {
            throw new CommandLine.ParameterException(cl, "--replication must be in 1.." + Math.min(5, nodes)
                + " with " + nodes + " memory node(s)");
        }
        if (keys < 1 || keys > MAX_KEYS)
        {
            throw new CommandLine.ParameterException(cl, "--keys must be in 1.." + MAX_KEYS);
        }
        final long maxValue = Math.min(60 * 1024, KvObject.MAX_VALUE_LENGTH);
        if (valueSize < DemoValue.HEADER_LENGTH || valueSize > maxValue)
        {
            throw new CommandLine.ParameterException(cl, "--value-size must be in " + DemoValue.HEADER_LENGTH + "..60K");
        }
        if (readRatio < 0 || readRatio > 1)
        {
            throw new CommandLine.ParameterException(cl, "--read-ratio must be in 0..1");
        }
        if (zipf < 0 || zipf > 5)
        {
            throw new CommandLine.ParameterException(cl, "--zipf must be in 0..5");
        }
        if (duration.isNegative() || duration.isZero())
        {
            throw new CommandLine.ParameterException(cl, "--duration must be positive");
        }
        if (!"local".equals(transport) && !"tcp".equals(transport))
        {
            throw new CommandLine.ParameterException(cl, "--transport must be local or tcp for the embedded cluster");
        }
    }

    /** Room for twice the subtables the keys need at under half load, and the index root. */
    static long indexAreaBytes(final int keys)
    {
        final long needed = ((long)keys + KEYS_PER_SUBTABLE - 1) / KEYS_PER_SUBTABLE;
        final long subtables = Math.max(4, Long.highestOneBit(needed - 1) << 1);
        final long subtableBytes = (long)Subtable.BUCKET_GROUP_LENGTH * Subtable.DEFAULT_BUCKET_GROUPS;
        return INDEX_FIXED_BYTES + Math.min(256, 2 * subtables) * subtableBytes;
    }

    /** The first key of loading thread {@code index}: contiguous shares, as {@link WorkloadRunner} splits the operations. */
    private long firstKeyOf(final int index)
    {
        return (long)index * (keys / loadThreads) + Math.min(index, keys % loadThreads);
    }

    private WorkloadRunner.Worker loader(final KvStore kv, final int index, final int length)
    {
        final long first = firstKeyOf(index);
        return seq ->
        {
            final long key = first + seq;
            if (!kv.insert(DemoValue.key(key), DemoValue.encode(key, 0, length)))
            {
                throw new IllegalStateException("key " + key + " was already present in a new cluster");
            }
            return 0;
        };
    }

    private WorkloadRunner.Worker worker(final KvStore kv, final KeyLedger ledger, final int length)
    {
        final UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(ThreadLocalRandom.current().nextLong());
        final DiscreteSampler zipfian = zipf > 0 ? RejectionInversionZipfSampler.of(rng, keys, zipf) : null;
        return seq ->
        {
            final int key = zipfian == null ? rng.nextInt(keys) : scramble(zipfian.sample() - 1);
            if (rng.nextDouble() < readRatio)
            {
                final byte[] value;
                try
                {
                    value = kv.get(DemoValue.key(key));
                }
                catch (final KvException e)
                {
                    throw new WorkloadException(0, e);
                }
                DemoValue.check(key, value, length);
                return 0;
            }
            final long ticket = ledger.begin(key);
            final boolean updated;
            try
            {
                updated = kv.update(DemoValue.key(key), DemoValue.encode(key, ticket, length));
            }
            catch (final KvException e)
            {
                ledger.failed(key, ticket);
                throw new WorkloadException(1, e);
            }
            if (!updated)
            {
                ledger.failed(key, ticket);
                throw new IllegalStateException("update of key " + key + " found no key");
            }
            ledger.acknowledged(key, ticket);
            return 1;
        };
    }

    private WorkloadRunner.Worker checker(final KvStore kv, final KeyLedger ledger, final int length, final int index,
        final AtomicLong wrong, final Queue<String> reported)
    {
        final long first = firstKeyOf(index);
        return seq ->
        {
            final int key = (int)(first + seq);
            String problem;
            try
            {
                problem = ledger.verify(key, DemoValue.check(key, kv.get(DemoValue.key(key)), length));
            }
            catch (final IllegalStateException | KvException e)
            {
                problem = e.getMessage();
            }
            if (problem != null && wrong.incrementAndGet() <= MAX_REPORTED)
            {
                reported.add(problem);
            }
            return 0;
        };
    }

    /** Spreads the popular ranks over the key space, as YCSB's scrambled zipfian does. */
    private int scramble(final long rank)
    {
        long h = rank * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        return (int)Math.floorMod(h, (long)keys);
    }

    private static String statsLine(final KvStore kv)
    {
        final KvStats stats = kv.stats();
        final KvStats.Snapshot s = stats.snapshot();
        final KvStats.Allocator a = stats.allocator();
        return String.format(Locale.ROOT, "SNAPSHOT: %,d won by rule 1, %,d by rule 2, %,d by rule 3, %,d by the primary "
            + "alone (r = 1), %,d lost, %,d helped; index splits: %,d; allocator: %,d blocks owned, %,d objects "
            + "reclaimed; %s", s.rule1(), s.rule2(), s.rule3(), s.primaryOnly(), s.losses(), s.helps(),
            stats.index().splits(), a.blocksOwned(), a.objectsReclaimed(),
            NodeSpread.text(stats.nodes()));
    }

    private static String countersLine(final VerbCounters.Snapshot c)
    {
        return String.format(Locale.ROOT, "verbs: %,d round trips, %,d READ, %,d WRITE, %,d CAS, %,d FAA, %,d RPC; "
            + "%s out, %s in", c.roundTrips(), c.reads(), c.writes(), c.cas(), c.faa(), c.rpcs(),
            Sizes.format(c.bytesOut()), Sizes.format(c.bytesIn()));
    }
}
