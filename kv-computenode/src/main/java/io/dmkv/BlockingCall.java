package io.dmkv;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.Result;

/**
 * One application thread's wait for its blocking call: the operation completes it from whatever
 * thread finishes it, and the caller parks at most once. Reused by its thread, so a blocking call
 * allocates no waiter.
 */
final class BlockingCall
{
    final OpCompletion<byte[]> searchDone = this::complete;
    final OpCompletion<Result> mutateDone = this::complete;
    private final Thread owner = Thread.currentThread();
    private volatile boolean done;
    private Object value;
    private Throwable failure;

    private void complete(final Object v, final Throwable f)
    {
        value = v;
        failure = f;
        done = true;
        LockSupport.unpark(owner);
    }

    /**
     * Waits for the completion and returns its value or throws its failure. Operations fail
     * themselves at their timeout; {@code guardNs} only bounds a wait a bug would make endless.
     */
    Object await(final long guardNs)
    {
        final long deadline = System.nanoTime() + guardNs;
        while (!done)
        {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
            if (!done && System.nanoTime() - deadline > 0)
            {
                throw new KvTimeoutException("the operation never completed within " + TimeUnit.NANOSECONDS.toMillis(
                    guardNs) + " ms");
            }
        }
        done = false;
        final Object v = value;
        final Throwable f = failure;
        value = null;
        failure = null;
        if (f != null)
        {
            throw KvStore.translate(f, "the operation");
        }
        return v;
    }
}
