package io.dmkv.computenode.ops;

import java.util.Queue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import io.dmkv.KvOutcomeUnknownException;
import io.dmkv.ReplicasLostException;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbsException;

/**
 * The {@link KeyIndex} of a coordinated client, in front of the protocol's index:
 * <ul>
 * <li>it routes a key only while the cluster map is under its lease: every operation, reads
 * included, first checks the lease, which fails when the coordinator has not confirmed the map
 * recently enough (or the client's session was lost); a mutation also checks that enough replicas
 * live ({@code dmkv.minLiveReplicas}). An operation that finds the lease lapsed asks the
 * coordinator once to confirm the map again (a busy machine can delay the periodic confirmation
 * past the lease) and fails only if it does not: nothing is routed by the unconfirmed map
 * meanwhile;</li>
 * <li>an operation refused by a memory node for a key it no longer honours (the node re-keyed the
 * region: the cluster's map changed, docs/coordination.md) is retried after a refresh re-read the
 * map and learnt the new keys;</li>
 * <li>an operation that failed because a memory node did not answer (it died) waits, holding no
 * thread, until the cluster publishes a newer map (the fail-over, docs/recovery.md) or
 * {@code failoverWaitNs} passes, and is then retried by the new map; one that touched a region
 * whose every replica failed raises {@link ReplicasLostException} at once.</li>
 * </ul>
 * A mutation that failed that way after it posted a backup CAS of its value (its proposal,
 * {@link OpCompletion#proposed}) is not run again: the fail-over or a later writer may promote
 * the proposal, another client may then overwrite it, and a retry would apply it a second time
 * over that write (a put, or an insert after a delete, seen twice). It raises
 * {@link KvOutcomeUnknownException}. One that failed before proposing is retried; a conditional
 * mutation whose retry finds its own precondition false (an INSERT finding the key, an UPDATE or
 * DELETE not finding it) raises {@link KvOutcomeUnknownException} rather than a false "failed"
 * (kept conservative), and so does a mutation whose retries ran out. The refresh is blocking (a
 * hello per node), so it runs on the runtime's maintenance thread, never on the completion thread
 * that saw the failure.
 */
public final class CoordinatedIndex implements KeyIndex
{
    private static final int MAX_ATTEMPTS = 4;

    /** What the index asks of the cluster it routes in. */
    public interface Routing
    {
        /** Throws unless the map is under its lease (and the client's session lives). */
        void checkLease();

        /** Throws unless enough replicas live for a write. */
        void checkWritable();

        /**
         * True while writes wait for a newer map: a region is sealed for the last pass of a copy
         * onto a joining replica (docs/recovery.md, "Re-replication").
         */
        boolean writesHeld();

        /** Re-reads the map and learns the live nodes' current region keys (blocking). */
        void refresh();

        /**
         * Has the coordinator confirm the map again if its lease lapsed (blocking; nothing to do while
         * the lease holds, or when the coordinator cannot be reached or the session was lost).
         */
        void reconfirm();

        /** The epoch of the region map the client routes by now. */
        long mapEpoch();

        /** A message naming the regions that lost every replica, or null if none did. */
        String lostRegions();
    }

    private final KeyIndex delegate;
    private final Routing routing;
    private final OpRuntime runtime;
    private final long failoverWaitNs;
    private final Queue<Call<?>> waiting = new ConcurrentLinkedQueue<>();

    /**
     * @param failoverWaitNs how long an operation that lost a memory node waits for the fail-over's
     *                       new map before it fails.
     */
    public CoordinatedIndex(final KeyIndex delegate, final Routing routing, final OpRuntime runtime,
        final long failoverWaitNs)
    {
        this.delegate = delegate;
        this.routing = routing;
        this.runtime = runtime;
        this.failoverWaitNs = failoverWaitNs;
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        new Call<>(null, key, hash, null, done).start();
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        new Call<>(mode, key, hash, value, done).start();
    }

    @Override
    public void flush()
    {
        delegate.flush();
    }

    /** The cluster published a newer map: operations waiting for a fail-over retry now. */
    public void mapChanged()
    {
        for (Call<?> c = waiting.poll(); c != null; c = waiting.poll())
        {
            c.retry();
        }
    }

    /** True for a refusal that a map refresh and new keys can cure (the test background steps share). */
    static boolean refusedKey(final Throwable failure)
    {
        return RefusedKeys.refusedKey(failure);
    }

    /** True for a failure a memory node's death explains (no answer, a broken connection). */
    static boolean nodeFailure(final Throwable failure)
    {
        return failure instanceof VerbsException && !(failure instanceof RemoteAccessException);
    }

    /** One operation and its retries. */
    private final class Call<T> implements OpCompletion<T>
    {
        private final Mode mode;
        private final byte[] key;
        private final long hash;
        private final byte[] value;
        private final OpCompletion<T> done;
        private int attempts;
        private long routedBy;
        private boolean maybeApplied;
        /** The coordinator was asked once to confirm a lapsed map lease. */
        private boolean reconfirmed;
        /** An attempt posted a backup CAS of its value: running the mutation again could apply it twice. */
        private volatile boolean proposed;
        private boolean released;
        private Throwable lastFailure;

        Call(final Mode mode, final byte[] key, final long hash, final byte[] value, final OpCompletion<T> done)
        {
            this.mode = mode;
            this.key = key;
            this.hash = hash;
            this.value = value;
            this.done = done;
        }

        @SuppressWarnings("unchecked")
        void start()
        {
            routedBy = routing.mapEpoch();
            if (mode != null && routing.writesHeld())
            {
                if (lastFailure == null)
                {
                    lastFailure = new VerbsException("writes were held while a region was sealed for the last pass of"
                        + " a copy");
                }
                await();
                return;
            }
            attempts++;
            try
            {
                routing.checkLease();
                if (mode != null)
                {
                    routing.checkWritable();
                }
            }
            catch (final MapLeaseExpiredException e)
            {
                if (reconfirmed)
                {
                    finish(null, e);
                }
                else
                {
                    reconfirmed = true;
                    reconfirmThenStart(e);
                }
                return;
            }
            catch (final RuntimeException e)
            {
                finish(null, e);
                return;
            }
            if (mode == null)
            {
                delegate.search(key, hash, (OpCompletion<byte[]>)this);
            }
            else
            {
                delegate.mutate(mode, key, hash, value, (OpCompletion<Result>)this);
            }
        }

        /** Asks the coordinator to confirm the map (blocking, so off this thread), then starts again. */
        private void reconfirmThenStart(final MapLeaseExpiredException lapsed)
        {
            offloadThenStart(() ->
            {
                routing.reconfirm();
                attempts--; // the lapse did not count as an attempt
            }, lapsed);
        }

        /**
         * Runs {@code blocking} (a coordinator read, hellos) on the runtime's maintenance thread, then
         * starts again; fails with {@code failure} if it throws or cannot be run.
         */
        private void offloadThenStart(final Runnable blocking, final Throwable failure)
        {
            try
            {
                runtime.offload(() ->
                {
                    try
                    {
                        blocking.run();
                    }
                    catch (final RuntimeException e)
                    {
                        failure.addSuppressed(e);
                        finish(null, failure);
                        return;
                    }
                    start();
                });
            }
            catch (final RuntimeException e)
            {
                finish(null, failure);
            }
        }

        @Override
        public void proposed()
        {
            proposed = true;
        }

        @Override
        public void complete(final T result, final Throwable failure)
        {
            final Throwable f = unwrap(failure);
            if (f != null && proposed && !(nodeFailure(f) && routing.lostRegions() != null))
            {
                // Its proposal may be promoted (a helper, the fail-over), perhaps after another
                // client's later write: a retry would apply it again, over that write, and a plain
                // failure would be false. (A region that lost every replica is reported as such.)
                done.complete(null, unknown("failed after its value reached a backup", f));
                return;
            }
            if (f == null || attempts >= MAX_ATTEMPTS || !(refusedKey(f) || nodeFailure(f)))
            {
                finish(result, f);
                return;
            }
            maybeApplied |= mode != null;
            lastFailure = f;
            final String lost = nodeFailure(f) ? routing.lostRegions() : null;
            if (lost != null)
            {
                finish(null, new ReplicasLostException(lost));
                return;
            }
            if (refusedKey(f))
            {
                // A fresh wake-up: the previous retry left the call released, and a second refusal
                // in a row (two re-keys close together: a seal and its lifting) must still retry.
                synchronized (this)
                {
                    released = false;
                }
                retry();
                return;
            }
            await();
        }

        /** Waits, holding no thread, for a newer map (or the fail-over wait), then retries. */
        private void await()
        {
            synchronized (this)
            {
                released = false;
            }
            waiting.add(this);
            runtime.schedule(this::waitedOut, failoverWaitNs);
            if (routing.mapEpoch() > routedBy)
            {
                retry();
            }
        }

        /** Re-reads the map and keys, then runs the operation again (once per wake-up). */
        void retry()
        {
            synchronized (this)
            {
                if (released)
                {
                    return;
                }
                released = true;
            }
            waiting.remove(this);
            offloadThenStart(routing::refresh, lastFailure);
        }

        private void waitedOut()
        {
            synchronized (this)
            {
                if (released)
                {
                    return;
                }
                released = true;
            }
            waiting.remove(this);
            finish(null, new VerbsException("no memory-node fail-over was published within "
                + TimeUnit.NANOSECONDS.toMillis(failoverWaitNs) + " ms of a failure: " + lastFailure.getMessage(),
                lastFailure));
        }

        private void finish(final T result, final Throwable failure)
        {
            if (!maybeApplied)
            {
                done.complete(result, failure);
                return;
            }
            if (failure != null)
            {
                done.complete(null, unknown("failed after an earlier attempt that may have taken effect", failure));
                return;
            }
            if (result == Result.EXISTS || result == Result.NOT_FOUND)
            {
                done.complete(null, unknown("found " + result + " on retry, which may be its own first attempt",
                    lastFailure));
                return;
            }
            done.complete(result, null);
        }

        private KvOutcomeUnknownException unknown(final String what, final Throwable cause)
        {
            return new KvOutcomeUnknownException(mode + " of a key " + what + " (a memory node failed or the cluster"
                + " map changed under it): read the key to learn whether it took effect", cause);
        }
    }

    private static Throwable unwrap(final Throwable t)
    {
        Throwable e = t;
        while (e instanceof CompletionException && e.getCause() != null)
        {
            e = e.getCause();
        }
        return e;
    }
}
