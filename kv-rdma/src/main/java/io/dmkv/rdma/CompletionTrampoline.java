package io.dmkv.rdma;

import java.util.ArrayDeque;

/**
 * Runs batch listeners without recursion. A transport that completes a batch inside
 * {@code post} (the {@code local} transport) would otherwise call the listener, which posts the
 * next batch, which completes inline and calls the next listener, and so on down the stack. On
 * each thread the first completion runs its listener and then every listener queued meanwhile;
 * a completion that arrives while a listener runs on the same thread is queued and runs when
 * that listener returns, in order.
 *
 * <p>It also tells whether the current thread is running a completion, so a blocking call made
 * from one (which would wait for a completion this very thread has to run) fails at once.
 */
public final class CompletionTrampoline
{
    private static final ThreadLocal<CompletionTrampoline> CURRENT = ThreadLocal.withInitial(CompletionTrampoline::new);

    private final ArrayDeque<VerbBatch> queued = new ArrayDeque<>();
    private boolean running;

    private CompletionTrampoline()
    {
    }

    /** True while the current thread runs a batch listener (or queued ones after it). */
    public static boolean inCompletion()
    {
        return CURRENT.get().running;
    }

    /** Runs {@code batch}'s listener now, or after the listener this thread is running returns. */
    static void complete(final VerbBatch batch)
    {
        final CompletionTrampoline t = CURRENT.get();
        if (t.running)
        {
            t.queued.addLast(batch);
            return;
        }
        t.running = true;
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
            t.running = false;
            // A listener that threw leaves the rest queued: run them rather than lose their operations.
            if (!t.queued.isEmpty())
            {
                complete(t.queued.pollFirst());
            }
        }
    }
}
