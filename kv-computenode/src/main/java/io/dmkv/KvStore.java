package io.dmkv;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.alloc.SlabAllocator;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.RaceSplitter;
import io.dmkv.computenode.ops.FuseeClient;
import io.dmkv.computenode.ops.FuseeClient.Mode;
import io.dmkv.computenode.ops.FuseeClient.Result;
import io.dmkv.computenode.ops.SlabObjectAllocator;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.computenode.replication.SnapshotStats;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.TransportUnavailableException;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;

/**
 * A dmkv key-value store client: FUSEE on memory nodes reached over one-sided verbs. Thread-safe;
 * open one per process and share it. Keys are 1..1024 bytes, values 0..64,216 bytes.
 *
 * <pre>
 * try (KvStore kv = KvStore.open(KvConfig.builder().memnodes("10.0.0.5:7410", "10.0.0.6:7410").replication(2).build()))
 * {
 *     kv.put("user:1", "alice");
 *     String v = kv.get("user:1");
 * }
 * </pre>
 * Blocking calls run on the caller's thread; the *Async variants run on the store's threads
 * and their futures complete there (never on a network thread). At most
 * {@link KvConfig#maxInFlight()} async operations are queued or running; a call beyond that
 * waits up to the operation timeout.
 */
public final class KvStore implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(KvStore.class);
    private static final AtomicInteger STORES = new AtomicInteger();

    private final KvConfig config;
    private final VerbsTransport transport;
    private final VerbsClient verbs;
    private final ClusterView view;
    private final SlabAllocator slab;
    private final FuseeClient fusee;
    private final RaceSplitter splitter;
    private final ExecutorService async;
    private final Semaphore inFlight;
    private volatile boolean closed;

    private KvStore(final KvConfig config)
    {
        this.config = config;
        VerbsTransport t = null;
        VerbsClient v = null;
        SlabAllocator s = null;
        try
        {
            t = VerbsTransports.create(config.transport());
            v = VerbsClient.connect(t, config.memnodes(), ClientOptions.builder().requestTimeout(config.requestTimeout())
                .connectTimeout(config.connectTimeout()).maxInFlight(config.maxInFlight()).build());
            final ClusterSettings settings = new ClusterSettings(config.replication(), config.blockSize(),
                config.bucketGroups(), config.initialDepth(), config.maxDepth(), config.maxClients(),
                config.indexAreaBytes(), config.opTimeout().plusSeconds(20));
            view = ClusterView.open(v, settings);
            final int id = config.clientId() != 0 ? config.clientId() : view.allocateClientId();
            s = SlabAllocator.open(view, id, new SlabAllocator.Settings(config.reclaimPeriod()));
            final NanoClock clock = SystemNanoClock.INSTANCE;
            final long opNs = config.opTimeout().toNanos();
            final IndexDirectory directory = new IndexDirectory(view);
            final SnapshotReplicator snapshot = new SnapshotReplicator(view, clock, config.requestTimeout().toNanos(),
                opNs);
            splitter = new RaceSplitter(view, directory, snapshot, clock, opNs);
            fusee = new FuseeClient(view, directory, new IndexCache(config.cacheEntries(), config.cacheBypassMissRate()),
                snapshot, new SlabObjectAllocator(s), splitter, id, clock, opNs, config.requestTimeout().toNanos());
        }
        catch (final RuntimeException e)
        {
            if (s != null)
            {
                s.close();
            }
            if (v != null)
            {
                v.close();
            }
            if (t != null)
            {
                t.close();
            }
            final RuntimeException t2 = translate(e, "opening the store");
            throw t2 instanceof KvException || !(e instanceof IllegalArgumentException || e instanceof IllegalStateException)
                ? t2 : new KvConfigException(e.getMessage(), e);
        }
        this.transport = t;
        this.verbs = v;
        this.slab = s;
        final int n = STORES.incrementAndGet();
        final AtomicInteger threads = new AtomicInteger();
        this.async = Executors.newFixedThreadPool(config.asyncThreads(), r ->
        {
            final Thread th = new Thread(r, "dmkv-store-" + n + "-" + threads.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        this.inFlight = new Semaphore(config.maxInFlight());
        LOG.info("dmkv store open: client {} on {} memory nodes ({}), r = {}", fusee.clientId(), config.memnodes().size(),
            config.transport(), view.replication());
    }

    /**
     * Connects to the memory nodes of {@code config}, bootstrapping the cluster if it is empty.
     *
     * @throws NodeUnreachableException if a memory node cannot be reached.
     * @throws KvConfigException        if the config does not fit the cluster (r, node order, ...).
     */
    public static KvStore open(final KvConfig config)
    {
        return new KvStore(config);
    }

    public KvConfig config()
    {
        return config;
    }

    /** The value of {@code key}, or null if it has none. */
    public byte[] get(final byte[] key)
    {
        return call(() -> fusee.search(key));
    }

    /** Sets {@code key} to {@code value}, inserting it if absent. */
    public void put(final byte[] key, final byte[] value)
    {
        call(() -> fusee.mutate(Mode.PUT, key, value));
    }

    /** Sets {@code key} to {@code value} only if it is absent; true if it was inserted. */
    public boolean insert(final byte[] key, final byte[] value)
    {
        return call(() -> fusee.mutate(Mode.INSERT, key, value)) == Result.INSERTED;
    }

    /** Sets {@code key} to {@code value} only if it is present; true if it was updated. */
    public boolean update(final byte[] key, final byte[] value)
    {
        return call(() -> fusee.mutate(Mode.UPDATE, key, value)) == Result.UPDATED;
    }

    /** Removes {@code key}; true if it was present. */
    public boolean delete(final byte[] key)
    {
        return call(() -> fusee.mutate(Mode.DELETE, key, null)) == Result.DELETED;
    }

    /** {@link #get(byte[])} with UTF-8 strings. */
    public String get(final String key)
    {
        final byte[] v = get(utf8(key));
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** {@link #put(byte[], byte[])} with UTF-8 strings. */
    public void put(final String key, final String value)
    {
        put(utf8(key), value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** {@link #insert(byte[], byte[])} with UTF-8 strings. */
    public boolean insert(final String key, final String value)
    {
        return insert(utf8(key), value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** {@link #update(byte[], byte[])} with UTF-8 strings. */
    public boolean update(final String key, final String value)
    {
        return update(utf8(key), value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** {@link #delete(byte[])} with a UTF-8 string. */
    public boolean delete(final String key)
    {
        return delete(utf8(key));
    }

    public CompletableFuture<byte[]> getAsync(final byte[] key)
    {
        return submit(() -> fusee.search(key));
    }

    public CompletableFuture<Void> putAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> fusee.mutate(Mode.PUT, key, value)).thenApply(r -> null);
    }

    public CompletableFuture<Boolean> insertAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> fusee.mutate(Mode.INSERT, key, value) == Result.INSERTED);
    }

    public CompletableFuture<Boolean> updateAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> fusee.mutate(Mode.UPDATE, key, value) == Result.UPDATED);
    }

    public CompletableFuture<Boolean> deleteAsync(final byte[] key)
    {
        return submit(() -> fusee.mutate(Mode.DELETE, key, null) == Result.DELETED);
    }

    /** The values of {@code keys} (null where absent), in order; the lookups run in parallel. */
    public List<byte[]> getAll(final List<byte[]> keys)
    {
        final List<CompletableFuture<byte[]>> futures = new ArrayList<>(keys.size());
        for (final byte[] k : keys)
        {
            futures.add(getAsync(k));
        }
        final List<byte[]> values = new ArrayList<>(keys.size());
        for (final CompletableFuture<byte[]> f : futures)
        {
            values.add(join(f));
        }
        return values;
    }

    /** Puts every entry; the writes run in parallel. Throws the first failure after all finished. */
    public void putAll(final Map<byte[], byte[]> entries)
    {
        final List<CompletableFuture<Void>> futures = new ArrayList<>(entries.size());
        for (final Map.Entry<byte[], byte[]> e : entries.entrySet())
        {
            futures.add(putAsync(e.getKey(), e.getValue()));
        }
        RuntimeException first = null;
        for (final CompletableFuture<Void> f : futures)
        {
            try
            {
                join(f);
            }
            catch (final RuntimeException e)
            {
                first = first == null ? e : first;
            }
        }
        if (first != null)
        {
            throw first;
        }
    }

    /** Verbs, bytes and round trips this store's client made so far. */
    public VerbCounters.Snapshot counters()
    {
        return verbs.counters();
    }

    /** How SNAPSHOT decisions went for this client. */
    public SnapshotStats snapshotStats()
    {
        return fusee.snapshot().stats();
    }

    /** Allocator state (blocks owned, adopted, reclaimed objects). */
    public SlabAllocator.Stats allocatorStats()
    {
        return slab.stats();
    }

    /** Index splits this client performed. */
    public long indexSplits()
    {
        return splitter.splits();
    }

    /** This client's id (owner of its blocks and log heads). */
    public int clientId()
    {
        return fusee.clientId();
    }

    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Finishes queued async operations, posts pending frees, hands this client's blocks over for
     * later clients to adopt, and disconnects.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        async.shutdown();
        try
        {
            if (!async.awaitTermination(config.opTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS))
            {
                async.shutdownNow();
            }
            fusee.flushAll();
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("could not post pending frees on close: {}", e.getMessage());
        }
        try
        {
            slab.close();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("could not hand blocks over on close: {}", e.getMessage());
        }
        verbs.close();
        transport.close();
    }

    private <T> T call(final Supplier<T> op)
    {
        if (closed)
        {
            throw new StoreClosedException("the store is closed");
        }
        try
        {
            return op.get();
        }
        catch (final RuntimeException e)
        {
            throw translate(e, "the operation");
        }
    }

    private <T> CompletableFuture<T> submit(final Supplier<T> op)
    {
        if (closed)
        {
            return CompletableFuture.failedFuture(new StoreClosedException("the store is closed"));
        }
        try
        {
            if (!inFlight.tryAcquire(config.opTimeout().toNanos(), TimeUnit.NANOSECONDS))
            {
                return CompletableFuture.failedFuture(new KvTimeoutException("no slot for an async operation within "
                    + config.opTimeout() + " (" + config.maxInFlight() + " in flight)"));
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new KvException("interrupted", e));
        }
        try
        {
            return CompletableFuture.supplyAsync(() ->
            {
                try
                {
                    return call(op);
                }
                finally
                {
                    inFlight.release();
                }
            }, async);
        }
        catch (final RuntimeException e)
        {
            inFlight.release();
            return CompletableFuture.failedFuture(new StoreClosedException("the store is closed"));
        }
    }

    private <T> T join(final CompletableFuture<T> f)
    {
        try
        {
            return f.get(config.opTimeout().toNanos() * 2 + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        }
        catch (final ExecutionException e)
        {
            throw translate(e.getCause(), "the operation");
        }
        catch (final TimeoutException e)
        {
            throw new KvTimeoutException("operation did not finish within " + config.opTimeout());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new KvException("interrupted", e);
        }
    }

    private static byte[] utf8(final String s)
    {
        if (s == null)
        {
            throw new InvalidInputException("key is null");
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static RuntimeException translate(final Throwable t, final String what)
    {
        Throwable e = t;
        while (e instanceof CompletionException && e.getCause() != null)
        {
            e = e.getCause();
        }
        if (e instanceof KvException)
        {
            return (KvException)e;
        }
        if (e instanceof VerbsTimeoutException)
        {
            return new KvTimeoutException(what + " timed out: " + e.getMessage(), e);
        }
        if (e instanceof ConnectionException)
        {
            return new NodeUnreachableException(e.getMessage(), e);
        }
        if (e instanceof HandshakeException || e instanceof TransportUnavailableException)
        {
            return new KvConfigException(e.getMessage(), e);
        }
        if (e instanceof VerbsException)
        {
            return new KvException(what + " failed: " + e.getMessage(), e);
        }
        return e instanceof RuntimeException ? (RuntimeException)e : new KvException(e.toString(), e);
    }
}
