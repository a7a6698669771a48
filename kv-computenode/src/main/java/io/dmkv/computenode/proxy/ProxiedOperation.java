package io.dmkv.computenode.proxy;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.KvOutcomeUnknownException;
import io.dmkv.KvTimeoutException;
import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.Result;
import io.dmkv.computenode.ops.ValueSink;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.computenode.proxy.cache.ProxyClient;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;

/**
 * One operation on a proxied partition, as blocking steps on a router thread:
 * <pre>
 * search: 1 proxy SEARCH (a local call when this node proxies the partition) -> the slot
 *         2 READ the object from a data replica                        (0 RPC + 1 READ locally)
 * mutate: 1 WRITE the object with its log entry (no commit) to every data replica
 *         2 proxy MUTATE: the proxy writes the commit, then the slot, then answers
 * </pre>
 * A REDIRECT (the partition moved, or its new owner is still loading it) re-reads the partition
 * map and tries again, with the object already written. When a proxy stops answering mid-write,
 * the outcome is unknown: the operation waits for the partition's next owner and asks it, by
 * object address, whether the write landed (QUERY) before it tries again, so a write is never
 * applied twice nor reported failed when it landed. Every wait is bounded by the operation
 * timeout.
 */
final class ProxiedOperation
{
    private static final long FIRST_BACKOFF_NS = 200_000;
    private static final long MAX_BACKOFF_NS = 50_000_000;

    /** What every proxied operation of one store shares. */
    static final class Context
    {
        private final ClusterView view;
        private final VerbsClient verbs;
        private final EmbeddedLogWriter writer;
        private final ProxyIndex local;
        private final ProxyCalls calls;
        private final NanoClock clock;
        private final long timeoutNs;
        private final long handoverNs;
        private final ConcurrentLinkedQueue<EmbeddedLogWriter.Record> records = new ConcurrentLinkedQueue<>();
        private PartitionRouter router;
        private ProxyClient client;

        /**
         * @param local      this node's proxy index when it may proxy partitions, else null.
         * @param handoverNs how much longer than {@code timeoutNs} an operation may wait for a
         *                   partition's hand-over (a proxy taking it from one-sided mode waits its grace).
         */
        Context(final ClusterView view, final VerbsClient verbs, final EmbeddedLogWriter writer, final ProxyIndex local,
            final ProxyCalls calls, final NanoClock clock, final long timeoutNs, final long handoverNs)
        {
            this.handoverNs = handoverNs;
            this.view = view;
            this.verbs = verbs;
            this.writer = writer;
            this.local = local;
            this.calls = calls;
            this.clock = clock;
            this.timeoutNs = timeoutNs;
        }

        void router(final PartitionRouter r)
        {
            router = r;
        }

        /** A log record for one write (pooled: every record stays known to the log writer's heartbeat). */
        EmbeddedLogWriter.Record take()
        {
            final EmbeddedLogWriter.Record r = records.poll();
            return r != null ? r : writer.newRecord();
        }

        void release(final EmbeddedLogWriter.Record r)
        {
            if (r != null)
            {
                records.offer(r);
            }
        }

        ProxyCalls calls()
        {
            return calls;
        }

        /** Sets the batching (and caching) client of requests to other proxies; null: one RPC per request. */
        void client(final ProxyClient c)
        {
            client = c;
        }

        ProxyClient client()
        {
            return client;
        }

        ProxyIndex local()
        {
            return local;
        }

        ClusterView view()
        {
            return view;
        }

        VerbsClient verbs()
        {
            return verbs;
        }
    }

    private final Context ctx;
    private final long deadline;
    private long backoff = FIRST_BACKOFF_NS;
    /** The value a write wrote (a copy, for this node's level 1 when it owns the partition), or null. */
    private byte[] writtenValue;

    ProxiedOperation(final Context ctx)
    {
        this.ctx = ctx;
        this.deadline = ctx.clock.nanoTime() + ctx.timeoutNs + ctx.handoverNs;
    }

    void search(final byte[] key, final long hash, final int p, final OpCompletion<byte[]> done)
    {
        try
        {
            while (true)
            {
                final PartitionMap m = ctx.router.map();
                final String owner = m.owner(p);
                if (PartitionMap.NONE.equals(owner) && m.settled(p))
                {
                    ctx.router.announceOneSided();
                    ctx.router.oneSided().search(key, hash, done);
                    return;
                }
                final ProxyRpc.Reply r = call(m, p, ProxyRpc.SEARCH, key, hash, null, 0, 0);
                if (r == null || r.status() == ProxyRpc.REDIRECT)
                {
                    pause("search", p);
                    continue;
                }
                if (r.status() == ProxyRpc.NOT_FOUND)
                {
                    done.complete(null, null);
                    return;
                }
                if (readValue(key, r.slot(), done))
                {
                    return;
                }
                // The object changed after the proxy answered (the key was written again and the
                // old object reused): ask again.
                pause("search", p);
            }
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
        }
    }

    void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value, final int p,
        final OpCompletion<Result> done)
    {
        mutate(mode, key, hash, value, p, done, null, 0, 0, false);
    }

    /**
     * As {@link #mutate(Mode, byte[], long, byte[], int, OpCompletion)}, with the object already
     * written ({@code written}: its record, slot value and log entry; null to write it here), and
     * {@code outcomeUnknown} when it was sent to a proxy that did not answer.
     */
    void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value, final int p,
        final OpCompletion<Result> done, final EmbeddedLogWriter.Record written, final long writtenSlot,
        final long writtenEntry, final boolean outcomeUnknown)
    {
        EmbeddedLogWriter.Record record = written;
        boolean unknown = outcomeUnknown && written != null;
        writtenValue = value == null ? null : value.clone();
        try
        {
            long slot = writtenSlot;
            long entry = writtenEntry;
            while (true)
            {
                final PartitionMap m = ctx.router.map();
                final String owner = m.owner(p);
                if (PartitionMap.NONE.equals(owner) && m.settled(p))
                {
                    if (record != null && !unknown)
                    {
                        record.abandon();
                    }
                    else if (record != null)
                    {
                        // A proxy that died may have applied it: the one-sided path cannot tell.
                        throw new KvOutcomeUnknownException("the proxy of partition " + p + " was lost while it applied"
                            + " this write and the partition went back to one-sided mode: its outcome is unknown", null);
                    }
                    ctx.router.announceOneSided();
                    ctx.router.oneSided().mutate(mode, key, hash, value, done);
                    release(record);
                    record = null;
                    return;
                }
                if (record == null && mode != Mode.DELETE)
                {
                    record = take();
                    final int sc = SizeClasses.sizeClassFor(key.length, value.length);
                    allocate(record, sc);
                    final VerbBatch b = new VerbBatch();
                    record.appendObject(b, key, value, mode == Mode.INSERT ? LogEntry.OP_INSERT : LogEntry.OP_UPDATE);
                    ctx.verbs.execute(b);
                    slot = Slot.pack(KeyHash.fingerprint(hash), Slot.lengthCode(sc, record.usedLength()),
                        record.object(), hash & 0xFF);
                    entry = record.object() + record.usedLength() - LogEntry.LENGTH;
                }
                if (unknown && record != null)
                {
                    final ProxyRpc.Reply q = call(m, p, ProxyRpc.QUERY, key, hash, null, 0, record.object());
                    if (q == null || q.status() == ProxyRpc.REDIRECT)
                    {
                        pause("mutate (outcome of a write to a lost proxy)", p);
                        continue;
                    }
                    unknown = false;
                    if (q.status() == ProxyRpc.FOUND)
                    {
                        record.keep();
                        finish(done, mode == Mode.INSERT ? Result.INSERTED : Result.UPDATED, record);
                        return;
                    }
                }
                final ProxyRpc.Reply r;
                try
                {
                    r = call(m, p, ProxyRpc.MUTATE, key, hash, mode, slot, entry);
                }
                catch (final ProxyCalls.NotDelivered e)
                {
                    pause("mutate (" + e.getMessage() + ")", p);
                    continue;
                }
                catch (final HandshakeException e)
                {
                    throw e;
                }
                catch (final VerbsException e)
                {
                    unknown = true;
                    pause("mutate (proxy lost: " + e.getMessage() + ")", p);
                    continue;
                }
                if (r == null || r.status() == ProxyRpc.REDIRECT)
                {
                    pause("mutate", p);
                    continue;
                }
                switch (r.status())
                {
                    case ProxyRpc.APPLIED ->
                    {
                        if (record != null)
                        {
                            record.keep();
                        }
                        finish(done, mode == Mode.DELETE ? Result.DELETED
                            : Slot.isFree(r.slot()) ? Result.INSERTED : Result.UPDATED, record);
                    }
                    case ProxyRpc.EXISTS -> abandon(done, Result.EXISTS, record);
                    case ProxyRpc.NOT_FOUND -> abandon(done, Result.NOT_FOUND, record);
                    case ProxyRpc.FULL ->
                    {
                        abandonQuietly(record);
                        done.complete(null, new MemoryFullException("partition " + p + " of the index is full: its"
                            + " subtables reached the maximum depth (dmkv.index.maxDepth) and cannot split"));
                    }
                    default -> throw new IllegalStateException("unexpected proxy reply " + r.status());
                }
                return;
            }
        }
        catch (final RuntimeException e)
        {
            if (record != null && !unknown)
            {
                abandonQuietly(record);
            }
            else if (record != null)
            {
                // A slot may point at the object: never free it here (kv verify reports it if none does).
                record.keep();
                release(record);
            }
            done.complete(null, unknown && !(e instanceof KvOutcomeUnknownException)
                ? new KvOutcomeUnknownException("this write reached a proxy that did not answer, and whether it landed"
                    + " could not be learnt in time: " + e.getMessage(), e) : e);
        }
    }

    /**
     * One proxy call to the partition's owner: a local call when it is this node, else an RPC.
     *
     * @return null when the owner is unknown or cannot be reached for a read-only call.
     * @throws VerbsException when a MUTATE could not be delivered or answered.
     */
    private ProxyRpc.Reply call(final PartitionMap m, final int p, final int method, final byte[] key, final long hash,
        final Mode mode, final long slot, final long entryOrObject)
    {
        final String owner = m.owner(p);
        if (PartitionMap.NONE.equals(owner))
        {
            return null;
        }
        if (owner.equals(ctx.router.self()) && ctx.local != null)
        {
            ctx.router.countLocal();
            return switch (method)
            {
                case ProxyRpc.SEARCH -> ctx.local.search(key, hash);
                case ProxyRpc.QUERY -> ctx.local.query(key, hash, entryOrObject);
                default -> ctx.local.mutate(mode, key, hash, slot, entryOrObject, ProxyIndex.NO_WRITER, writtenValue);
            };
        }
        final String endpoint = m.endpoint(owner);
        if (endpoint == null)
        {
            return null;
        }
        ctx.router.countRemote();
        final long epoch = ctx.router.epoch();
        try
        {
            return ctx.calls.call(endpoint, method, switch (method)
            {
                case ProxyRpc.SEARCH -> ProxyRpc.search(epoch, hash, key);
                case ProxyRpc.QUERY -> ProxyRpc.query(epoch, hash, entryOrObject, key);
                default -> ProxyRpc.mutate(epoch, hash, mode, slot, entryOrObject, key);
            });
        }
        catch (final ProxyCalls.NotDelivered e)
        {
            if (method == ProxyRpc.MUTATE)
            {
                throw e;
            }
            return null;
        }
        catch (final HandshakeException e)
        {
            throw e;
        }
        catch (final VerbsException e)
        {
            if (method == ProxyRpc.MUTATE)
            {
                throw e;
            }
            return null;
        }
    }

    /** READs the object a proxy named and hands its value over; false if it no longer holds the key. */
    private boolean readValue(final byte[] key, final long slot, final OpCompletion<byte[]> done)
    {
        final int length = Slot.objectLength(slot);
        final UnsafeBuffer object = new UnsafeBuffer(new byte[length]);
        final VerbBatch b = new VerbBatch();
        ctx.view.read(b, Slot.address(slot), (int)(Thread.currentThread().getId() % ctx.view.replicasOf(Slot.address(slot))), object, 0,
            length);
        ctx.verbs.execute(b);
        if (KvObject.validate(object, 0, length, new Crc32cDigest()) != ObjectStatus.OK
            || !KvObject.keyEquals(object, 0, key))
        {
            return false;
        }
        if (done instanceof ValueSink sink)
        {
            sink.value(object, KvObject.valueOffset(object, 0), KvObject.valueLength(object, 0));
            done.complete(ValueSink.DELIVERED, null);
        }
        else
        {
            done.complete(KvObject.valueBytes(object, 0), null);
        }
        return true;
    }

    /** Waits a little (growing) before the next attempt, after re-reading the map; fails at the deadline. */
    private void pause(final String what, final int p)
    {
        if (ctx.clock.nanoTime() + backoff > deadline)
        {
            throw new KvTimeoutException(what + " on partition " + p + " did not complete in "
                + TimeUnit.NANOSECONDS.toMillis(ctx.timeoutNs + ctx.handoverNs) + " ms: its proxy is unreachable or"
                + " the partition is being handed over (dmkv.timeout + dmkv.proxy.handoverGrace)");
        }
        LockSupport.parkNanos(backoff);
        backoff = Math.min(MAX_BACKOFF_NS, backoff * 2);
        ctx.router.refresh();
    }

    private EmbeddedLogWriter.Record take()
    {
        return ctx.take();
    }

    private void release(final EmbeddedLogWriter.Record r)
    {
        ctx.release(r);
    }

    private void allocate(final EmbeddedLogWriter.Record record, final int sc)
    {
        while (!record.tryAllocate(sc))
        {
            final CountDownLatch ready = new CountDownLatch(1);
            record.refill(sc, ready::countDown);
            try
            {
                if (!ready.await(Math.max(1, deadline - ctx.clock.nanoTime()), TimeUnit.NANOSECONDS))
                {
                    throw new KvTimeoutException("no object of size class " + sc + " within the operation timeout");
                }
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new KvTimeoutException("interrupted while waiting for memory");
            }
        }
    }

    private void finish(final OpCompletion<Result> done, final Result result, final EmbeddedLogWriter.Record record)
    {
        release(record);
        done.complete(result, null);
    }

    private void abandon(final OpCompletion<Result> done, final Result result, final EmbeddedLogWriter.Record record)
    {
        if (record != null)
        {
            record.abandon();
        }
        finish(done, result, record);
    }

    private void abandonQuietly(final EmbeddedLogWriter.Record record)
    {
        if (record != null)
        {
            record.abandon();
            release(record);
        }
    }
}
