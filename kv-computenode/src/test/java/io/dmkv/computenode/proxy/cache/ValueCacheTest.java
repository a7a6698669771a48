package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The compute node's value cache: leases by its own clock, invalidations, and its byte budget. */
class ValueCacheTest
{
    private final AtomicLong now = new AtomicLong(5_000_000_000L);

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aValueIsServedUntilItsLeaseEndsAndOnlyForTheProxyThatGrantedIt()
    {
        final ValueCache c = new ValueCache(now::get, 1 << 20);
        c.install(bytes("k"), 42, bytes("v1"), c.stamp(42), now.get() + 1_000, "cn-1", "h:1");
        assertArrayEquals(bytes("v1"), c.get(bytes("k"), 42, "cn-1"));
        assertNull(c.get(bytes("k"), 42, "cn-2"), "the partition moved to another proxy");
        assertNull(c.get(bytes("other"), 42, "cn-1"), "same hash, another key");
        now.addAndGet(999);
        assertArrayEquals(bytes("v1"), c.get(bytes("k"), 42, "cn-1"));
        now.addAndGet(1);
        assertNull(c.get(bytes("k"), 42, "cn-1"), "the lease ended");
        assertEquals(0, c.bytes());
    }

    @Test
    void aFillLookedUpBeforeAnInvalidationIsNotInstalledAfterIt()
    {
        final ValueCache c = new ValueCache(now::get, 1 << 20);
        final long stamp = c.stamp(42);
        c.invalidate(new long[] {42});
        c.install(bytes("k"), 42, bytes("old"), stamp, now.get() + 1_000, "cn-1", "h:1");
        assertNull(c.get(bytes("k"), 42, "cn-1"));
        assertEquals(1, c.stats().staleFills());
        c.install(bytes("k"), 42, bytes("new"), c.stamp(42), now.get() + 1_000, "cn-1", "h:1");
        c.invalidate(new long[] {42});
        assertNull(c.get(bytes("k"), 42, "cn-1"), "invalidated after it was installed");
    }

    @Test
    void droppingAProxyDropsOnlyWhatItGranted()
    {
        final ValueCache c = new ValueCache(now::get, 1 << 20);
        c.install(bytes("a"), 1, bytes("1"), c.stamp(1), now.get() + 1_000, "cn-1", "h:1");
        c.install(bytes("b"), 2, bytes("2"), c.stamp(2), now.get() + 1_000, "cn-2", "h:2");
        c.dropEndpoint("h:1");
        assertNull(c.get(bytes("a"), 1, "cn-1"));
        assertArrayEquals(bytes("2"), c.get(bytes("b"), 2, "cn-2"));
    }

    @Test
    void theBudgetHoldsUnderManyThreadsFillingIt() throws Exception
    {
        final long budget = 64 * 4096;
        final ValueCache c = new ValueCache(now::get, budget);
        final List<Thread> threads = new ArrayList<>();
        final AtomicLong over = new AtomicLong();
        for (int t = 0; t < 6; t++)
        {
            threads.add(new Thread(() ->
            {
                final ThreadLocalRandom r = ThreadLocalRandom.current();
                for (int i = 0; i < 20_000; i++)
                {
                    final long h = r.nextLong(5_000);
                    if (r.nextInt(10) == 0)
                    {
                        c.invalidate(new long[] {h});
                    }
                    else
                    {
                        c.install(bytes("key-" + h), h, new byte[r.nextInt(10, 400)], c.stamp(h), now.get() + 1_000_000,
                            "cn-1", "h:1");
                    }
                    if (c.bytes() > budget)
                    {
                        over.incrementAndGet();
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (final Thread t : threads)
        {
            t.join();
        }
        assertEquals(0, over.get(), "accounted bytes never passed the budget");
        final ValueCache.Stats s = c.stats();
        assertTrue(s.evictions() > 0, "the budget made it evict: " + s);
        assertTrue(s.bytes() > budget / 2, "and it is used: " + s);
        long sum = 0;
        for (long h = 0; h < 5_000; h++)
        {
            final byte[] v = c.get(bytes("key-" + h), h, "cn-1");
            sum += v == null ? 0 : v.length + ("key-" + h).length() + ValueCache.ENTRY_OVERHEAD;
        }
        assertEquals(s.bytes(), sum, "the accounted bytes are the entries' bytes");
    }

    @Test
    void anEntryReadSinceTheClockHandPassedOutlivesOneThatWasNot()
    {
        // One stripe's budget fits two entries of this size (64 stripes).
        final int size = 400;
        final ValueCache c = new ValueCache(now::get, 64L * (2 * (size + 1 + ValueCache.ENTRY_OVERHEAD) + 10));
        // Hashes 0, 64 and 128 fall in one stripe.
        c.install(bytes("a"), 0, new byte[size], c.stamp(0), now.get() + 1_000, "cn-1", "h:1");
        c.install(bytes("b"), 64, new byte[size], c.stamp(64), now.get() + 1_000, "cn-1", "h:1");
        assertTrue(c.get(bytes("a"), 0, "cn-1") != null, "a is read");
        c.install(bytes("c"), 128, new byte[size], c.stamp(128), now.get() + 1_000, "cn-1", "h:1");
        assertTrue(c.get(bytes("a"), 0, "cn-1") != null, "the read entry got a second chance");
        assertNull(c.get(bytes("b"), 64, "cn-1"), "the unread one was evicted");
        assertTrue(c.get(bytes("c"), 128, "cn-1") != null);
        assertEquals(1, c.stats().evictions());
    }

    /**
     * Lookups take no lock: a checker of 4 readers against a writer that installs increasing
     * versions of a few keys and invalidates each before the next. No lookup that starts after an
     * invalidation returned may see the version it invalidated.
     */
    @Test
    void noLookupSeesAValueAfterItsInvalidationReturned() throws Exception
    {
        final ValueCache c = new ValueCache(now::get, 1 << 20);
        final int keys = 4;
        final java.util.concurrent.atomic.AtomicLongArray dropped = new java.util.concurrent.atomic.AtomicLongArray(keys);
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final AtomicLong violations = new AtomicLong();
        final AtomicLong hits = new AtomicLong();
        final List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            readers.add(new Thread(() ->
            {
                final ThreadLocalRandom r = ThreadLocalRandom.current();
                for (long i = 0; !stop.get(); i++)
                {
                    if ((i & 63) == 0)
                    {
                        // Leave the writer room on a busy machine.
                        Thread.yield();
                    }
                    final int k = r.nextInt(keys);
                    final long floor = dropped.get(k);
                    final byte[] v = c.get(bytes("key-" + k), k, "cn-1");
                    if (v != null)
                    {
                        hits.incrementAndGet();
                        if (java.nio.ByteBuffer.wrap(v).getLong() <= floor)
                        {
                            violations.incrementAndGet();
                        }
                    }
                }
            }));
        }
        readers.forEach(Thread::start);
        try
        {
            for (long version = 1; version <= 10_000; version++)
            {
                final int k = (int)(version % keys);
                c.install(bytes("key-" + k), k, java.nio.ByteBuffer.allocate(8).putLong(version).array(), c.stamp(k),
                    now.get() + 1_000_000, "cn-1", "h:1");
                if (version % 3 == 0)
                {
                    Thread.yield();
                }
                c.invalidate(new long[] {k});
                dropped.set(k, version);
            }
        }
        finally
        {
            stop.set(true);
            for (final Thread t : readers)
            {
                t.join();
            }
        }
        assertEquals(0, violations.get(), "lookups that saw an invalidated value");
        assertTrue(hits.get() > 0, "the readers saw cached values at all");
    }
}
