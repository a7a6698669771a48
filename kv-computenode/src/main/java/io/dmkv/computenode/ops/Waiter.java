package io.dmkv.computenode.ops;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.dmkv.KvTimeoutException;

/**
 * A thread's wait for an asynchronous operation it started: the operation completes it from
 * whatever thread finishes it, and the waiting thread parks at most once per wake-up. One waiter
 * belongs to one thread and is reused for its next operation, so a blocking call allocates none.
 *
 * <p>An operation that completed inline, on the waiting thread itself before it waits (every round
 * trip on {@code local}, or on lanes of that thread), is handed over in plain fields: no volatile
 * store, no fence, no wake-up, and the wait returns at once.
 *
 * @param <T> the operation's result.
 */
public final class Waiter<T> implements OpCompletion<T>
{

    private final Thread owner = Thread.currentThread();
    private volatile boolean done;
    /** Completed on the owner's own thread: written and read by that thread only. */
    private boolean inline;
    private T value;
    private Throwable failure;

    @Override
    public void complete(final T v, final Throwable f)
    {
        value = v;
        failure = f;
        if (Thread.currentThread() == owner)
        {
            inline = true;
            return;
        }
        done = true;
        LockSupport.unpark(owner);
    }

    /**
     * Waits for the completion and returns its value or rethrows its failure (a checked one
     * wrapped). Operations fail themselves at their timeout; {@code guardNs} only bounds a wait
     * that a bug would make endless.
     */
    public T await(final long guardNs)
    {
        if (inline)
        {
            inline = false;
            return take();
        }
        // No spin before parking: on a small machine a spinning waiter takes the core that the
        // transport's completion thread needs to finish the very operation it waits for.
        final long deadline = System.nanoTime() + guardNs + TimeUnit.SECONDS.toNanos(1);
        while (!done)
        {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
            if (!done && System.nanoTime() - deadline > 0)
            {
                throw new KvTimeoutException("an operation never completed within "
                    + TimeUnit.NANOSECONDS.toMillis(guardNs) + " ms");
            }
        }
        done = false;
        return take();
    }

    private T take()
    {
        final T v = value;
        final Throwable f = failure;
        value = null;
        failure = null;
        if (f instanceof RuntimeException)
        {
            throw (RuntimeException)f;
        }
        if (f instanceof Error)
        {
            throw (Error)f;
        }
        if (f != null)
        {
            throw new IllegalStateException(f);
        }
        return v;
    }
}
