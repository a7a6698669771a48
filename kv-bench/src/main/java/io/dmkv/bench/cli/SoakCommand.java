package io.dmkv.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.sun.management.GcInfo;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.memnode.EmbeddedCluster;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv soak}: a long mixed workload on an embedded cluster — gets, puts with values growing
 * and shrinking, deletes, inserts, updates — that prints, per interval, the throughput, this
 * client's heap and the memory-node bytes it holds, then reads every key back. Memory that is
 * not given back (by the client's heap or its blocks on the memory nodes) shows as a rising
 * column; the summary compares the end with the value at 30% of the run.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs a mixed workload (35%% get, 30%% put, 15%% delete, 10%% insert, 10%% update; every write halves or"
        + " doubles the key's value size) on an embedded cluster for --minutes, printing per interval the throughput,"
        + " this client's heap, the memory-node bytes its blocks hold and the live object bytes; then reads every key"
        + " back. Exits 1 if an operation failed or a value was not a whole value of its key.",
        "Example: kv soak --minutes 10 --interval 30s"})
public final class SoakCommand implements Callable<Integer>
{
    /** The run's share after which memory should be flat: the summary compares the end with it. */
    private static final double SETTLED_SHARE = 0.3;

    @Option(names = "--minutes", paramLabel = "M", description = "Length of the run, e.g. 10 or 0.5 (default: ${DEFAULT-VALUE}).")
    double minutes = 10;

    @Option(names = "--interval", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "How often a line is printed (default: 30s).")
    Duration interval = Duration.ofSeconds(30);

    @Option(names = "--keys", paramLabel = "N", description = "Keys the mix works on (default: ${DEFAULT-VALUE}).")
    int keys = 20_000;

    @Option(names = "--max-value-size", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Largest value; values halve and double between 16 bytes and this (default: 8K).")
    long maxValueSize = 8 * 1024;

    @Option(names = "--threads", paramLabel = "N", description = "Threads sharing the store (default: ${DEFAULT-VALUE}).")
    int threads = 4;

    @Option(names = "--transport", paramLabel = "NAME", description = "local or tcp (default: ${DEFAULT-VALUE}).")
    String transport = "tcp";

    @Option(names = "--nodes", paramLabel = "N", description = "Memory nodes (default: ${DEFAULT-VALUE}).")
    int nodes = 2;

    @Option(names = "--replication", paramLabel = "R", description = "Replicas, 1..--nodes (default: 2, or 1 with one node).")
    Integer replication;

    @Option(names = "--block-size", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Blocks the client takes from the memory nodes: small blocks make the bytes it holds a fine"
            + " measure (default: 1M).")
    long blockSize = 1 << 20;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the interval figures to this CSV file.")
    Path csv;

    @Option(names = "--plot", paramLabel = "FILE", description = "Also draw the memory curves to this PNG file.")
    Path plot;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException, IOException
    {
        validate();
        final int r = replication != null ? replication : Math.min(2, nodes);
        final long indexArea = DemoCommand.indexAreaBytes(keys);
        final long regionBytes = 64L << 20;
        // Every key on r nodes at three times the mean object size (sizes drift, replaced objects
        // wait for the next reclaim), and a block per size class and thread being filled.
        final long wanted = 3 * ((long)keys * r + nodes - 1) / nodes * SoakWorkload.meanObjectBytes((int)maxValueSize)
            + indexArea + (long)SizeClasses.COUNT * threads * blockSize + (64L << 20);
        final long memory = (wanted + regionBytes - 1) / regionBytes * regionBytes;
        final long runNs = (long)(minutes * 60e9);
        final PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "dmkv soak: %d memory nodes (%s each, %s) in this JVM, r = %d, %,d keys, values 16 B..%s,"
            + " %d threads, %s blocks, %.1f min%n", nodes, Sizes.format(memory), transport, r, keys,
            Sizes.format(maxValueSize), threads, Sizes.format(blockSize), minutes);
        out.printf(Locale.ROOT, "%8s %9s %10s %10s %10s %10s %10s %12s %10s %7s%n", "time", "ops/s", "gets", "puts",
            "deletes", "heap MiB", "after GC", "MN held MiB", "live MiB", "errors");
        out.flush();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, memory, regionBytes, transport);
            KvStore kv = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport(cluster.transport()).replication(r).indexAreaBytes(indexArea).blockSize((int)blockSize).build()))
        {
            final SoakWorkload work = new SoakWorkload(kv, keys, (int)maxValueSize, r);
            final List<SoakSample> samples = run(work, kv, runNs, out);
            final long wrongAtEnd = work.checkAll();
            final long errors = work.errors().values().stream().mapToLong(Long::longValue).sum();
            summary(out, work, samples, wrongAtEnd, errors);
            if (csv != null)
            {
                SoakSample.writeCsv(samples, csv);
            }
            if (plot != null)
            {
                SoakSample.plot(samples, String.format(Locale.ROOT, "dmkv soak: %,d keys, %d threads, %s, r = %d",
                    keys, threads, transport, r), plot);
            }
            return errors == 0 && work.wrong() == 0 ? 0 : 1;
        }
    }

    /** Runs the mix for {@code runNs}, printing a line per interval; returns the intervals' figures. */
    private List<SoakSample> run(final SoakWorkload work, final KvStore kv, final long runNs, final PrintWriter out)
        throws InterruptedException
    {
        final AtomicBoolean stop = new AtomicBoolean();
        final ExecutorService pool = Executors.newFixedThreadPool(threads, runnable ->
        {
            final Thread t = new Thread(runnable, "dmkv-soak");
            t.setDaemon(true);
            return t;
        });
        final List<SoakSample> samples = new ArrayList<>();
        try
        {
            for (int i = 0; i < threads; i++)
            {
                pool.execute(() ->
                {
                    while (!stop.get())
                    {
                        work.step();
                    }
                });
            }
            final long start = System.nanoTime();
            final long step = interval.toNanos();
            long lastOps = 0;
            long lastAt = start;
            for (long next = start + step; ; next += step)
            {
                final long end = Math.min(next, start + runNs);
                TimeUnit.NANOSECONDS.sleep(Math.max(0, end - System.nanoTime()));
                final long now = System.nanoTime();
                final long ops = work.done();
                // Every block the client owns is on r memory nodes.
                final SoakSample sample = new SoakSample((now - start) / 1e9, (ops - lastOps) * 1e9
                    / Math.max(1, now - lastAt), heapAfterGc(),
                    (long)kv.stats().allocator().blocksOwned() * blockSize * kv.config().replication(), work.liveBytes());
                samples.add(sample);
                out.printf(Locale.ROOT, "%8s %,9.0f %,10d %,10d %,10d %,10.1f %,10.1f %,12.1f %,10.1f %,7d%n",
                    clock(now - start), sample.opsPerSecond(), work.done(SoakWorkload.Op.GET),
                    work.done(SoakWorkload.Op.PUT), work.done(SoakWorkload.Op.DELETE), mib(heapUsed()),
                    mib(sample.heapAfterGc()), mib(sample.heldBytes()), mib(sample.liveBytes()),
                    work.errors().values().stream().mapToLong(Long::longValue).sum());
                out.flush();
                lastOps = ops;
                lastAt = now;
                if (end >= start + runNs)
                {
                    return samples;
                }
            }
        }
        finally
        {
            stop.set(true);
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
    }

    private static void summary(final PrintWriter out, final SoakWorkload work, final List<SoakSample> samples,
        final long wrongAtEnd, final long errors)
    {
        final long settled = samples.get(Math.min(samples.size() - 1, (int)(samples.size() * SETTLED_SHARE)))
            .heldBytes();
        final long last = samples.get(samples.size() - 1).heldBytes();
        out.printf(Locale.ROOT, "memory-node bytes held: %.1f MiB at 30%% of the run, %.1f MiB at the end (%+.1f%%)%n",
            mib(settled), mib(last), settled == 0 ? 0.0 : (last - settled) * 100.0 / settled);
        out.printf(Locale.ROOT, "operations: %,d (%,d gets, %,d puts, %,d deletes, %,d inserts, %,d updates); errors: %s%n",
            work.done(), work.done(SoakWorkload.Op.GET), work.done(SoakWorkload.Op.PUT),
            work.done(SoakWorkload.Op.DELETE), work.done(SoakWorkload.Op.INSERT), work.done(SoakWorkload.Op.UPDATE),
            errors == 0 ? "none" : work.errors());
        work.errorExamples().forEach((kind, message) -> out.printf(Locale.ROOT, "  first %s: %s%n", kind, message));
        if (work.wrong() == 0)
        {
            out.println("check: every value read during the run and every key read back at the end was a whole value"
                + " of its own key: OK");
        }
        else
        {
            out.printf(Locale.ROOT, "check: %,d wrong values (%,d in the final read-back) FAILED; first: %s%n",
                work.wrong(), wrongAtEnd, String.join("; ", work.firstWrong()));
        }
        out.flush();
    }

    private void validate()
    {
        final CommandLine cl = spec.commandLine();
        final String problem = !(minutes > 0 && minutes <= 7 * 24 * 60) ? "--minutes must be in (0, 10080]"
            : interval.isNegative() || interval.isZero() ? "--interval must be positive"
            : keys < 1 || keys > DemoCommand.MAX_KEYS ? "--keys must be in 1.." + DemoCommand.MAX_KEYS
            : maxValueSize < DemoValue.HEADER_LENGTH || maxValueSize > 60 * 1024 ? "--max-value-size must be in 16..60K"
            : threads < 1 || threads > 1024 ? "--threads must be in 1..1024"
            : nodes < 1 || nodes > 16 ? "--nodes must be in 1..16"
            : replication != null && (replication < 1 || replication > Math.min(5, nodes))
                ? "--replication must be in 1.." + Math.min(5, nodes) + " with " + nodes + " memory node(s)"
            : !"local".equals(transport) && !"tcp".equals(transport) ? "--transport must be local or tcp"
            : blockSize < 4096 || blockSize > 64 << 20 || Long.bitCount(blockSize) != 1
                ? "--block-size must be a power of two in 4K..64M"
            : null;
        if (problem != null)
        {
            throw new CommandLine.ParameterException(cl, problem);
        }
    }

    private static long heapUsed()
    {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap in use right after the latest collection (young or old): what survived it, not garbage. */
    private static long heapAfterGc()
    {
        GcInfo latest = null;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
        {
            final GcInfo info = gc instanceof com.sun.management.GarbageCollectorMXBean g ? g.getLastGcInfo() : null;
            if (info != null && (latest == null || info.getEndTime() > latest.getEndTime()))
            {
                latest = info;
            }
        }
        if (latest == null)
        {
            return 0;
        }
        long sum = 0;
        for (final MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans())
        {
            final MemoryUsage u = pool.getType() == MemoryType.HEAP ? latest.getMemoryUsageAfterGc().get(pool.getName())
                : null;
            sum += u == null ? 0 : u.getUsed();
        }
        return sum;
    }

    private static double mib(final long bytes)
    {
        return bytes / (double)(1 << 20);
    }

    private static String clock(final long nanos)
    {
        final long s = TimeUnit.NANOSECONDS.toSeconds(nanos + 500_000_000L);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
