package io.dmkv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.ClientCore;
import io.dmkv.computenode.ops.KeyLimits;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.cluster.ClusterModeException;
import io.dmkv.core.cluster.CoordinationException;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.TransportUnavailableException;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;

/**
 * A dmkv key-value store client: FUSEE on memory nodes reached over one-sided verbs. Thread-safe;
 * open one per process and share it. Keys are 1..{@value #MAX_KEY_LENGTH} bytes, values
 * 0..{@value #MAX_VALUE_LENGTH} bytes.
 *
 * <pre>
 * try (KvStore kv = KvStore.open(KvConfig.builder().memnodes("10.0.0.5:7410", "10.0.0.6:7410").replication(2).build()))
 * {
 *     kv.put("user:1", "alice");
 *     String v = kv.get("user:1");
 * }
 * </pre>
 * Operations are asynchronous underneath: each one is a short sequence of verb batches driven
 * by their completions, with no thread of its own, so one application thread can keep many in
 * flight with the *Async calls. Blocking calls wait on the same operations. Futures complete on
 * the store's callback threads, never on a network thread. At most {@link KvConfig#maxInFlight()}
 * operations run at once; a call beyond that waits up to the operation timeout, then fails with
 * {@link KvTimeoutException}. A blocking call made while the thread completes verbs (inside a
 * transport's completion) fails at once with an {@link IllegalStateException}.
 */
public final class KvStore implements AutoCloseable
{
    /** Longest key, in bytes. */
    public static final int MAX_KEY_LENGTH = KeyLimits.MAX_KEY_LENGTH;
    /** Longest value, in bytes. */
    public static final int MAX_VALUE_LENGTH = KeyLimits.MAX_VALUE_LENGTH;

    private static final Logger LOG = LoggerFactory.getLogger(KvStore.class);

    private final KvConfig config;
    private final ClientCore core;
    private final OperationGate gate;
    private final StoreMeters meters;
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
        this.gate = new OperationGate(core.index(), config);
        try
        {
            this.meters = new StoreMeters(this, config);
        }
        catch (final RuntimeException e)
        {
            gate.close();
            core.close();
            throw new KvConfigException(e.getMessage(), e);
        }
        LOG.info("dmkv store open: client {} on {} memory nodes ({}), r = {}, metrics: {}", core.clientId(),
            core.view().endpoints().size(), config.transport(), core.view().replication(), meters.endpoint());
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
        checkOpen();
        try
        {
            return gate.search(key);
        }
        catch (final RuntimeException e)
        {
            throw failed(e);
        }
    }

    /**
     * Reads the value of {@code key} into {@code destination}, from its position, without
     * allocating: the value goes from the buffer the read landed in straight into
     * {@code destination}, whose position moves past it.
     *
     * @return the value's length, or -1 if {@code key} has none. A value longer than
     *         {@code destination.remaining()} is not copied and the position does not move: call
     *         again with a buffer of the returned length.
     */
    public int get(final byte[] key, final ByteBuffer destination)
    {
        Objects.requireNonNull(destination, "destination");
        if (destination.isReadOnly())
        {
            throw new IllegalArgumentException("destination buffer is read-only");
        }
        checkOpen();
        try
        {
            return gate.search(key, destination);
        }
        catch (final RuntimeException e)
        {
            throw failed(e);
        }
    }

    /** Sets {@code key} to {@code value}, inserting it if absent. */
    public void put(final byte[] key, final byte[] value)
    {
        mutate(Mode.PUT, key, value);
    }

    /** Sets {@code key} to {@code value} only if it is absent; true if it was inserted. */
    public boolean insert(final byte[] key, final byte[] value)
    {
        return mutate(Mode.INSERT, key, value) == Result.INSERTED;
    }

    /** Sets {@code key} to {@code value} only if it is present; true if it was updated. */
    public boolean update(final byte[] key, final byte[] value)
    {
        return mutate(Mode.UPDATE, key, value) == Result.UPDATED;
    }

    /** Removes {@code key}; true if it was present. */
    public boolean delete(final byte[] key)
    {
        return mutate(Mode.DELETE, key, null) == Result.DELETED;
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
        return async(() -> gate.searchAsync(key));
    }

    public CompletableFuture<Void> putAsync(final byte[] key, final byte[] value)
    {
        return async(() -> gate.mutateAsync(Mode.PUT, key, value)).thenApply(r -> null);
    }

    public CompletableFuture<Boolean> insertAsync(final byte[] key, final byte[] value)
    {
        return async(() -> gate.mutateAsync(Mode.INSERT, key, value)).thenApply(r -> r == Result.INSERTED);
    }

    public CompletableFuture<Boolean> updateAsync(final byte[] key, final byte[] value)
    {
        return async(() -> gate.mutateAsync(Mode.UPDATE, key, value)).thenApply(r -> r == Result.UPDATED);
    }

    public CompletableFuture<Boolean> deleteAsync(final byte[] key)
    {
        return async(() -> gate.mutateAsync(Mode.DELETE, key, null)).thenApply(r -> r == Result.DELETED);
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
        return core.stats(gate.counter().snapshot());
    }

    /**
     * Where this store's meters can be read ({@code dmkv.metrics}): the Prometheus endpoint's URL
     * ({@code http://127.0.0.1:PORT/metrics}), "JMX domain metrics", or "none".
     */
    public String metricsEndpoint()
    {
        return meters.endpoint();
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
        if (!gate.drain(config.opTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1)))
        {
            LOG.warn("closing with operations still in flight after {}", config.opTimeout());
        }
        gate.close();
        meters.close();
        core.close();
    }

    /** This store's FlexKV parts (null in a FUSEE cluster): tests drive hotness periods through it. */
    io.dmkv.computenode.proxy.FlexKv flexkv()
    {
        return core.flexkv();
    }

    // Blocking calls go straight to the gate, not through a lambda: a get then allocates its
    // value's array and nothing else, and get(key, destination) nothing at all.
    private Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        checkOpen();
        try
        {
            return gate.mutate(mode, key, value);
        }
        catch (final RuntimeException e)
        {
            throw failed(e);
        }
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw gate.counter().failed(new StoreClosedException("the store is closed"));
        }
    }

    private RuntimeException failed(final RuntimeException e)
    {
        return gate.counter().failed(translate(e, "the operation"));
    }

    private <T> CompletableFuture<T> async(final Supplier<CompletableFuture<T>> op)
    {
        if (closed)
        {
            return CompletableFuture.failedFuture(new StoreClosedException("the store is closed"));
        }
        try
        {
            return op.get();
        }
        catch (final RuntimeException e)
        {
            return CompletableFuture.failedFuture(failed(e));
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
        if (e instanceof ClusterModeException)
        {
            return new KvConfigException(e.getMessage(), e);
        }
        if (e instanceof MapLeaseExpiredException)
        {
            return new KvException(what + " was refused: " + e.getMessage(), e);
        }
        if (e instanceof CoordinationException)
        {
            return new NodeUnreachableException(e.getMessage(), e);
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
