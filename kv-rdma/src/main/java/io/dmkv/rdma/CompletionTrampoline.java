package io.dmkv.rdma;

/**
 * Runs batch listeners without recursion. A transport that completes a batch inside
 * {@code post} (the {@code local} transport) would otherwise call the listener, which posts the
 * next batch, which completes inline and calls the next listener, and so on down the stack. On
 * each thread the first completion runs its listener and then every listener queued meanwhile;
 * a completion that arrives while a listener runs on the same thread is queued and runs when
 * that listener returns, in order.
 *
 * <p>It also tells whether the current thread is running a completion, so a blocking call made
 * from one (which would wait for a completion this very thread has to run) fails at once. The
 * state is the thread's {@link VerbThread}.
 */
public final class CompletionTrampoline
{
    private CompletionTrampoline()
    {
    }

    /** True while the current thread runs a batch listener (or queued ones after it). */
    public static boolean inCompletion()
    {
        return VerbThread.current().completing;
    }

    /** Runs {@code batch}'s listener now, or after the listener this thread ({@code t}) is running returns. */
    static void complete(final VerbThread t, final VerbBatch batch)
    {
        if (t.completing)
        {
            t.queued.addLast(batch);
            return;
        }
        t.completing = true;
        try
        {
            VerbBatch next = batch;
            while (next != null)
            {
                next.runListener();
                next = t.queued.pollFirst();
            }
        }
        finally
        {
            t.completing = false;
            // A listener that threw leaves the rest queued: run them rather than lose their operations.
            if (!t.queued.isEmpty())
            {
                complete(t, t.queued.pollFirst());
            }
        }
    }
}
