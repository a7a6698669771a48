package io.dmkv.computenode.ops;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.concurrent.NanoClock;

import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cache.BucketSnapshot;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.InsertLockLedger;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * FUSEE's one-sided index path behind the {@link KeyIndex} seam: every operation runs on the
 * memory nodes' RACE index with SNAPSHOT replication, as an asynchronous state machine
 * ({@link SearchOperation}, {@link MutateOperation}) driven by verb completions. Operation
 * objects (with their scratch buffers) are pooled, so a steady workload allocates none.
 *
 * <p>The blocking {@link #search(byte[])} and {@link #mutate(Mode, byte[], byte[])} wait on the
 * asynchronous ones; they are for tests and tools (the store has its own waiter).
 */
public final class FuseeIndex implements KeyIndex, AutoCloseable
{
    private final ClusterView view;
    private final OpRuntime runtime;
    private final boolean ownsRuntime;
    private final IndexDirectory directory;
    private final IndexCache cache;
    private final BucketSnapshot buckets;
    private final SnapshotReplicator snapshot;
    private final EmbeddedLogWriter writer;
    private final SubtableSplitter splitter;
    private final int clientId;
    private final long timeoutNs;
    private final long lockLeaseNs;
    private final OperationPool<SearchOperation> searches;
    private final OperationPool<MutateOperation> mutations;
    private final InsertLockLedger insertLocks;
    private final LongAdder retries = new LongAdder();
    private final LongAdder candidateReads = new LongAdder();
    private final LongAdder lockTakeovers = new LongAdder();
    private final LongAdder locksLost = new LongAdder();

    /**
     * @param pooled     operation objects of each kind kept for reuse (the store's in-flight bound).
     * @param timeoutNs  how long one operation may take, retries included.
     * @param lockLeaseNs how long an insert lock may sit unchanged before a waiting inserter takes it over.
     * @param buckets    the client's copy of subtables that guesses slots for keys not in {@code cache}.
     */
    public FuseeIndex(final ClusterView view, final OpRuntime runtime, final IndexDirectory directory,
        final IndexCache cache, final BucketSnapshot buckets, final SnapshotReplicator snapshot, final EmbeddedLogWriter writer,
        final SubtableSplitter splitter, final int clientId, final int pooled, final long timeoutNs,
        final long lockLeaseNs)
    {
        this(view, runtime, false, directory, cache, buckets, snapshot, writer, splitter, clientId, pooled,
            timeoutNs, lockLeaseNs);
    }

    private FuseeIndex(final ClusterView view, final OpRuntime runtime, final boolean ownsRuntime,
        final IndexDirectory directory, final IndexCache cache, final BucketSnapshot buckets,
        final SnapshotReplicator snapshot,
        final EmbeddedLogWriter writer, final SubtableSplitter splitter, final int clientId, final int pooled,
        final long timeoutNs, final long lockLeaseNs)
    {
        this.view = view;
        this.runtime = runtime;
        this.ownsRuntime = ownsRuntime;
        this.directory = directory;
        this.cache = cache;
        this.buckets = buckets;
        this.snapshot = snapshot;
        this.writer = writer;
        this.splitter = splitter;
        this.clientId = clientId;
        this.timeoutNs = timeoutNs;
        this.lockLeaseNs = lockLeaseNs;
        this.searches = new OperationPool<>(pooled);
        this.mutations = new OperationPool<>(pooled);
        this.insertLocks = new InsertLockLedger(view, runtime);
    }

    /** An index with a runtime of its own (closed with it), for tests and tools that assemble parts by hand. */
    public static FuseeIndex create(final ClusterView view, final VerbsClient client, final IndexDirectory directory,
        final IndexCache cache, final SnapshotReplicator snapshot, final ObjectAllocator allocator,
        final SubtableSplitter splitter, final int clientId, final NanoClock clock, final long timeoutNs,
        final long lockLeaseNs)
    {
        final OpRuntime runtime = new OpRuntime(client, clock);
        return new FuseeIndex(view, runtime, true, directory, cache,
            new BucketSnapshot(view, client, runtime::offload, BucketSnapshot.DEFAULT_BUDGET), snapshot,
            new EmbeddedLogWriter(view, allocator, clientId), splitter, clientId, 256, timeoutNs, lockLeaseNs);
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        SearchOperation op = searches.take();
        if (op == null)
        {
            op = new SearchOperation(this, runtime, view, directory, cache, buckets, timeoutNs);
        }
        op.start(key, hash, done);
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        MutateOperation op = mutations.take();
        if (op == null)
        {
            op = new MutateOperation(this, runtime, view, directory, cache, splitter, snapshot, writer, clientId,
                timeoutNs, lockLeaseNs);
        }
        op.start(mode, key, hash, value, done);
    }

    void release(final SearchOperation op)
    {
        searches.give(op);
    }

    void release(final MutateOperation op)
    {
        mutations.give(op);
    }

    void retries(final int n)
    {
        if (n > 0)
        {
            retries.add(n);
        }
    }

    void candidateRead()
    {
        candidateReads.increment();
    }

    void lockTakenOver()
    {
        lockTakeovers.increment();
    }

    void lockLost()
    {
        locksLost.increment();
    }

    /** This client's insert-lock words, and the locks of failed operations it still has to release. */
    public InsertLockLedger insertLocks()
    {
        return insertLocks;
    }

    /** Insert locks this client took over after their lease expired. */
    public long lockTakeovers()
    {
        return lockTakeovers.sum();
    }

    /** Insert locks this client found taken over when it renewed them (its operation started over). */
    public long locksLost()
    {
        return locksLost.sum();
    }

    /** Operations that had to start over (lost races, stale directory, busy locks). */
    public long retries()
    {
        return retries.sum();
    }

    /** Extra round trips spent reading candidate objects to compare keys. */
    public long candidateReads()
    {
        return candidateReads.sum();
    }

    public SnapshotReplicator snapshot()
    {
        return snapshot;
    }

    public IndexCache cache()
    {
        return cache;
    }

    /** The client's copy of subtables that guesses slots for keys not in the index cache. */
    public BucketSnapshot buckets()
    {
        return buckets;
    }

    public IndexDirectory directory()
    {
        return directory;
    }

    public int clientId()
    {
        return clientId;
    }

    /**
     * Posts the frees operations released and the allocator still holds, and makes a last attempt
     * (bounded by the lock lease) to release the insert locks failed operations left (the store's close).
     */
    @Override
    public void flush()
    {
        writer.allocator().flushReleased();
        insertLocks.drain(TimeUnit.NANOSECONDS.toMillis(lockLeaseNs));
    }

    /** Blocking search: the value of {@code key}, or null. */
    public byte[] search(final byte[] key)
    {
        KeyLimits.checkKey(key);
        final Waiter<byte[]> w = new Waiter<>();
        search(key, KeyHash.hash(key), w);
        return w.await(2 * timeoutNs);
    }

    /** Blocking mutation of {@code key} as {@code mode} says. */
    public Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        KeyLimits.checkKey(key);
        if (mode != Mode.DELETE)
        {
            KeyLimits.checkValue(value);
        }
        final Waiter<Result> w = new Waiter<>();
        mutate(mode, key, KeyHash.hash(key), value, w);
        return w.await(2 * timeoutNs);
    }

    /** Posts this index's deferred frees and, if it made its own runtime, stops its threads. */
    @Override
    public void close()
    {
        flush();
        if (ownsRuntime)
        {
            runtime.close();
        }
    }
}
