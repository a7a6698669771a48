package io.dmkv.computenode.proxy;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.core.cluster.CachedMap;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.rdma.ThreadCounters;

/**
 * FlexKV's routing behind the {@link KeyIndex} seam (docs/flexkv.md §3): per partition, by the
 * partition map under its lease,
 * <ul>
 * <li>proxied by this compute node: its {@link ProxyIndex}, CPU atomics and write-through;</li>
 * <li>proxied by another: one proxy RPC ({@link ProxyCalls});</li>
 * <li>one-sided and settled: the FUSEE path, unchanged;</li>
 * <li>in a hand-over: the operation waits for it.</li>
 * </ul>
 * Proxied operations run as blocking steps ({@link ProxiedOperation}) on this router's threads,
 * so the caller's thread never waits on the network; the FUSEE path stays asynchronous. Their
 * verbs count in the caller's {@link ThreadCounters}, so per-operation figures include them.
 */
public final class PartitionRouter implements KeyIndex, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(PartitionRouter.class);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final KeyIndex oneSided;
    private final CoordinatedCluster cluster;
    private final ProxiedOperation.Context context;
    private final ExecutorService workers;
    private final int bits;
    private final LongAdder routedOneSided = new LongAdder();
    private final LongAdder routedLocal = new LongAdder();
    private final LongAdder routedRemote = new LongAdder();
    private volatile long epoch = -1;
    private volatile PartitionMap map;
    private volatile boolean oneSidedAnnounced;
    private final HotnessCounters hotness;
    private volatile TwoLevelMemory memory;

    /**
     * @param threads how many proxied operations run at once (each holds a thread while it waits).
     */
    public PartitionRouter(final KeyIndex oneSided, final CoordinatedCluster cluster,
        final ProxiedOperation.Context context, final int threads)
    {
        this.oneSided = oneSided;
        this.cluster = cluster;
        this.context = context;
        this.bits = cluster.partitions().partitionBits();
        this.hotness = new HotnessCounters(1 << bits);
        final int id = IDS.incrementAndGet();
        final AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(threads, r ->
        {
            final Thread t = new Thread(r, "dmkv-proxied-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        context.router(this);
    }

    /**
     * The partition map under its lease, decoded once per epoch. A lapsed lease is first confirmed
     * again by one coordinator read, if the coordinator is connected (a late periodic confirmation on
     * a busy machine); blocking, so never called on a completion thread.
     */
    PartitionMap map()
    {
        final CachedMap cached = cluster.partitionMap();
        VersionedMap v;
        try
        {
            v = cached.current();
        }
        catch (final MapLeaseExpiredException lapsed)
        {
            cached.reconfirm();
            v = cached.current();
        }
        if (v.epoch() != epoch)
        {
            map = PartitionMap.decode(v.payload());
            epoch = v.epoch();
        }
        return map;
    }

    long epoch()
    {
        return epoch;
    }

    /** Re-reads the partition map now (after a REDIRECT or a lost proxy). Blocking. */
    void refresh()
    {
        cluster.partitionMap().refresh();
    }

    String self()
    {
        return cluster.memberName();
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        final PartitionMap m = mapOrFail(done);
        final int p = KeyHash.partition(hash, bits);
        hotness.count(p);
        if (m == null || oneSidedNow(m, p) && routedOneSided())
        {
            if (m != null)
            {
                oneSided.search(key, hash, done);
            }
            return;
        }
        final ThreadCounters caller = ThreadCounters.current();
        final Runnable blocking = () -> submitAs(caller, () -> new ProxiedOperation(context).search(key, hash, p, done),
            done);
        final String owner = m.owner(p);
        if (context.local() != null && owner.equals(self()))
        {
            // This node's copy answers at once unless a lock is held or a key must be READ first.
            final TwoLevelMemory levels = memory;
            final long generation = levels == null ? 0 : levels.generation(p);
            final long slot = context.local().trySearch(key, hash);
            if (slot != ProxyIndex.BUSY)
            {
                routedLocal.increment();
                if (slot == ProxyIndex.ABSENT)
                {
                    done.complete(null, null);
                }
                else if (levels != null)
                {
                    levels.read(p, hash, key, slot, generation, done,
                        d -> ProxiedRead.start(context.view(), context.verbs(), key, slot, d, caller, blocking));
                }
                else
                {
                    ProxiedRead.start(context.view(), context.verbs(), key, slot, done, caller, blocking);
                }
                return;
            }
        }
        else if (!PartitionMap.NONE.equals(owner) && m.endpoint(owner) != null)
        {
            if (context.client() != null
                && CachedRead.start(context, m.endpoint(owner), owner, epoch, key, hash, done, caller, blocking))
            {
                routedRemote.increment();
                return;
            }
            final java.util.concurrent.CompletableFuture<ProxyRpc.Reply> reply = context.calls().callAsync(
                m.endpoint(owner), ProxyRpc.SEARCH, ProxyRpc.search(epoch, hash, key), caller);
            if (reply != null)
            {
                routedRemote.increment();
                reply.whenComplete((r, failure) ->
                {
                    if (failure == null && r.status() == ProxyRpc.NOT_FOUND)
                    {
                        done.complete(null, null);
                    }
                    else if (failure == null && r.status() == ProxyRpc.FOUND)
                    {
                        ProxiedRead.start(context.view(), context.verbs(), key, r.slot(), done, caller, blocking);
                    }
                    else
                    {
                        blocking.run();
                    }
                });
                return;
            }
        }
        blocking.run();
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        final PartitionMap m = mapOrFail(done);
        final int p = KeyHash.partition(hash, bits);
        hotness.count(p);
        if (m == null || oneSidedNow(m, p) && routedOneSided())
        {
            if (m != null)
            {
                oneSided.mutate(mode, key, hash, value, done);
            }
            return;
        }
        final ThreadCounters caller = ThreadCounters.current();
        final ProxiedWrite.Fallback blocking = (record, slot, entry, unknown) -> submitAs(caller,
            () -> new ProxiedOperation(context).mutate(mode, key, hash, value, p, done, record, slot, entry, unknown),
            done);
        final String owner = m.owner(p);
        if (context.local() != null && owner.equals(self()) && context.local().serves(p))
        {
            routedLocal.increment();
            ProxiedWrite.start(context, null, epoch, mode, key, hash, value, done, caller, blocking);
            return;
        }
        if (!owner.equals(self()) && !PartitionMap.NONE.equals(owner) && m.settled(p) && m.endpoint(owner) != null)
        {
            routedRemote.increment();
            ProxiedWrite.start(context, m.endpoint(owner), epoch, mode, key, hash, value, done, caller, blocking);
            return;
        }
        blocking.resume(null, 0, 0, false);
    }

    /** The partition map under its lease, or null after failing {@code done} with why not. */
    private PartitionMap mapOrFail(final OpCompletion<?> done)
    {
        try
        {
            return map();
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
            return null;
        }
    }

    /** True when partition p is one-sided and settled, and the cluster knows one-sided operations run. */
    private boolean oneSidedNow(final PartitionMap m, final int p)
    {
        return PartitionMap.NONE.equals(m.owner(p)) && m.settled(p) && (!m.isFresh() || oneSidedAnnounced);
    }

    /**
     * Before its first one-sided operation, a client ends the map's freshness (a versioned write),
     * so a proxy taking a partition from one-sided mode waits out operations like it. Blocking.
     */
    void announceOneSided()
    {
        if (!oneSidedAnnounced)
        {
            PartitionMapUpdate.apply(cluster.coordinator().maps(), null, PartitionMap::withOneSidedUsed);
            refresh();
            oneSidedAnnounced = true;
        }
    }

    /** This node's per-partition operation counters (hotness). */
    HotnessCounters hotness()
    {
        return hotness;
    }

    /** Local reads of level-1 partitions answer from {@code m} (null: every read READs its object). */
    void levels(final TwoLevelMemory m)
    {
        memory = m;
    }

    KeyIndex oneSided()
    {
        return oneSided;
    }

    void countLocal()
    {
        routedLocal.increment();
    }

    void countRemote()
    {
        routedRemote.increment();
    }

    void countOneSided()
    {
        routedOneSided.increment();
    }

    /** How this router sent operations: one-sided, to this node's proxy, to another's. */
    public record Routes(long oneSided, long local, long remote)
    {
    }

    public Routes routes()
    {
        return new Routes(routedOneSided.sum(), routedLocal.sum(), routedRemote.sum());
    }

    /** Counts an operation routed one-sided; true, for use in a condition. */
    private boolean routedOneSided()
    {
        routedOneSided.increment();
        return true;
    }

    /** Runs {@code task} on a router thread, counting its verbs in {@code caller}'s thread counters. */
    private <T> void submitAs(final ThreadCounters caller, final Runnable task, final OpCompletion<T> done)
    {
        submit(() ->
        {
            final ThreadCounters own = ThreadCounters.swap(caller);
            try
            {
                task.run();
            }
            finally
            {
                ThreadCounters.swap(own);
            }
        }, done);
    }

    private <T> void submit(final Runnable task, final OpCompletion<T> done)
    {
        try
        {
            workers.execute(task);
        }
        catch (final RejectedExecutionException e)
        {
            done.complete(null, new IllegalStateException("the store is closing"));
        }
    }

    @Override
    public void flush()
    {
        oneSided.flush();
    }

    @Override
    public void close()
    {
        workers.shutdownNow();
        context.calls().close();
        LOG.debug("router closed: {}", routes());
    }
}
