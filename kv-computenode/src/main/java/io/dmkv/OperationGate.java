package io.dmkv;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.KeyLimits;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.OperationCounter;
import io.dmkv.computenode.ops.Result;
import io.dmkv.computenode.ops.ValueCopy;
import io.dmkv.computenode.ops.Waiter;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.rdma.VerbThread;

/**
 * Where the store's calls enter the index: checks keys and values, hashes the key once, admits
 * at most {@code maxInFlight} operations (a call beyond waits up to the operation timeout, then
 * fails with {@link KvTimeoutException}), and hands each operation its completion.
 *
 * <p>Blocking calls wait on the asynchronous operation with a per-thread {@link Waiter}. Async
 * calls return a future that completes on the store's callback threads — never on a network
 * thread, and never inside the call, even when the transport completed the operation inline:
 * a chain of calls each started from the previous one's callback then runs on one callback
 * thread, one completion after another, instead of recursing ({@link CallbackThreads}).
 */
final class OperationGate implements AutoCloseable
{
    private static final long ROOM_RECHECK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final KeyIndex index;
    private final long timeoutNs;
    private final int maxInFlight;
    /** Admission is the counter's: one atomic to start an operation, one to finish it. */
    private final OperationCounter counter = new OperationCounter();
    /** Callers waiting for room, and what they wait on: a finishing operation wakes one. */
    private final AtomicInteger waitingForRoom = new AtomicInteger();
    private final Object room = new Object();
    private final CallbackThreads callbacks;
    private final ThreadLocal<Waiter<byte[]>> searchWaiters = ThreadLocal.withInitial(Waiter::new);
    private final ThreadLocal<Waiter<Result>> mutateWaiters = ThreadLocal.withInitial(Waiter::new);
    private final ThreadLocal<ValueCopy> copies = ThreadLocal.withInitial(ValueCopy::new);

    OperationGate(final KeyIndex index, final KvConfig config)
    {
        this.index = index;
        this.timeoutNs = config.opTimeout().toNanos();
        this.maxInFlight = config.maxInFlight();
        this.callbacks = new CallbackThreads(config.asyncThreads());
    }

    OperationCounter counter()
    {
        return counter;
    }

    byte[] search(final byte[] key)
    {
        KeyLimits.checkKey(key);
        final Waiter<byte[]> w = searchWaiters.get();
        final VerbThread t = enter();
        try
        {
            index.search(key, KeyHash.hash(key), w);
            return w.await(2 * timeoutNs);
        }
        finally
        {
            leave(t);
        }
    }

    /** {@link #search(byte[])} into {@code destination}; the value's length, or -1. */
    int search(final byte[] key, final ByteBuffer destination)
    {
        KeyLimits.checkKey(key);
        final ValueCopy copy = copies.get();
        final VerbThread t = enter();
        copy.start(destination);
        try
        {
            index.search(key, KeyHash.hash(key), copy);
            return copy.await(2 * timeoutNs);
        }
        finally
        {
            leave(t);
        }
    }

    Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        check(mode, key, value);
        final Waiter<Result> w = mutateWaiters.get();
        final VerbThread t = enter();
        try
        {
            index.mutate(mode, key, KeyHash.hash(key), value, w);
            return w.await(2 * timeoutNs);
        }
        finally
        {
            leave(t);
        }
    }

    /**
     * Admits a blocking call on this thread and marks the thread as waiting for what it posts;
     * {@link #leave} with what it returns, in a {@code finally}.
     */
    private VerbThread enter()
    {
        final VerbThread t = VerbThread.current();
        refuseInCompletion(t);
        admit();
        t.beginWaiting();
        return t;
    }

    private void leave(final VerbThread t)
    {
        t.endWaiting();
        finished();
    }

    CompletableFuture<byte[]> searchAsync(final byte[] key)
    {
        KeyLimits.checkKey(key);
        final AsyncCall<byte[]> call = new AsyncCall<>();
        if (call.admitted())
        {
            call.enter();
            try
            {
                index.search(key, KeyHash.hash(key), call);
            }
            finally
            {
                call.leave();
            }
        }
        return call.future;
    }

    CompletableFuture<Result> mutateAsync(final Mode mode, final byte[] key, final byte[] value)
    {
        check(mode, key, value);
        final AsyncCall<Result> call = new AsyncCall<>();
        if (call.admitted())
        {
            call.enter();
            try
            {
                index.mutate(mode, key, KeyHash.hash(key), value, call);
            }
            finally
            {
                call.leave();
            }
        }
        return call.future;
    }

    private static void check(final Mode mode, final byte[] key, final byte[] value)
    {
        KeyLimits.checkKey(key);
        if (mode != Mode.DELETE)
        {
            KeyLimits.checkValue(value);
        }
    }

    private static void refuseInCompletion(final VerbThread t)
    {
        if (t.inCompletion())
        {
            throw new IllegalStateException("a blocking KvStore call was made on thread "
                + Thread.currentThread().getName() + " while it completes verbs: it would wait for itself. Use the"
                + " *Async calls there");
        }
    }

    private void admit()
    {
        if (counter.tryStart(maxInFlight))
        {
            return;
        }
        refuseInCompletion(VerbThread.current());
        waitForRoom();
    }

    private void waitForRoom()
    {
        final long deadline = System.nanoTime() + timeoutNs;
        waitingForRoom.incrementAndGet();
        try
        {
            synchronized (room)
            {
                while (!counter.tryStart(maxInFlight))
                {
                    final long left = deadline - System.nanoTime();
                    if (left <= 0)
                    {
                        throw new KvTimeoutException("no room for another operation within "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms: " + maxInFlight + " are in flight ("
                            + KvConfig.MAX_IN_FLIGHT + ")");
                    }
                    // Bounded: a start that lost a race for the last slot wakes no one when it backs off.
                    TimeUnit.NANOSECONDS.timedWait(room, Math.min(left, ROOM_RECHECK_NS));
                }
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new KvException("interrupted while waiting for room for an operation", e);
        }
        finally
        {
            waitingForRoom.decrementAndGet();
        }
    }

    private void finished()
    {
        counter.finished();
        if (waitingForRoom.get() != 0)
        {
            synchronized (room)
            {
                room.notify();
            }
        }
    }

    @Override
    public void close()
    {
        callbacks.shutdown();
    }

    /** Waits up to {@code timeoutNs} for every admitted operation to finish. */
    boolean drain(final long waitNs)
    {
        final long deadline = System.nanoTime() + waitNs;
        while (counter.inFlight() != 0)
        {
            if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted())
            {
                return false;
            }
            LockSupport.parkNanos(this, ROOM_RECHECK_NS);
        }
        return true;
    }

    /** One async call: admission, the operation's completion, and the future handed to the caller. */
    /**
     * One async call's completion. An operation that completes on the calling thread before the
     * call returned (an inline completion: {@code local}, a proxy's own partition) may still have
     * work to finish on that thread, so its result is handed to the callback threads only when the
     * call returns: else a callback thread could complete the future while the caller is still
     * inside the call, the caller's {@code whenComplete} would then run inline and call again, and
     * a chain of calls would recurse.
     */
    private final class AsyncCall<T> implements OpCompletion<T>
    {
        final CompletableFuture<T> future = new CompletableFuture<>();
        private final Thread caller = Thread.currentThread();
        // Read and written by the calling thread only.
        private boolean inCall;
        private boolean deferred;
        private T deferredValue;
        private Throwable deferredFailure;

        void enter()
        {
            inCall = true;
        }

        void leave()
        {
            inCall = false;
            if (deferred)
            {
                dispatch(deferredValue, deferredFailure);
            }
        }

        boolean admitted()
        {
            try
            {
                admit();
                return true;
            }
            catch (final RuntimeException e)
            {
                future.completeExceptionally(counter.failed(e));
                return false;
            }
        }

        @Override
        public void complete(final T value, final Throwable failure)
        {
            finished();
            if (inCall && Thread.currentThread() == caller)
            {
                deferredValue = value;
                deferredFailure = failure;
                deferred = true;
                return;
            }
            dispatch(value, failure);
        }

        private void dispatch(final T value, final Throwable failure)
        {
            callbacks.execute(() -> settle(value, failure));
        }

        private void settle(final T value, final Throwable failure)
        {
            if (failure == null)
            {
                future.complete(value);
            }
            else
            {
                future.completeExceptionally(counter.failed(KvStore.translate(failure, "the operation")));
            }
        }
    }
}
