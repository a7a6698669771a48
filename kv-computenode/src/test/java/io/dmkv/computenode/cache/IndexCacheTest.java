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
}
