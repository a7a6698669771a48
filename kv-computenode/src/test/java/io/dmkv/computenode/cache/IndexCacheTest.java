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
    void collidingKeysNeverReturnEachOthersEntries()
    {
        final IndexCache cache = new IndexCache(2, 0.1);
        cache.put(1, 0x100, 11);
        cache.put(3, 0x200, 22);
        assertEquals(0, cache.slotAddress(1), "evicted by the second key, which maps to the same entry");
        assertEquals(0x200, cache.slotAddress(3));
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
