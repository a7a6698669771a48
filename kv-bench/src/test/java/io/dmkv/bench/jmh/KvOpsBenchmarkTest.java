package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs every {@link KvOpsBenchmark} operation (untimed, hooks called as JMH calls them) on dmkv
 * with r = 1 and r = 3 and on the map, and checks that each does what it claims: the measured
 * call succeeds, the hooks keep the store at its size and notice a call that did nothing, and
 * the costs count only measured calls.
 */
@Timeout(120)
class KvOpsBenchmarkTest
{
    private static final int KEYS = 200;
    private static final int VALUE = 100;

    private static KvOpsBenchmark.Store started(final int r)
    {
        final KvOpsBenchmark.Store s = new KvOpsBenchmark.Store();
        s.r = r;
        s.transport = "local";
        s.keys = KEYS;
        s.valueSize = VALUE;
        s.nodeMemory = 32L << 20;
        s.start();
        return s;
    }

    private static byte[] lookup(final KvOpsBenchmark.Store s, final String key)
    {
        return s.store() != null ? s.store().get(key.getBytes(StandardCharsets.UTF_8)) : s.map().get(key);
    }

    private static KvOpsBenchmark.OpCosts costs()
    {
        final KvOpsBenchmark.OpCosts c = new KvOpsBenchmark.OpCosts();
        c.clear();
        return c;
    }

    @ParameterizedTest(name = "r = {0}")
    @ValueSource(ints = {1, 3, 0})
    void everyOperationSucceedsAndTheHooksKeepTheStoreAtItsSize(final int r)
    {
        final KvOpsBenchmark bench = new KvOpsBenchmark();
        final KvOpsBenchmark.KeyPicker picker = new KvOpsBenchmark.KeyPicker();
        picker.seed();
        final KvOpsBenchmark.Store s = started(r);
        try
        {
            final KvOpsBenchmark.OpCosts costs = costs();
            for (int i = 0; i < 3; i++)
            {
                assertArrayEquals(s.value(), bench.get(s, picker, costs), "a loaded key holds the benchmark's value");
                final KvOpsBenchmark.Destination into = new KvOpsBenchmark.Destination();
                into.buffer.position(5);  // the benchmark clears it first
                assertEquals(s.value().length, bench.getInto(s, picker, into, costs));
                into.buffer.flip();
                final byte[] copied = new byte[into.buffer.remaining()];
                into.buffer.get(copied);
                assertArrayEquals(s.value(), copied, "getInto copies the value into the thread's buffer from its start");
                assertTrue(bench.update(s, picker, costs));

                final KvOpsBenchmark.FreshKey fresh = new KvOpsBenchmark.FreshKey();
                fresh.pick(s);
                assertNull(lookup(s, fresh.string));
                assertTrue(bench.insert(s, fresh, costs));
                assertNotNull(lookup(s, fresh.string), "the measured insert stored the key");
                fresh.remove();
                assertNull(lookup(s, fresh.string), "the hook deleted it again");

                final KvOpsBenchmark.PresentKey present = new KvOpsBenchmark.PresentKey();
                present.insert(s);
                assertNotNull(lookup(s, present.string), "the hook inserted the key");
                assertTrue(bench.delete(s, present, costs));
                present.check();
                assertNull(lookup(s, present.string));
            }
            if (r == 0)
            {
                assertEquals(KEYS, s.map().size());
                assertEquals(0, costs.rttPerOp());
            }
            else
            {
                assertTrue(costs.rttPerOp() >= 1, "every measured call takes a round trip: " + costs.rttPerOp());
                assertTrue(costs.verbsPerOp() >= costs.rttPerOp());
                assertTrue(costs.bytesOutPerOp() > 0 && costs.bytesInPerOp() > 0);
            }
        }
        finally
        {
            s.stop();
        }
    }

    @ParameterizedTest(name = "r = {0}")
    @ValueSource(ints = {1, 0})
    void theHooksFailTheRunWhenAMeasuredCallDidNothing(final int r)
    {
        final KvOpsBenchmark bench = new KvOpsBenchmark();
        final KvOpsBenchmark.KeyPicker picker = new KvOpsBenchmark.KeyPicker();
        picker.seed();
        final KvOpsBenchmark.Store s = started(r);
        try
        {
            final KvOpsBenchmark.PresentKey present = new KvOpsBenchmark.PresentKey();
            present.insert(s);
            assertTrue(bench.delete(s, present, costs()));
            assertFalse(bench.delete(s, present, costs()), "the key is gone");
            assertThrows(IllegalStateException.class, present::check);

            final KvOpsBenchmark.FreshKey fresh = new KvOpsBenchmark.FreshKey();
            fresh.pick(s);
            assertThrows(IllegalStateException.class, fresh::remove, "nothing was inserted");
        }
        finally
        {
            s.stop();
        }
    }

    @ParameterizedTest(name = "r = {0}")
    @ValueSource(ints = {1, 3})
    void aGetCostsOneRoundTripOnceTheIndexCacheIsWarm(final int r)
    {
        final KvOpsBenchmark bench = new KvOpsBenchmark();
        final KvOpsBenchmark.KeyPicker picker = new KvOpsBenchmark.KeyPicker();
        picker.seed();
        final KvOpsBenchmark.Store s = started(r);
        try
        {
            final KvOpsBenchmark.OpCosts warm = costs();
            for (int i = 0; i < KEYS * 20; i++)
            {
                bench.get(s, picker, warm);
            }
            final KvOpsBenchmark.OpCosts costs = costs();
            for (int i = 0; i < 100; i++)
            {
                assertEquals(VALUE, bench.get(s, picker, costs).length);
            }
            assertEquals(1.0, costs.rttPerOp(), 0.05, "a cached get reads buckets and object in one batch");
        }
        finally
        {
            s.stop();
        }
    }
}
