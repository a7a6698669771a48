package io.dmkv.computenode.proxy;

import io.dmkv.KvOutcomeUnknownException;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbBatch;

/**
 * A write to a proxied partition, without a thread: WRITE the object with its log entry to every
 * data replica (one round trip), then, from that batch's completion, either apply it to this
 * node's copy and post the write-through (one round trip) whose completion answers, or send the
 * MUTATE to the owning proxy on an open connection, whose reply answers. No thread hand-off; when
 * a step would wait (no object at hand, a lock held, a key to learn, a split due, no connection
 * yet, a REDIRECT, a lost reply), the write continues on the router's blocking path
 * ({@link ProxiedOperation}) with the object it already wrote.
 */
final class ProxiedWrite implements BatchListener
{
    /** Continues a write on the blocking path, with the object already written (null record: none). */
    @FunctionalInterface
    interface Fallback
    {
        void resume(EmbeddedLogWriter.Record record, long slot, long entry, boolean outcomeUnknown);
    }

    private final ProxiedOperation.Context ctx;
    private final ProxyIndex local;
    /** The owning proxy's endpoint, or null when this node owns the partition. */
    private final String remote;
    private final long epoch;
    private final Mode mode;
    private final byte[] key;
    private final long hash;
    private final OpCompletion<Result> done;
    private final ThreadCounters caller;
    private final Fallback fallback;
    /** The value written (null for a DELETE), for the proxy's level 1. */
    private byte[] value;
    private EmbeddedLogWriter.Record record;
    private long slot;
    private long entry;

    private ProxiedWrite(final ProxiedOperation.Context ctx, final String remote, final long epoch, final Mode mode,
        final byte[] key, final long hash, final OpCompletion<Result> done, final ThreadCounters caller,
        final Fallback fallback)
    {
        this.ctx = ctx;
        this.local = ctx.local();
        this.remote = remote;
        this.epoch = epoch;
        this.mode = mode;
        this.key = key;
        this.hash = hash;
        this.done = done;
        this.caller = caller;
        this.fallback = fallback;
    }

    /**
     * Starts a write whose partition this node owns ({@code remote} null) or the proxy at
     * {@code remote} owns (by the map of {@code epoch}).
     */
    static void start(final ProxiedOperation.Context ctx, final String remote, final long epoch, final Mode mode,
        final byte[] key, final long hash, final byte[] value, final OpCompletion<Result> done,
        final ThreadCounters caller, final Fallback fallback)
    {
        final ProxiedWrite w = new ProxiedWrite(ctx, remote, epoch, mode, key, hash, done, caller, fallback);
        if (mode == Mode.DELETE)
        {
            w.apply();
            return;
        }
        final EmbeddedLogWriter.Record r = ctx.take();
        final int sc = SizeClasses.sizeClassFor(key.length, value.length);
        try
        {
            if (!r.tryAllocate(sc))
            {
                ctx.release(r);
                fallback.resume(null, 0, 0, false);
                return;
            }
        }
        catch (final RuntimeException e)
        {
            ctx.release(r);
            done.complete(null, e);
            return;
        }
        w.record = r;
        w.value = value;
        final VerbBatch b = new VerbBatch();
        r.appendObject(b, key, value, mode == Mode.INSERT ? LogEntry.OP_INSERT : LogEntry.OP_UPDATE);
        w.slot = Slot.pack(KeyHash.fingerprint(hash), Slot.lengthCode(sc, r.usedLength()), r.object(), hash & 0xFF);
        w.entry = r.object() + r.usedLength() - LogEntry.LENGTH;
        try
        {
            ctx.verbs().post(b, w, caller);
        }
        catch (final RuntimeException e)
        {
            r.abandon();
            ctx.release(r);
            done.complete(null, e);
        }
    }

    /** The object landed on every data replica. */
    @Override
    public void batchCompleted(final VerbBatch batch, final Throwable failure)
    {
        if (failure != null)
        {
            record.abandon();
            ctx.release(record);
            done.complete(null, failure);
            return;
        }
        apply();
    }

    private void apply()
    {
        if (remote == null)
        {
            // Level 1 keeps the array: not the caller's own, which it may change after the write.
            if (!local.tryMutate(mode, key, hash, slot, entry, ProxyIndex.NO_WRITER,
                value == null ? null : value.clone(), caller, this::answered))
            {
                fallback.resume(record, slot, entry, false);
            }
            return;
        }
        final java.util.concurrent.CompletableFuture<ProxyRpc.Reply> reply = callAsync(
            ProxyRpc.mutate(epoch, hash, mode, slot, entry, key), value);
        if (reply == null)
        {
            fallback.resume(record, slot, entry, false);
            return;
        }
        reply.whenComplete((r, failure) ->
        {
            if (failure != null)
            {
                // Sent but not answered: whether it landed is for the blocking path to find out.
                fallback.resume(record, slot, entry, !io.dmkv.computenode.proxy.cache.ProxyClient.notSent(failure));
            }
            else if (r.status() == ProxyRpc.REDIRECT || r.status() == ProxyRpc.FULL)
            {
                fallback.resume(record, slot, entry, false);
            }
            else
            {
                answered(r, null);
            }
        });
    }

    /**
     * The MUTATE to the owning proxy without waiting: in the next batch frame to it, or as an RPC
     * of its own without a batching client; null when no connection is open.
     */
    private java.util.concurrent.CompletableFuture<ProxyRpc.Reply> callAsync(final java.nio.ByteBuffer body,
        final byte[] written)
    {
        if (ctx.client() == null)
        {
            return ctx.calls().callAsync(remote, ProxyRpc.MUTATE, body, caller);
        }
        final io.dmkv.computenode.proxy.cache.BatchFrame.Sub sub =
            io.dmkv.computenode.proxy.cache.BatchFrame.mutate(body, written);
        final int bytes = sub.body().remaining();
        final java.util.concurrent.CompletableFuture<ProxyRpc.Reply> r = ctx.client().call(remote, sub);
        if (r != null)
        {
            caller.countRpc(bytes);
        }
        return r;
    }

    private void answered(final ProxyRpc.Reply reply, final Throwable failure)
    {
        if (failure != null)
        {
            // The write-through failed part-way (a memory node died): some replicas may hold the
            // slot. The blocking path waits for the partition's copy to be read again and asks it
            // whether the object landed; a DELETE has no object to ask about.
            if (record != null)
            {
                fallback.resume(record, slot, entry, true);
            }
            else
            {
                done.complete(null, new KvOutcomeUnknownException("the write-through of a DELETE failed part-way: it"
                    + " may or may not have happened: " + failure.getMessage(), failure));
            }
            return;
        }
        switch (reply.status())
        {
            case ProxyRpc.APPLIED ->
            {
                keep();
                done.complete(mode == Mode.DELETE ? Result.DELETED
                    : Slot.isFree(reply.slot()) ? Result.INSERTED : Result.UPDATED, null);
            }
            case ProxyRpc.EXISTS -> abandon(Result.EXISTS);
            default -> abandon(Result.NOT_FOUND);
        }
    }

    private void keep()
    {
        if (record != null)
        {
            record.keep();
            ctx.release(record);
        }
    }

    private void abandon(final Result result)
    {
        if (record != null)
        {
            record.abandon();
            ctx.release(record);
        }
        done.complete(result, null);
    }
}
