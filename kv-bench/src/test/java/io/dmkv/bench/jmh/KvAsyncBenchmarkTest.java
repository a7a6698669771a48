package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStats;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Runs {@link KvAsyncBenchmark}'s operations untimed, with its hooks called as JMH calls them:
 * on a small embedded tcp cluster (the window's bookkeeping, the result checks, the tally), and
 * once on the two memory-node daemons the benchmark starts itself (they serve, and they are
 * gone after the teardown).
 */
@Timeout(120)
class KvAsyncBenchmarkTest
{
    private static final int KEYS = 200;
    private static final int OPS = 400;

    private static KvAsyncBenchmark.Store store(final List<String> endpoints)
    {
        final KvAsyncBenchmark.Store s = new KvAsyncBenchmark.Store();
        s.daemons = 2;
        s.transport = "tcp";
        s.r = 2;
        s.keys = KEYS;
        s.valueSize = 1024;
        s.nodeMemory = 32L << 20;
        s.endpoints = endpoints;
        return s;
    }

    private static KvAsyncBenchmark.Window window(final KvAsyncBenchmark.Store s, final int size)
    {
        final KvAsyncBenchmark.Window w = new KvAsyncBenchmark.Window();
        w.window = size;
        w.open(s);
        return w;
    }

    /** Runs {@code test} on a started store on a small embedded tcp cluster, and stops both. */
    private static void onEmbeddedCluster(final StoreTest test) throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, "tcp"))
        {
            final KvAsyncBenchmark.Store s = store(cluster.endpoints());
            s.start();
            try
            {
                test.run(s);
            }
            finally
            {
                s.stop();
            }
        }
    }

    /** A test on a started store. */
    private interface StoreTest
    {
        void run(KvAsyncBenchmark.Store s) throws Exception;
    }

    /** One measurement iteration of every benchmark method; returns the tally. */
    private static KvAsyncBenchmark.Tally iteration(final KvAsyncBenchmark.Store s, final KvAsyncBenchmark.Window w)
        throws InterruptedException
    {
        final KvAsyncBenchmark bench = new KvAsyncBenchmark();
        final KvOpsBenchmark.KeyPicker picker = new KvOpsBenchmark.KeyPicker();
        picker.seed();
        final KvAsyncBenchmark.Tally tally = new KvAsyncBenchmark.Tally();
        tally.begin(s);
        for (int i = 0; i < OPS; i++)
        {
            bench.getAsync(s, picker, w, tally);
            bench.updateAsync(s, picker, w, tally);
        }
        w.drain();
        assertArrayEquals(s.value(), bench.get(s, picker, tally), "a loaded key holds the benchmark's value");
        assertTrue(bench.update(s, picker, tally));
        tally.end(s);
        return tally;
    }

    @Test
    void aWindowOfOperationsCompletesWithCheckedResultsAndBoundsWhatIsInFlight() throws Exception
    {
        onEmbeddedCluster(s ->
        {
            final long before = s.store().stats().operations().completed();
            final KvAsyncBenchmark.Tally one = iteration(s, window(s, 1));
            KvStats stats = s.store().stats();
            assertEquals(2L * OPS + 2, stats.operations().completed() - before, "every started operation completed");
            assertEquals(0, stats.operations().inFlight(), "the drain left nothing in flight");
            assertEquals(1, stats.operations().peakInFlight(), "a window of 1 is one operation at a time");
            assertEquals(1, one.peakInFlight());
            assertTrue(one.rttPerOp() >= 1, "every operation takes a round trip: " + one.rttPerOp());

            final KvAsyncBenchmark.Tally wide = iteration(s, window(s, 32));
            stats = s.store().stats();
            assertEquals(0, stats.operations().inFlight());
            assertTrue(stats.operations().peakInFlight() <= 32, "the window bounds what is in flight: "
                + stats.operations().peakInFlight());
            assertEquals(stats.operations().peakInFlight(), wide.peakInFlight());
            assertTrue(wide.rttPerOp() >= 1, "every operation takes a round trip: " + wide.rttPerOp());
        });
    }

    /**
     * Starts one operation in a fresh window and completes it with {@code completion}: the next
     * start and the iteration's teardown must both fail the run; returns the teardown's failure.
     */
    private static IllegalStateException failure(final KvAsyncBenchmark.Store s,
        final Consumer<KvAsyncBenchmark.Window> completion) throws InterruptedException
    {
        final KvAsyncBenchmark.Window w = window(s, 4);
        w.take();
        completion.accept(w);
        assertThrows(IllegalStateException.class, w::take, "the next start fails the run");
        return assertThrows(IllegalStateException.class, w::drain, "the teardown fails the iteration");
    }

    @Test
    void aWrongResultOrAFailureFailsTheRun() throws Exception
    {
        onEmbeddedCluster(s ->
        {
            final IllegalStateException wrong = failure(s, w -> w.gotValue.accept(new byte[1024], null));
            assertTrue(wrong.getMessage().contains("not its value"), wrong.getMessage());
            final IllegalStateException notFound = failure(s, w -> w.updated.accept(Boolean.FALSE, null));
            assertTrue(notFound.getMessage().contains("returned false"), notFound.getMessage());
            final IllegalStateException failed = failure(s, w -> w.gotValue.accept(null, new IllegalStateException("boom")));
            assertTrue(failed.getMessage().contains("boom"), failed.getMessage());
        });
    }

    @Test
    void theBenchmarkStartsItsOwnDaemonsAndStopsThem() throws Exception
    {
        final KvAsyncBenchmark.Store s = store(null);
        s.start();
        final MemnodeDaemons daemons = s.daemons();
        try
        {
            assertNotNull(daemons);
            assertEquals(2, daemons.endpoints().size());
            for (final String e : daemons.endpoints())
            {
                assertTrue(e.matches("127\\.0\\.0\\.1:\\d+"), "a loopback endpoint: " + e);
            }
            assertTrue(daemons.allAlive());
            final KvAsyncBenchmark.Tally t = iteration(s, window(s, 8));
            assertTrue(t.peakInFlight() >= 1 && t.peakInFlight() <= 8, "peak " + t.peakInFlight());
        }
        finally
        {
            s.stop();
        }
        assertFalse(daemons.anyAlive(), "the teardown stopped the daemons");
    }
}
