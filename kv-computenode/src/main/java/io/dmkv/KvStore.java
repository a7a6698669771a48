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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.ClientCore;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.KeyLimits;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OperationCounter;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.TransportUnavailableException;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;

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
    /** Longest key, in bytes. */
    public static final int MAX_KEY_LENGTH = KeyLimits.MAX_KEY_LENGTH;
    /** Longest value, in bytes. */
    public static final int MAX_VALUE_LENGTH = KeyLimits.MAX_VALUE_LENGTH;

    private static final Logger LOG = LoggerFactory.getLogger(KvStore.class);
    private static final AtomicInteger STORES = new AtomicInteger();

    private final KvConfig config;
    private final ClientCore core;
    private final KeyIndex index;
    private final ExecutorService async;
    private final Semaphore inFlight;
    private final ThreadLocal<BlockingCall> calls = ThreadLocal.withInitial(BlockingCall::new);
    private final OperationCounter operations = new OperationCounter();
    private volatile boolean closed;

    private KvStore(final KvConfig config)
    {
        this.config = config;
        try
        {
            core = ClientCore.assemble(config);
        }
        catch (final RuntimeException e)
        {
            final RuntimeException t2 = translate(e, "opening the store");
            throw t2 instanceof KvException || !(e instanceof IllegalArgumentException || e instanceof IllegalStateException)
                ? t2 : new KvConfigException(e.getMessage(), e);
        }
        this.index = core.index();
        final int n = STORES.incrementAndGet();
        final AtomicInteger threads = new AtomicInteger();
        this.async = Executors.newFixedThreadPool(config.asyncThreads(), r ->
        {
            final Thread th = new Thread(r, "dmkv-store-" + n + "-" + threads.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        this.inFlight = new Semaphore(config.maxInFlight());
        LOG.info("dmkv store open: client {} on {} memory nodes ({}), r = {}", core.clientId(), config.memnodes().size(),
            config.transport(), core.view().replication());
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
        KeyLimits.checkKey(key);
        return call(() -> search(key));
    }

    /** Sets {@code key} to {@code value}, inserting it if absent. */
    public void put(final byte[] key, final byte[] value)
    {
        call(() -> mutate(Mode.PUT, key, value));
    }

    /** Sets {@code key} to {@code value} only if it is absent; true if it was inserted. */
    public boolean insert(final byte[] key, final byte[] value)
    {
        return call(() -> mutate(Mode.INSERT, key, value)) == Result.INSERTED;
    }

    /** Sets {@code key} to {@code value} only if it is present; true if it was updated. */
    public boolean update(final byte[] key, final byte[] value)
    {
        return call(() -> mutate(Mode.UPDATE, key, value)) == Result.UPDATED;
    }

    /** Removes {@code key}; true if it was present. */
    public boolean delete(final byte[] key)
    {
        return call(() -> mutate(Mode.DELETE, key, null)) == Result.DELETED;
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
        return submit(() -> search(key));
    }

    public CompletableFuture<Void> putAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> mutate(Mode.PUT, key, value)).thenApply(r -> null);
    }

    public CompletableFuture<Boolean> insertAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> mutate(Mode.INSERT, key, value) == Result.INSERTED);
    }

    public CompletableFuture<Boolean> updateAsync(final byte[] key, final byte[] value)
    {
        return submit(() -> mutate(Mode.UPDATE, key, value) == Result.UPDATED);
    }

    public CompletableFuture<Boolean> deleteAsync(final byte[] key)
    {
        return submit(() -> mutate(Mode.DELETE, key, null) == Result.DELETED);
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
        return core.counters();
    }

    /** What this store did so far: SNAPSHOT outcomes, splits, allocator, verbs, operations. */
    public KvStats stats()
    {
        return core.stats(operations.snapshot());
    }

    /** This client's id (owner of its blocks and log heads). */
    public int clientId()
    {
        return core.clientId();
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
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("could not post pending frees on close: {}", e.getMessage());
        }
        core.close();
    }

    private byte[] search(final byte[] key)
    {
        KeyLimits.checkKey(key);
        final BlockingCall call = calls.get();
        operations.started();
        try
        {
            index.search(key, KeyHash.hash(key), call.searchDone);
            return (byte[])call.await(guardNs());
        }
        finally
        {
            operations.finished();
        }
    }

    private Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        KeyLimits.checkKey(key);
        if (mode != Mode.DELETE)
        {
            KeyLimits.checkValue(value);
        }
        final BlockingCall call = calls.get();
        operations.started();
        try
        {
            index.mutate(mode, key, KeyHash.hash(key), value, call.mutateDone);
            return (Result)call.await(guardNs());
        }
        finally
        {
            operations.finished();
        }
    }

    private long guardNs()
    {
        return config.opTimeout().toNanos() * 2 + TimeUnit.SECONDS.toNanos(1);
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
