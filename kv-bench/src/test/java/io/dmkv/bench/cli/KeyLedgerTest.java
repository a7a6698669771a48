package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the demo's final check accepts: exactly the values a linearizable store may end on. */
@Timeout(60)
class KeyLedgerTest
{
    @Test
    void aKeyNeverUpdatedMayOnlyHoldItsLoadedValue()
    {
        final KeyLedger ledger = new KeyLedger(4, 2);
        assertNull(ledger.verify(3, 0));
        assertNotNull(ledger.verify(3, 1));
    }

    @Test
    void sequentialUpdatesMustEndOnTheLast()
    {
        final KeyLedger ledger = new KeyLedger(1, 2);
        final long t1 = ledger.begin(0);
        ledger.acknowledged(0, t1);
        final long t2 = ledger.begin(0);
        ledger.acknowledged(0, t2);
        assertEquals(1, t1);
        assertEquals(2, t2);
        assertNull(ledger.verify(0, 2));
        assertTrue(ledger.verify(0, 1).contains("lost update"), ledger.verify(0, 1));
        assertNotNull(ledger.verify(0, 0), "the loaded value was overwritten");
        assertTrue(ledger.verify(0, 3).contains("only 2 were issued"), ledger.verify(0, 3));
    }

    @Test
    void overlappingUpdatesMayEndOnEitherWhicheverFinishedFirst()
    {
        final KeyLedger a = new KeyLedger(1, 2);
        final long a1 = a.begin(0);
        final long a2 = a.begin(0);
        a.acknowledged(0, a1);
        a.acknowledged(0, a2);
        assertNull(a.verify(0, a1));
        assertNull(a.verify(0, a2));

        final KeyLedger b = new KeyLedger(1, 2);
        final long b1 = b.begin(0);
        final long b2 = b.begin(0);
        b.acknowledged(0, b2);
        b.acknowledged(0, b1);
        assertNull(b.verify(0, b1));
        assertNull(b.verify(0, b2));
        assertNotNull(b.verify(0, 0));
    }

    @Test
    void aWriteThatFinishedBeforeTheLastOneStartedIsStale()
    {
        final KeyLedger ledger = new KeyLedger(1, 3);
        final long t1 = ledger.begin(0);
        final long t2 = ledger.begin(0);
        ledger.acknowledged(0, t1);
        final long t3 = ledger.begin(0);
        ledger.acknowledged(0, t2);
        ledger.acknowledged(0, t3);
        assertNull(ledger.verify(0, t3));
        assertNull(ledger.verify(0, t2), "t2 was in flight when t3 started");
        assertTrue(ledger.verify(0, t1).contains("lost update"), ledger.verify(0, t1));
    }

    @Test
    void aFailedUpdateLeavesTheKeyAnyOfItsIssuedWrites()
    {
        final KeyLedger ledger = new KeyLedger(1, 2);
        final long t1 = ledger.begin(0);
        ledger.acknowledged(0, t1);
        final long t2 = ledger.begin(0);
        ledger.failed(0, t2);
        assertNull(ledger.verify(0, t1));
        assertNull(ledger.verify(0, t2));
        assertNotNull(ledger.verify(0, 7), "never issued");
    }

    @Test
    void misuseIsReported()
    {
        final KeyLedger ledger = new KeyLedger(1, 1);
        final long t = ledger.begin(0);
        assertThrows(IllegalStateException.class, () -> ledger.begin(0), "more writers than declared");
        assertThrows(IllegalStateException.class, () -> ledger.verify(0, t), "still in flight");
        assertThrows(IllegalStateException.class, () -> ledger.acknowledged(0, t + 1), "never begun");
    }

    /**
     * Writers on a few hot keys apply each write to a register at a random moment inside its
     * interval, as a linearizable store does: the ledger must accept every final value, and
     * reject a value that an acknowledged write replaced before the final one started.
     */
    @Test
    void acceptsEveryOutcomeOfConcurrentLinearizableWriters() throws Exception
    {
        final int keys = 8;
        final int threads = 4;
        final KeyLedger ledger = new KeyLedger(keys, threads);
        final AtomicLongArray register = new AtomicLongArray(keys);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            writers.add(new Thread(() ->
            {
                try
                {
                    start.await();
                    final ThreadLocalRandom rng = ThreadLocalRandom.current();
                    for (int i = 0; i < 20_000; i++)
                    {
                        final int key = rng.nextInt(keys);
                        final long ticket = ledger.begin(key);
                        if (rng.nextBoolean())
                        {
                            Thread.yield();
                        }
                        register.set(key, ticket);
                        if (rng.nextBoolean())
                        {
                            Thread.yield();
                        }
                        ledger.acknowledged(key, ticket);
                    }
                }
                catch (final Throwable e)
                {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        writers.forEach(Thread::start);
        start.countDown();
        for (final Thread w : writers)
        {
            w.join();
        }
        assertNull(failure.get());
        for (int k = 0; k < keys; k++)
        {
            assertNull(ledger.verify(k, register.get(k)), "key " + k);
        }
        // A write acknowledged before a later one began is never an acceptable end.
        final long stale = ledger.begin(0);
        ledger.acknowledged(0, stale);
        final long last = ledger.begin(0);
        ledger.acknowledged(0, last);
        assertNotNull(ledger.verify(0, stale));
    }
}
