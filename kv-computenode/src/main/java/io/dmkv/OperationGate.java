package io.dmkv;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.KeyLimits;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.OperationCounter;
import io.dmkv.computenode.ops.Result;
import io.dmkv.computenode.ops.ValueCopy;
import io.dmkv.computenode.ops.Waiter;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.rdma.CallerWaits;
import io.dmkv.rdma.CompletionTrampoline;

/**
 * Where the store's calls enter the index: checks keys and values, hashes the key once, admits
 * at most {@code maxInFlight} operations (a call beyond waits up to the operation timeout, then
 * fails with {@link KvTimeoutException}), and hands each operation its completion.
 *
 * <p>Blocking calls wait on the asynchronous operation with a per-thread {@link Waiter}. Async
 * calls return a future that completes on the store's callback threads — never on a network
 * thread, and never inside the call, even when the transport completed the operation inline:
 * a chain of calls each started from the previous one's callback then runs on the callback
 * threads instead of recursing.
 */
final class OperationGate implements AutoCloseable
{
    private static final AtomicInteger GATES = new AtomicInteger();

    private final KeyIndex index;
    private final long timeoutNs;
    private final int maxInFlight;
    private final Semaphore slots;
    private final OperationCounter counter = new OperationCounter();
    private final ExecutorService callbacks;
    private final ThreadLocal<Waiter<byte[]>> searchWaiters = ThreadLocal.withInitial(Waiter::new);
    private final ThreadLocal<Waiter<Result>> mutateWaiters = ThreadLocal.withInitial(Waiter::new);
    private final ThreadLocal<ValueCopy> copies = ThreadLocal.withInitial(ValueCopy::new);

    OperationGate(final KeyIndex index, final KvConfig config)
    {
        this.index = index;
        this.timeoutNs = config.opTimeout().toNanos();
        this.maxInFlight = config.maxInFlight();
        this.slots = new Semaphore(maxInFlight);
        final int n = GATES.incrementAndGet();
        final AtomicInteger threads = new AtomicInteger();
        this.callbacks = Executors.newFixedThreadPool(config.asyncThreads(), r ->
        {
            final Thread th = new Thread(r, "dmkv-callback-" + n + "-" + threads.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
    }

    OperationCounter counter()
    {
        return counter;
    }

    byte[] search(final byte[] key)
    {
        KeyLimits.checkKey(key);
        refuseInCompletion();
        admit();
        final Waiter<byte[]> w = searchWaiters.get();
        CallerWaits.begin();
        try
        {
            index.search(key, KeyHash.hash(key), w);
            return w.await(2 * timeoutNs);
        }
        finally
        {
            CallerWaits.end();
            finished();
        }
    }

    /** {@link #search(byte[])} into {@code destination}; the value's length, or -1. */
    int search(final byte[] key, final ByteBuffer destination)
    {
        KeyLimits.checkKey(key);
        refuseInCompletion();
        admit();
        final ValueCopy copy = copies.get().start(destination);
        CallerWaits.begin();
        try
        {
            index.search(key, KeyHash.hash(key), copy);
            return copy.await(2 * timeoutNs);
        }
        finally
        {
            CallerWaits.end();
            finished();
        }
    }

    Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        check(mode, key, value);
        refuseInCompletion();
        admit();
        final Waiter<Result> w = mutateWaiters.get();
        CallerWaits.begin();
        try
        {
            index.mutate(mode, key, KeyHash.hash(key), value, w);
            return w.await(2 * timeoutNs);
        }
        finally
        {
            CallerWaits.end();
            finished();
        }
    }

    CompletableFuture<byte[]> searchAsync(final byte[] key)
    {
        KeyLimits.checkKey(key);
        final AsyncCall<byte[]> call = new AsyncCall<>();
        if (call.admitted())
        {
            index.search(key, KeyHash.hash(key), call);
        }
        return call.future;
    }

    CompletableFuture<Result> mutateAsync(final Mode mode, final byte[] key, final byte[] value)
    {
        check(mode, key, value);
        final AsyncCall<Result> call = new AsyncCall<>();
        if (call.admitted())
        {
            index.mutate(mode, key, KeyHash.hash(key), value, call);
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

    private static void refuseInCompletion()
    {
        if (CompletionTrampoline.inCompletion())
        {
            throw new IllegalStateException("a blocking KvStore call was made on thread "
                + Thread.currentThread().getName() + " while it completes verbs: it would wait for itself. Use the"
                + " *Async calls there");
        }
    }

    private void admit()
    {
        if (slots.tryAcquire())
        {
            counter.started();
            return;
        }
        refuseInCompletion();
        try
        {
            if (!slots.tryAcquire(timeoutNs, TimeUnit.NANOSECONDS))
            {
                throw new KvTimeoutException("no room for another operation within "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms: " + maxInFlight + " are in flight ("
                    + KvConfig.MAX_IN_FLIGHT + ")");
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new KvException("interrupted while waiting for room for an operation", e);
        }
        counter.started();
    }

    private void finished()
    {
        counter.finished();
        slots.release();
    }

    @Override
    public void close()
    {
        callbacks.shutdown();
    }

    /** Waits up to {@code timeoutNs} for every admitted operation to finish. */
    boolean drain(final long waitNs)
    {
        try
        {
            if (slots.tryAcquire(maxInFlight, waitNs, TimeUnit.NANOSECONDS))
            {
                slots.release(maxInFlight);
                return true;
            }
            return false;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** One async call: admission, the operation's completion, and the future handed to the caller. */
    private final class AsyncCall<T> implements OpCompletion<T>
    {
        final CompletableFuture<T> future = new CompletableFuture<>();

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
            try
            {
                callbacks.execute(() -> settle(value, failure));
            }
            catch (final RuntimeException e)
            {
                settle(value, failure);
            }
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
