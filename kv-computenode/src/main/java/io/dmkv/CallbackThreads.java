package io.dmkv;

import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store's callback threads, where async calls' futures complete. A completion handed over
 * by a callback thread itself (a call made from a callback, whose operation completed) runs on
 * that same thread once its current task returns, not on another one: else, in a chain of calls
 * each started from the previous one's callback, another thread could complete the next future
 * before the caller attached its callback, which would then run inline and call again, and the
 * chain would recurse until the stack overflows. Completions handed over by any other thread go
 * to the pool.
 */
final class CallbackThreads
{
    private static final AtomicInteger POOLS = new AtomicInteger();

    /** Completions queued by the task this callback thread runs (null on other threads). */
    private final ThreadLocal<ArrayDeque<Runnable>> queued = new ThreadLocal<>();
    private final ExecutorService pool;

    CallbackThreads(final int threads)
    {
        final int n = POOLS.incrementAndGet();
        final AtomicInteger count = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r ->
        {
            final Thread th = new Thread(r, "dmkv-callback-" + n + "-" + count.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
    }

    /** Runs {@code completion} on a callback thread; on the caller's thread once the pool is shut down. */
    void execute(final Runnable completion)
    {
        final ArrayDeque<Runnable> mine = queued.get();
        if (mine != null)
        {
            mine.addLast(completion);
            return;
        }
        try
        {
            pool.execute(() -> runTask(completion));
        }
        catch (final RejectedExecutionException e)
        {
            completion.run();
        }
    }

    private void runTask(final Runnable first)
    {
        final ArrayDeque<Runnable> mine = new ArrayDeque<>();
        queued.set(mine);
        try
        {
            Runnable next = first;
            while (next != null)
            {
                next.run();
                next = mine.pollFirst();
            }
        }
        finally
        {
            queued.remove();
            // A completion that threw leaves the rest queued: hand them to the pool rather than lose them.
            for (Runnable left = mine.pollFirst(); left != null; left = mine.pollFirst())
            {
                execute(left);
            }
        }
    }

    void shutdown()
    {
        pool.shutdown();
    }
}
