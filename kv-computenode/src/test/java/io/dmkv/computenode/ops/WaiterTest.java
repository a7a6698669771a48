package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A thread's waiter, completed on that thread before it waits (inline) or from another thread,
 * in any order over many reuses: every wait returns the value of its own completion.
 */
@Timeout(60)
class WaiterTest
{
    private static final long GUARD = TimeUnit.SECONDS.toNanos(10);

    @Test
    void inlineAndRemoteCompletionsAlternatingEachReturnTheirOwnValue() throws Exception
    {
        final Waiter<Integer> w = new Waiter<>();
        final SynchronousQueue<Integer> toCompleter = new SynchronousQueue<>();
        final Thread completer = new Thread(() ->
        {
            try
            {
                while (true)
                {
                    final int v = toCompleter.take();
                    if (v < 0)
                    {
                        return;
                    }
                    w.complete(v, null);
                }
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        completer.start();
        try
        {
            for (int i = 0; i < 5_000; i++)
            {
                // A pattern that mixes runs of each kind.
                if ((i * 7 % 5) < 2)
                {
                    toCompleter.put(i);
                }
                else
                {
                    w.complete(i, null);
                }
                assertEquals(i, w.await(GUARD), "wait " + i);
            }
        }
        finally
        {
            toCompleter.put(-1);
            completer.join();
        }
    }

    @Test
    void aFailureCompletedInlineIsThrownOnceAndTheNextWaitIsClean()
    {
        final Waiter<String> w = new Waiter<>();
        final IllegalStateException boom = new IllegalStateException("boom");
        w.complete(null, boom);
        assertSame(boom, assertThrows(IllegalStateException.class, () -> w.await(GUARD)));
        w.complete("next", null);
        assertEquals("next", w.await(GUARD));
    }
}
