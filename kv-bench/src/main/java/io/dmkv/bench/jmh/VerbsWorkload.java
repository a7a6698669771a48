// Over 500 lines: the one fixture every verbs benchmark shares (cluster per transport and
// security setting, lanes, patterns and their checks); split per benchmark it would be copied.
package io.dmkv.bench.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.SelfSignedTls;
import io.dmkv.rdma.security.TlsConfig;

/**
 * What the verbs benchmarks run against: an embedded cluster on one transport, one client, and
 * {@link Lane}s — one reusable {@link VerbBatch} each, with its own area of region 0 on every
 * node and its own local buffer — so that a measured call only refills a batch, posts it and
 * waits, and allocates nothing itself.
 *
 * <p>Verb {@code i} of a lane's batch goes to node {@code i % nodes}, at the lane's area plus
 * {@code i} slots of {@code bytes}. READ areas hold {@link #pattern(long)}; every other area
 * starts zeroed, and the WRITE source holds {@link #sourceByte(int)}. A CAS always expects the
 * value it last saw and adds one, so on the {@code verbs} path every CAS succeeds and writes.
 * On the {@code echo} path the same batch is built and posted with {@link VerbBatch#echo(boolean)}:
 * the frame makes the round trip but no verb runs.
 */
final class VerbsWorkload implements AutoCloseable
{
    static final String VERBS = "verbs";
    static final String ECHO = "echo";
    /** {@code security} values: plain, the cluster secret's hello, TLS, both (docs/security.md). */
    static final String NONE = "none";
    static final String SECRET = "secret";
    static final String TLS = "tls";
    static final String SECRET_TLS = "secret+tls";
    /**
     * The benchmark areas start past region 0's header page (region header, cluster descriptor,
     * scratch). The benchmarks never format a region for a cluster, so the rest is free.
     */
    static final long AREA_BASE = RegionLayout.HEADER_LENGTH;
    static final int MAX_BATCH = 4096;
    static final int MAX_BYTES = 1 << 20;
    static final int MAX_LANES = 1024;

    private static final int SPIN_BEFORE_PARK = 200;
    private static final long PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long AWAIT_LIMIT_NS = TimeUnit.SECONDS.toNanos(30);
    private static final long MIN_MEMORY = 64 << 10;

    private final EmbeddedCluster cluster;
    /** Throwaway TLS files, deleted on close (null without TLS). */
    private Path tlsDir;
    private final VerbsTransport transport;
    private final VerbsClient client;
    private final RemoteRegion[] regions;
    private final VerbOp op;
    private final int bytes;
    private final int batchSize;
    private final boolean echo;
    private final Lane[] lanes;
    private long setupVerbs;

    private VerbsWorkload(final EmbeddedCluster cluster, final VerbsTransport transport, final VerbsClient client,
        final VerbOp op, final int bytes, final int batchSize, final boolean echo, final int laneCount)
    {
        this.cluster = cluster;
        this.transport = transport;
        this.client = client;
        this.op = op;
        this.bytes = bytes;
        this.batchSize = batchSize;
        this.echo = echo;
        this.regions = new RemoteRegion[client.nodeCount()];
        for (int n = 0; n < regions.length; n++)
        {
            regions[n] = client.channel(n).region(MemoryNodeRpc.SCRATCH_REGION);
        }
        this.lanes = new Lane[laneCount];
        for (int k = 0; k < laneCount; k++)
        {
            lanes[k] = new Lane(AREA_BASE + (long)k * areaBytes(batchSize, bytes), batchSize, bytes);
        }
    }

    /**
     * Starts a cluster of {@code nodes} memory nodes on {@code transport} ("local" or "tcp"),
     * connects a client and prepares {@code laneCount} lanes of {@code batch} verbs of kind
     * {@code op} ({@code bytes} each for READ and WRITE; {@code bytes} also spaces the verbs).
     *
     * @param work     {@value #VERBS} to run the verbs, {@value #ECHO} for the raw echo baseline.
     * @param security {@value #NONE}, {@value #SECRET} (nodes and client hold a cluster secret),
     *                 {@value #TLS} (tcp with TLS, mutual) or {@value #SECRET_TLS}; all but the
     *                 first need tcp.
     */
    static VerbsWorkload start(final String transport, final int nodes, final VerbOp op, final int bytes,
        final int batch, final String work, final int laneCount, final String security)
    {
        if (!List.of(NONE, SECRET, TLS, SECRET_TLS).contains(security) || !NONE.equals(security)
            && !"tcp".equals(transport))
        {
            throw new IllegalArgumentException("security must be " + NONE + ", or on tcp " + SECRET + ", " + TLS + " or "
                + SECRET_TLS + "; got '" + security + "' on " + transport);
        }
        if (op == null)
        {
            throw new IllegalArgumentException("op must be one of READ, WRITE, CAS, FAA");
        }
        if (bytes < 8 || bytes > MAX_BYTES || bytes % 8 != 0)
        {
            throw new IllegalArgumentException("bytes must be a multiple of 8 in 8.." + MAX_BYTES + ", got " + bytes);
        }
        if (batch < 1 || batch > MAX_BATCH)
        {
            throw new IllegalArgumentException("batch must be in 1.." + MAX_BATCH + ", got " + batch);
        }
        if (laneCount < 1 || laneCount > MAX_LANES)
        {
            throw new IllegalArgumentException("batches in flight must be in 1.." + MAX_LANES + ", got " + laneCount);
        }
        if (!VERBS.equals(work) && !ECHO.equals(work))
        {
            throw new IllegalArgumentException("work must be '" + VERBS + "' or '" + ECHO + "', got '" + work + "'");
        }
        final long used = AREA_BASE + laneCount * areaBytes(batch, bytes);
        final long memory = Math.max(MIN_MEMORY, (used + MIN_MEMORY - 1) / MIN_MEMORY * MIN_MEMORY);
        final ClusterSecret secret = security.startsWith(SECRET)
            ? ClusterSecret.of("a throwaway secret of the verbs benchmarks".getBytes(StandardCharsets.US_ASCII)) : null;
        final Path tlsDir = security.endsWith(TLS) ? tempDir() : null;
        final TlsConfig tls = tlsDir == null ? null : SelfSignedTls.create(tlsDir);
        final EmbeddedCluster cluster = EmbeddedCluster.start(nodes, memory, memory, transport, false, secret, tls);
        VerbsTransport t = null;
        VerbsClient client = null;
        try
        {
            t = cluster.newTransport();
            client = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.builder().secret(secret).tls(tls).build());
            final VerbsWorkload w = new VerbsWorkload(cluster, t, client, op, bytes, batch, ECHO.equals(work), laneCount);
            w.tlsDir = tlsDir;
            w.initialiseAreas();
            w.setupVerbs = w.verbsExecuted();
            return w;
        }
        catch (final RuntimeException e)
        {
            closeAll(client, t, cluster);
            deleteTree(tlsDir);
            throw e;
        }
    }

    private static Path tempDir()
    {
        try
        {
            return Files.createTempDirectory("dmkv-bench-tls-");
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(final Path dir)
    {
        if (dir == null)
        {
            return;
        }
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        catch (final IOException e)
        {
            // a temporary directory: the system cleans it up eventually
        }
    }

    /** Bytes of one lane's area on each node. */
    static long areaBytes(final int batch, final int bytes)
    {
        return (long)batch * bytes;
    }

    /** What READ areas hold at remote offset {@code offset} (on every node): never zero. */
    static byte pattern(final long offset)
    {
        return (byte)(1 + Math.floorMod(offset * 131 + 17, 251));
    }

    /** What a WRITE lane's local buffer holds at {@code index}: never zero, unlike fresh memory. */
    static byte sourceByte(final int index)
    {
        return (byte)(1 + index % 251);
    }

    int laneCount()
    {
        return lanes.length;
    }

    Lane lane(final int k)
    {
        return lanes[k];
    }

    VerbsClient client()
    {
        return client;
    }

    int nodeCount()
    {
        return regions.length;
    }

    /** The node verb {@code i} of every batch goes to. */
    int node(final int i)
    {
        return i % regions.length;
    }

    /** The remote offset (in region 0 of {@link #node(int)}) of verb {@code i} of {@code lane}. */
    long offset(final Lane lane, final int i)
    {
        return lane.area + (long)i * bytes;
    }

    /** Verbs the channels executed since the areas were initialised (echoes excluded), summed over nodes. */
    long verbsExecuted()
    {
        long n = -setupVerbs;
        for (final VerbsChannel c : client.channels())
        {
            n += c.counters().snapshot().verbs();
        }
        return n;
    }

    /** One blocking round trip of {@code lane}'s batch; returns a value to sink. */
    long execute(final Lane lane)
    {
        fill(lane);
        client.execute(lane.batch);
        return completed(lane);
    }

    /**
     * Posts {@code lane}'s batch without waiting, through {@link VerbsClient#executeAsync} when
     * {@code future}, else through {@link VerbsClient#post} with a listener that wakes the waiter.
     */
    void post(final Lane lane, final boolean future)
    {
        fill(lane);
        lane.inFlight = true;
        if (future)
        {
            lane.future = client.executeAsync(lane.batch);
        }
        else
        {
            try
            {
                client.post(lane.batch, lane.wakeUp);
            }
            catch (final RuntimeException e)
            {
                lane.inFlight = false;
                throw e;
            }
        }
    }

    /** Waits for {@code lane}'s posted batch; rethrows its failure; returns a value to sink. */
    long await(final Lane lane)
    {
        if (!lane.inFlight)
        {
            throw new IllegalStateException("lane has no batch in flight");
        }
        final CompletableFuture<VerbBatch> f = lane.future;
        try
        {
            if (f != null)
            {
                lane.future = null;
                f.join();
            }
            else
            {
                lane.awaitDone();
                final Throwable failure = lane.batch.failure();
                if (failure != null)
                {
                    throw new IllegalStateException("batch of " + lane.batch.size() + " verbs failed: " + failure, failure);
                }
            }
        }
        catch (final CompletionException e)
        {
            throw new IllegalStateException("batch of " + lane.batch.size() + " verbs failed: " + e.getCause(),
                e.getCause());
        }
        finally
        {
            lane.inFlight = false;
        }
        return completed(lane);
    }

    /** Waits for every lane still in flight, ignoring their failures. */
    void drain()
    {
        for (final Lane lane : lanes)
        {
            if (lane.inFlight)
            {
                try
                {
                    await(lane);
                }
                catch (final RuntimeException e)
                {
                    // A failed batch is already complete: nothing more to wait for.
                }
            }
        }
    }

    /** Reads {@code length} bytes at {@code offset} of region 0 of {@code node}, outside any lane. */
    byte[] readRemote(final int node, final long offset, final int length)
    {
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[length]);
        final VerbBatch b = new VerbBatch();
        b.read(regions[node], offset, dst, 0, length);
        client.execute(b);
        return dst.byteArray();
    }

    @Override
    public void close()
    {
        drain();
        closeAll(client, transport, cluster);
        deleteTree(tlsDir);
    }

    private void fill(final Lane lane)
    {
        final VerbBatch b = lane.batch.reset().echo(echo);
        final UnsafeBuffer local = lane.local;
        final long[] expected = lane.expected;
        final int n = regions.length;
        for (int i = 0; i < batchSize; i++)
        {
            final RemoteRegion region = regions[i % n];
            final long at = lane.area + (long)i * bytes;
            switch (op)
            {
                case READ:
                    b.read(region, at, local, i * bytes, bytes);
                    break;
                case WRITE:
                    b.write(region, at, local, i * bytes, bytes);
                    break;
                case CAS:
                    b.cas(region, at, expected[i], expected[i] + 1);
                    break;
                default:
                    b.faa(region, at, 1);
                    break;
            }
        }
    }

    /** What a finished batch leaves for the sink: the READ data, or the last atomic's old value. */
    private long completed(final Lane lane)
    {
        final VerbBatch b = lane.batch;
        switch (op)
        {
            case READ:
                return lane.local.getLong(0);
            case WRITE:
                return b.size();
            case CAS:
                if (!echo)
                {
                    final long[] expected = lane.expected;
                    for (int i = 0; i < batchSize; i++)
                    {
                        // After a CAS the word holds the new value if it won, else the old value it returned.
                        expected[i] = b.casSucceeded(i) ? expected[i] + 1 : b.result(i);
                    }
                }
                return b.result(batchSize - 1);
            default:
                return b.result(batchSize - 1);
        }
    }

    /** Zeroes every lane's area on every node, then lays the pattern into READ areas. */
    private void initialiseAreas()
    {
        final long area = areaBytes(batchSize, bytes);
        final long total = lanes.length * area;
        final int chunk = (int)Math.min(total, 1 << 20);
        final UnsafeBuffer src = new UnsafeBuffer(new byte[chunk]);
        final VerbBatch b = new VerbBatch();
        for (int node = 0; node < regions.length; node++)
        {
            for (long done = 0; done < total; done += chunk)
            {
                final int len = (int)Math.min(chunk, total - done);
                final long at = AREA_BASE + done;
                for (int j = 0; j < len; j++)
                {
                    src.putByte(j, op == VerbOp.READ ? pattern(at + j) : 0);
                }
                b.reset().write(regions[node], at, src, 0, len);
                client.execute(b);
            }
        }
        if (op == VerbOp.WRITE)
        {
            for (final Lane lane : lanes)
            {
                for (int j = 0; j < lane.local.capacity(); j++)
                {
                    lane.local.putByte(j, sourceByte(j));
                }
            }
        }
    }

    private static void closeAll(final VerbsClient client, final VerbsTransport transport, final EmbeddedCluster cluster)
    {
        final List<RuntimeException> errors = new ArrayList<>();
        for (final AutoCloseable c : new AutoCloseable[] {client, transport, cluster})
        {
            if (c == null)
            {
                continue;
            }
            try
            {
                c.close();
            }
            catch (final Exception e)
            {
                errors.add(new IllegalStateException("closing " + c + " failed: " + e.getMessage(), e));
            }
        }
        if (!errors.isEmpty())
        {
            final RuntimeException first = errors.get(0);
            errors.subList(1, errors.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    /**
     * One batch with everything it needs, reused for every round trip: the local buffer (READ
     * destination or WRITE source, {@code bytes} per verb), the values the CASes expect, and
     * what a pipelined caller needs to wait for it.
     */
    static final class Lane
    {
        final VerbBatch batch = new VerbBatch();
        final UnsafeBuffer local;
        final long area;
        final long[] expected;
        final BatchListener wakeUp = (b, failure) -> wake();
        CompletableFuture<VerbBatch> future;
        boolean inFlight;
        private volatile Thread waiter;

        Lane(final long area, final int batch, final int bytes)
        {
            this.area = area;
            this.local = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                (int)areaBytes(batch, bytes), BitUtil.CACHE_LINE_LENGTH));
            this.expected = new long[batch];
        }

        private void wake()
        {
            final Thread t = waiter;
            if (t != null)
            {
                LockSupport.unpark(t);
            }
        }

        /**
         * Spins briefly (a loopback answer often comes back within that), then parks until the
         * listener wakes it. The waiter is published before the last look at isDone, and the
         * batch is marked done before its listener runs, so a wake-up is never lost.
         */
        void awaitDone()
        {
            for (int i = 0; i < SPIN_BEFORE_PARK && !batch.isDone(); i++)
            {
                Thread.onSpinWait();
            }
            if (batch.isDone())
            {
                return;
            }
            waiter = Thread.currentThread();
            final long deadline = System.nanoTime() + AWAIT_LIMIT_NS;
            while (!batch.isDone())
            {
                LockSupport.parkNanos(this, PARK_NS);
                if (System.nanoTime() - deadline > 0 && !batch.isDone())
                {
                    throw new IllegalStateException("batch of " + batch.size() + " verbs never completed");
                }
            }
        }
    }
}
