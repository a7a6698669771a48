package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.DiscreteSampler;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.simple.RandomSource;

import io.dmkv.bench.runner.ConsoleProgress;
import io.dmkv.bench.runner.RunResult;
import io.dmkv.bench.runner.WorkloadRunner;
import io.dmkv.core.config.Sizes;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv demo}: an embedded cluster running a workload, with progress and a result table.
 * Until the key-value layer lands this drives the verbs layer directly: fixed-size objects
 * spread over the memory nodes, read (one READ) or updated (WRITE of the object plus FAA of
 * its version word, one round trip) with zipfian popularity.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Starts an embedded cluster of memory nodes, loads objects with a progress bar, runs a "
        + "read/update mix for a fixed duration on several threads and prints throughput, latency "
        + "percentiles and round trips, verbs and bytes per operation.")
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--duration", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Length of the run phase, e.g. 10s, 1m (default: 10s).")
    Duration duration = Duration.ofSeconds(10);

    @Option(names = "--threads", paramLabel = "N", description = "Client threads (default: ${DEFAULT-VALUE}).")
    int threads = 4;

    @Option(names = "--transport", paramLabel = "NAME", description = "local or tcp (default: ${DEFAULT-VALUE}).")
    String transport = "tcp";

    @Option(names = "--nodes", paramLabel = "N", description = "Memory nodes (default: ${DEFAULT-VALUE}).")
    int nodes = 2;

    @Option(names = "--objects", paramLabel = "N", description = "Objects to load (default: ${DEFAULT-VALUE}).")
    int objects = 100_000;

    @Option(names = "--value-size", paramLabel = "SIZE", converter = KvCli.SizeConverter.class,
        description = "Bytes per object (default: 1K).")
    long valueSize = 1024;

    @Option(names = "--read-ratio", paramLabel = "R", description = "Share of reads, 0..1 (default: ${DEFAULT-VALUE}).")
    double readRatio = 0.5;

    @Option(names = "--zipf", paramLabel = "THETA", description = "Zipfian exponent; 0 for uniform (default: ${DEFAULT-VALUE}).")
    double zipf = 0.99;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Objects start after the first page of each region (region header, scratch). */
    private static final long DATA_START = 4096;

    private long stride;
    private long perRegion;
    private final java.util.Map<Integer, RemoteRegion[]> regions = new java.util.HashMap<>();

    @Override
    public Integer call()
    {
        validate();
        final PrintWriter out = spec.commandLine().getOut();
        stride = (valueSize + 63) & ~63L;
        final long perNode = (objects + nodes - 1) / nodes;
        final long regionBytes = 64L << 20;
        perRegion = (regionBytes - DATA_START) / (stride + 8);
        final long regionsPerNode = (perNode + perRegion - 1) / perRegion;
        final long memory = regionsPerNode * regionBytes;
        out.printf(Locale.ROOT, "dmkv demo: %d memory nodes (%s each, %s transport), %,d objects of %s, %d threads, "
            + "%.0f%% reads, zipf %.2f%n", nodes, Sizes.format(memory), transport, objects, Sizes.format(valueSize),
            threads, readRatio * 100, zipf);
        out.flush();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, memory, regionBytes, transport);
            VerbsTransport t = cluster.newTransport();
            VerbsClient client = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            for (int n = 0; n < nodes; n++)
            {
                regions.put(n, client.channel(n).regions().toArray(new RemoteRegion[0]));
            }
            final RunResult load = WorkloadRunner.run("load", List.of("INSERT"), threads, objects, null,
                index -> loader(client, index), ConsoleProgress.ofOps("load", objects));
            final RunResult run = WorkloadRunner.run("run", List.of("READ", "UPDATE"), threads, -1, duration,
                index -> worker(client, index), ConsoleProgress.ofTime("run", duration));
            out.println();
            out.print(load.table());
            out.println();
            out.print(run.table());
            final long versions = sumVersions(client);
            final long updates = run.ops().get(1).ops();
            out.printf(Locale.ROOT, "%ncheck: version words add up to %,d, updates acknowledged %,d: %s%n", versions,
                updates, versions == updates ? "OK" : "MISMATCH");
            out.flush();
            return versions == updates ? 0 : 1;
        }
    }

    private void validate()
    {
        final CommandLine cl = spec.commandLine();
        if (threads < 1 || threads > 1024)
        {
            throw new CommandLine.ParameterException(cl, "--threads must be in 1..1024");
        }
        if (nodes < 1 || nodes > 16)
        {
            throw new CommandLine.ParameterException(cl, "--nodes must be in 1..16");
        }
        if (objects < 1)
        {
            throw new CommandLine.ParameterException(cl, "--objects must be positive");
        }
        if (valueSize < 8 || valueSize > (1 << 20))
        {
            throw new CommandLine.ParameterException(cl, "--value-size must be in 8..1M");
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

    private RemoteRegion regionOf(final long object)
    {
        final long local = object / nodes;
        return regions.get((int)(object % nodes))[(int)(local / perRegion)];
    }

    private long dataOffset(final long object)
    {
        return DATA_START + (object / nodes % perRegion) * stride;
    }

    private long versionOffset(final long object)
    {
        return DATA_START + perRegion * stride + (object / nodes % perRegion) * 8;
    }

    private WorkloadRunner.Worker loader(final VerbsClient client, final int index)
    {
        final UnsafeBuffer value = new UnsafeBuffer(new byte[(int)valueSize]);
        final VerbBatch b = new VerbBatch();
        final int share = objects / threads + (index < objects % threads ? 1 : 0);
        final long first = (long)index * (objects / threads) + Math.min(index, objects % threads);
        return seq ->
        {
            final long object = first + seq;
            if (seq >= share)
            {
                return 0;
            }
            value.putLong(0, object);
            b.reset().write(regionOf(object), dataOffset(object), value, 0, (int)valueSize);
            client.execute(b);
            return 0;
        };
    }

    private WorkloadRunner.Worker worker(final VerbsClient client, final int index)
    {
        final UnsafeBuffer value = new UnsafeBuffer(new byte[(int)valueSize]);
        final VerbBatch b = new VerbBatch();
        final UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(ThreadLocalRandom.current().nextLong());
        final DiscreteSampler zipfian = zipf > 0
            ? RejectionInversionZipfSampler.of(rng, objects, zipf) : null;
        return seq ->
        {
            final long object = zipfian == null ? rng.nextInt(objects) : scramble(zipfian.sample() - 1);
            final RemoteRegion r = regionOf(object);
            if (rng.nextDouble() < readRatio)
            {
                b.reset().read(r, dataOffset(object), value, 0, (int)valueSize);
                client.execute(b);
                if (value.getLong(0) != object)
                {
                    throw new IllegalStateException("object " + object + " holds " + value.getLong(0));
                }
                return 0;
            }
            value.putLong(0, object);
            value.putLong(8, seq);
            b.reset().write(r, dataOffset(object), value, 0, (int)valueSize);
            b.faa(r, versionOffset(object), 1);
            client.execute(b);
            return 1;
        };
    }

    /** Spreads the popular ranks over the key space, as YCSB's scrambled zipfian does. */
    private long scramble(final long rank)
    {
        long h = rank * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        return Math.floorMod(h, objects);
    }

    private long sumVersions(final VerbsClient client)
    {
        long sum = 0;
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        for (long o = 0; o < objects; o++)
        {
            b.reset().read(regionOf(o), versionOffset(o), word, 0, 8);
            client.execute(b);
            sum += word.getLong(0);
        }
        return sum;
    }
}
