package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code kv bench --memory-budget}: the values it takes and the share-to-bytes estimate. */
class MemoryBudgetTest
{
    /** 20,000 records of 100..300 bytes (mean 200). */
    private static final Workload W = new Workload("b", 0.95, 0.05, 0, 0, Workload.Distribution.ZIPFIAN, 0.99,
        20_000, 100, 300, -1);

    @Test
    void aShareIsOfTheIndexCopyAndEveryValueOfOneProxysPartitions()
    {
        // index: 4 subtables of 86,016 slots, 16 B each; per record: value 200 + key 16 + 96 (cached value)
        // + key 16 + 16 (learnt key) = 344
        final long total = 4 * 86_016L * 16 + 20_000L * 344;
        assertEquals(12_385_024L, total);
        assertEquals(total, MemoryBudget.fullBytes(W, 1));
        assertEquals(total / 2, MemoryBudget.fullBytes(W, 2), "each of two proxies holds half");
        assertEquals(4_128_342L, MemoryBudget.fullBytes(W, 3), "a share rounded up");
        assertEquals(1_548_128L, MemoryBudget.parse("25%").bytes(W, 2));
        assertEquals(6_192_512L, MemoryBudget.parse("100%").bytes(W, 2));
        assertEquals(309_626L, MemoryBudget.parse(" 5% ").bytes(W, 2));
        assertEquals(15_481L, MemoryBudget.parse("0.5%").bytes(W, 4));
        final Workload big = new Workload("b", 0.95, 0.05, 0, 0, Workload.Distribution.ZIPFIAN, 0.99, 200_000, 1000,
            1000, -1);
        assertEquals(8 * 86_016L * 16 + 200_000L * (1000 + 144), MemoryBudget.fullBytes(big, 1),
            "200,000 records fill 8 subtables to under half");
    }

    @Test
    void aSizeIsTakenAsIsWhateverTheWorkload()
    {
        assertEquals(2L << 20, MemoryBudget.parse("2M").bytes(W, 2));
        assertEquals(64L << 20, MemoryBudget.parse("64MiB").bytes(W, 7));
        assertEquals(0, MemoryBudget.parse("0").bytes(W, 2), "0: no values cached");
        assertEquals("25% (1.5 MiB)", MemoryBudget.parse("25%").describe(1_548_128L));
        assertEquals("2 MiB", MemoryBudget.parse("2M").describe(2L << 20));
    }

    @Test
    void badValuesSayWhatIsExpected()
    {
        for (final String bad : new String[] {"0%", "-5%", "1001%", "lots%", "%", "2Q", "", "-1M"})
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryBudget.parse(bad), bad);
            assertTrue(e.getMessage().contains("--memory-budget"), bad + ": " + e.getMessage());
        }
    }
}
