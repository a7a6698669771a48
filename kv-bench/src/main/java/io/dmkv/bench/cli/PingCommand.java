package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv ping}: checks memory nodes with every verb on their scratch area.
 */
@Command(name = "ping", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Checks memory nodes: connects, then does a WRITE, READ, CAS and FAA on each node's scratch "
        + "area (and an RPC) and prints the median round-trip latency of each, and the verbs and bytes it sent to"
        + " each node. Exits 1 if any node fails.")
public final class PingCommand implements Callable<Integer>
{
    @Option(names = "--memnodes", paramLabel = "HOST:PORT[,HOST:PORT...]", required = true, split = ",",
        converter = KvCli.EndpointConverter.class,
        description = "Memory nodes to check.")
    List<String> memnodes;

    @Option(names = "--transport", paramLabel = "NAME", description = "tcp, local (daemon with --shm-file on this host) or rdma (default: ${DEFAULT-VALUE}).")
    String transport = "tcp";

    @Option(names = "--count", paramLabel = "N", description = "Repetitions of each verb (default: ${DEFAULT-VALUE}).")
    int count = 20;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "Connect and per-verb timeout (default: 5s).")
    Duration timeout = Duration.ofSeconds(5);

    @CommandLine.Mixin
    SecurityOptions security;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        if (count < 1 || count > 1_000_000)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be in 1..1000000");
        }
        final PrintWriter out = spec.commandLine().getOut();
        final ClientOptions options;
        try
        {
            options = ClientOptions.builder().connectTimeout(timeout).requestTimeout(timeout)
                .secret(security.secret()).tls(security.tls()).build();
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        int failed = 0;
        try (VerbsTransport t = VerbsTransports.create(transport))
        {
            for (final String endpoint : memnodes)
            {
                try
                {
                    out.println(ping(t, endpoint.trim(), options));
                }
                catch (final RuntimeException e)
                {
                    failed++;
                    out.println(String.format(Locale.ROOT, "%-24s FAILED: %s", endpoint, e.getMessage()));
                }
                out.flush();
            }
        }
        out.println(failed == 0 ? "all " + memnodes.size() + " memory nodes OK" : failed + " of " + memnodes.size()
            + " memory nodes FAILED");
        return failed == 0 ? 0 : 1;
    }

    private String ping(final VerbsTransport t, final String endpoint, final ClientOptions options)
    {
        final long c0 = System.nanoTime();
        try (VerbsClient client = VerbsClient.connect(t, List.of(endpoint), options))
        {
            final long connectNs = System.nanoTime() - c0;
            final VerbsChannel ch = client.channel(0);
            final long[] rpc = new long[count];
            ByteBuffer scratch = null;
            for (int i = 0; i < count; i++)
            {
                final long s = System.nanoTime();
                scratch = client.rpc(0, MemoryNodeRpc.SCRATCH, ByteBuffer.allocate(0));
                rpc[i] = System.nanoTime() - s;
            }
            final int regionId = scratch.getInt();
            final long base = scratch.getLong();
            final int length = scratch.getInt();
            if (length < 64)
            {
                throw new IllegalStateException("scratch area of " + length + " bytes is too small");
            }
            final RemoteRegion region = ch.region(regionId);
            final long word = base;
            final long bytes = base + 16;
            final UnsafeBuffer src = new UnsafeBuffer(new byte[32]);
            final UnsafeBuffer dst = new UnsafeBuffer(new byte[32]);
            final long[] write = new long[count];
            final long[] read = new long[count];
            final long[] cas = new long[count];
            final long[] faa = new long[count];
            final VerbBatch b = new VerbBatch();
            for (int i = 0; i < count; i++)
            {
                src.putLong(0, System.nanoTime());
                src.putLong(8, i);
                b.reset().write(region, bytes, src, 0, 32);
                long s = System.nanoTime();
                client.execute(b);
                write[i] = System.nanoTime() - s;
                b.reset().read(region, bytes, dst, 0, 32);
                s = System.nanoTime();
                client.execute(b);
                read[i] = System.nanoTime() - s;
                if (dst.getLong(0) != src.getLong(0) || dst.getLong(8) != i)
                {
                    throw new IllegalStateException("READ did not return what WRITE wrote");
                }
                final long old = readWord(client, region, word, b, dst);
                final long next = old + 1;
                s = System.nanoTime();
                final int at = b.reset().cas(region, word, old, next);
                client.execute(b);
                cas[i] = System.nanoTime() - s;
                if (b.result(at) != old)
                {
                    throw new IllegalStateException("CAS returned " + b.result(at) + ", expected " + old
                        + " (is another ping running?)");
                }
                s = System.nanoTime();
                final int f = b.reset().faa(region, word + 8, 1);
                client.execute(b);
                faa[i] = System.nanoTime() - s;
                final long after = readWord(client, region, word + 8, b, dst);
                if (after <= b.result(f))
                {
                    throw new IllegalStateException("FAA did not add");
                }
            }
            final VerbCounters.Snapshot sent = ch.counters().snapshot();
            return String.format(Locale.ROOT, "%-24s %-28s OK  connect %.1f ms  WRITE %s  READ %s  CAS %s  FAA %s  RPC %s"
                + "  (sent to this node: %d READs, %d WRITEs, %d CAS, %d FAA, %d RPCs, %,d B out, %,d B in)",
                endpoint, ch.node().name(), connectNs / 1e6, median(write), median(read), median(cas), median(faa),
                median(rpc), sent.reads(), sent.writes(), sent.cas(), sent.faa(), sent.rpcs(), sent.bytesOut(),
                sent.bytesIn());
        }
    }

    private static long readWord(final VerbsClient client, final RemoteRegion region, final long offset,
        final VerbBatch b, final UnsafeBuffer dst)
    {
        b.reset().read(region, offset, dst, 16, 8);
        client.execute(b);
        return dst.getLong(16);
    }

    private static String median(final long[] ns)
    {
        final long[] sorted = ns.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%.0f us", sorted[sorted.length / 2] / 1e3);
    }
}
