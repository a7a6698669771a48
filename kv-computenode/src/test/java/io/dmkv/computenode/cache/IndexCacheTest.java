package io.dmkv.computenode.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IndexCacheTest
{
    @Test
    void remembersWhereAKeyIsUntilRemoved()
    {
        final IndexCache cache = new IndexCache(1024, 0.1);
        assertEquals(0, cache.slotAddress(42));
        cache.put(42, 0x1000, 0xABC);
        assertEquals(0x1000, cache.slotAddress(42));
        assertEquals(0xABC, cache.slotValue(42));
        cache.remove(42);
        assertEquals(0, cache.slotAddress(42));
    }

    @Test
    void aKeyWhoseCachedValueIsOftenStaleBypassesTheCache()
    {
        final IndexCache cache = new IndexCache(1024, 0.1);
        cache.put(7, 0x2000, 1);
        for (int i = 0; i < 9; i++)
        {
            cache.hit(7);
        }
        cache.miss(7);
        assertFalse(cache.isBypassed(7), "10% misses is at the threshold, not above it");
        cache.miss(7);
        assertTrue(cache.isBypassed(7), "2 misses in 11 lookups passes 0.1");
        assertEquals(0, cache.slotAddress(7), "a bypassed key is served without the cache");
        cache.put(8, 0x3000, 2);
        assertEquals(0x3000, cache.slotAddress(8), "other keys are unaffected");
    }

    @Test
    void twoKeysOfOneSetAreBothCachedAndAThirdEvictsTheLessHitOne()
    {
        final IndexCache cache = twoKeysInOneSet();
        assertEquals(0x100, cache.slotAddress(1));
        assertEquals(11, cache.slotValue(1));
        assertEquals(0x200, cache.slotAddress(3));
        assertEquals(22, cache.slotValue(3));
        cache.hit(1);
        cache.put(5, 0x300, 33);
        assertEquals(0x100, cache.slotAddress(1), "the key with hits stays");
        assertEquals(0, cache.slotAddress(3), "the key without hits was evicted");
        assertEquals(0, cache.slotValue(3));
        assertEquals(0x300, cache.slotAddress(5));
        assertEquals(33, cache.slotValue(5));
        cache.put(3, 0x200, 22);
        assertEquals(0x200, cache.slotAddress(3), "back, in the way of the key with fewer hits");
        assertEquals(0, cache.slotAddress(5));
        assertEquals(0x100, cache.slotAddress(1));
    }

    @Test
    void aRemovedKeysWayIsTakenFirstAndItsCountsStartOver()
    {
        final IndexCache cache = twoKeysInOneSet();
        for (int i = 0; i < 20; i++)
        {
            cache.hit(3);
            cache.miss(1);
        }
        assertTrue(cache.isBypassed(1));
        cache.remove(3);
        cache.put(5, 0x300, 33);
        assertEquals(0x300, cache.slotAddress(5), "took the removed key's way, although that key had more hits");
        assertEquals(0, cache.slotAddress(1), "the other key still bypasses the cache");
        assertFalse(cache.isBypassed(5), "a new key starts with no misses");
    }

    /** Capacity 2 is one set of two ways, which every hash maps to: keys 1 and 3 fill it. */
    private static IndexCache twoKeysInOneSet()
    {
        final IndexCache cache = new IndexCache(2, 0.1);
        cache.put(1, 0x100, 11);
        cache.put(3, 0x200, 22);
        return cache;
    }

    @Test
    void keysOfDifferentSetsDoNotEvictEachOther()
    {
        final IndexCache cache = new IndexCache(1024, 0.1);
        for (long h = 1; h <= 512; h++)
        {
            cache.put(h, 0x1000 + h, h);
        }
        for (long h = 1; h <= 512; h++)
        {
            assertEquals(0x1000 + h, cache.slotAddress(h), "hash " + h);
        }
    }

    @Test
    void disabledCacheCachesNothingAndBadSettingsAreRefused()
    {
        final IndexCache off = new IndexCache(0, 0.1);
        off.put(5, 0x100, 1);
        assertEquals(0, off.slotAddress(5));
        assertThrows(IllegalArgumentException.class, () -> new IndexCache(-1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new IndexCache(10, 1.5));
    }

    /**
     * Three threads put their own key, over and over, into a cache of one set (two ways), so their
     * puts race on one way; after each put a thread looks its key up. Every answer must be the
     * thread's own slot and value (or nothing): an entry whose hash is one key's and whose slot is
     * another's would make an update write one key's object into the other key's slot.
     */
    @Test
    void entriesTornByRacingPutsOfOtherKeysAreNeverHandedOut() throws Exception
    {
        final IndexCache cache = new IndexCache(2, 1.0); // one set: every key shares it
        final int threads = 3;
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        final java.util.concurrent.atomic.AtomicLong torn = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong checks = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
        final java.util.List<Thread> all = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final long key = t + 1;
            final Thread th = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (final Exception e)
                {
                    throw new IllegalStateException(e);
                }
                for (long i = 1; i <= 2_000_000 && System.nanoTime() < deadline; i++)
                {
                    // A slot of this key names the key in its top bits; its value is derived from it.
                    final long address = key << 48 | i;
                    cache.put(key, address, ~address);
                    final long seen = cache.slotAddress(key);
                    final long value = cache.slotValue(key);
                    // (The slot and the value may come from two puts of this key: both are its own.)
                    if (seen != 0 && (seen >>> 48 != key || value != 0 && ~value >>> 48 != key))
                    {
                        torn.incrementAndGet();
                    }
                    checks.incrementAndGet();
                }
            }, "cache-" + t);
            all.add(th);
            th.start();
        }
        for (final Thread th : all)
        {
            th.join();
        }
        assertTrue(checks.get() > 100_000, "the threads looked up " + checks.get() + " times");
        assertEquals(0, torn.get(), "look-ups that returned another key's slot or value, of " + checks.get());
    }
}
