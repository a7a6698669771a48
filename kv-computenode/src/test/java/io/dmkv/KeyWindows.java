package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * A checker of per-key linearizability windows, for tests where each key has one writer at a
 * time writing increasing numbers: every read must return a value at least as new as the last
 * write acknowledged before the read started, and no newer than the last write started before it
 * ended. Writers and readers are threads, bounded in count and stopped by {@link #stop()}.
 */
final class KeyWindows
{
    final AtomicLongArray acked;
    final AtomicLongArray started;
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final String prefix;
    private final int keys;
    private final List<Thread> threads = new ArrayList<>();

    KeyWindows(final String prefix, final int keys)
    {
        this.prefix = prefix;
        this.keys = keys;
        this.acked = new AtomicLongArray(keys);
        this.started = new AtomicLongArray(keys);
    }

    String key(final int k)
    {
        return prefix + k;
    }

    int keys()
    {
        return keys;
    }

    /**
     * {@code writers} threads; writer w owns keys w, w + writers, ... and writes key k of round r
     * through {@code stores[(k + r) % stores.length]}, pausing {@code pauseMs} after each round.
     */
    void writers(final KvStore[] stores, final int writers, final long pauseMs)
    {
        for (int w = 0; w < writers; w++)
        {
            final int writer = w;
            threads.add(new Thread(() ->
            {
                long seq = 0;
                int round = 0;
                while (!stop.get() && seq < 200_000)
                {
                    for (int k = writer; k < keys && !stop.get(); k += writers)
                    {
                        started.set(k, ++seq);
                        try
                        {
                            stores[(k + round) % stores.length].put(key(k), Long.toString(seq));
                            acked.set(k, seq);
                            writes.incrementAndGet();
                        }
                        catch (final KvTimeoutException e)
                        {
                            // Outcome unknown: the window's upper bound already allows it.
                        }
                        catch (final RuntimeException e)
                        {
                            errors.add(e);
                            return;
                        }
                    }
                    round++;
                    sleep(pauseMs);
                }
            }, "writer-" + w));
        }
    }

    /** {@code n} reader threads, each read through the store and of the key the functions pick. */
    void readers(final int n, final Function<ThreadLocalRandom, KvStore> store,
        final ToIntFunction<ThreadLocalRandom> key)
    {
        for (int r = 0; r < n; r++)
        {
            threads.add(new Thread(() ->
            {
                final ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (!stop.get())
                {
                    final int k = key.applyAsInt(rnd);
                    final long low = acked.get(k);
                    final String v;
                    try
                    {
                        v = store.apply(rnd).get(key(k));
                    }
                    catch (final KvTimeoutException e)
                    {
                        continue;
                    }
                    catch (final RuntimeException e)
                    {
                        errors.add(e);
                        return;
                    }
                    final long high = started.get(k);
                    final long got = v == null ? -1 : Long.parseLong(v);
                    if (got < low || got > high)
                    {
                        violations.add("key " + k + ": read " + v + " outside [" + low + ", " + high + "]");
                    }
                    reads.incrementAndGet();
                }
            }, "reader-" + r));
        }
    }

    void start()
    {
        threads.forEach(Thread::start);
    }

    /** Stops every thread and asserts no operation failed and no read left its window. */
    void stopAndCheck() throws InterruptedException
    {
        stop.set(true);
        for (final Thread t : threads)
        {
            t.join(60_000);
        }
        assertTrue(errors.isEmpty(), "operations failed: " + errors);
        assertTrue(violations.isEmpty(), violations.size() + " reads outside their window, e.g. "
            + violations.stream().limit(5).toList());
    }

    /** Asserts every key now holds its last acknowledged write (or a later one started), read through {@code via}. */
    void assertFinalValues(final KvStore via)
    {
        for (int k = 0; k < keys; k++)
        {
            final long got = Long.parseLong(via.get(key(k)));
            assertTrue(got >= acked.get(k) && got <= started.get(k), "key " + k + " holds " + got
                + ", last acknowledged " + acked.get(k));
        }
    }

    private static void sleep(final long ms)
    {
        if (ms > 0)
        {
            try
            {
                Thread.sleep(ms);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
