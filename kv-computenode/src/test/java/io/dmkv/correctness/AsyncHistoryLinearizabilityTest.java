package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The history check of {@link TcpHistoryLinearizabilityTest} on the asynchronous path: several
 * clients, each with threads that keep a window of operations in flight through the *Async
 * calls, on hot keys crowded into few buckets while cold inserts split subtables. Every call is
 * recorded with its invoke instant and the instant its future completed; the checker decides key
 * by key whether some real-time order explains every result, and the index is searched for a key
 * held by two slots.
 */
@Timeout(240)
class AsyncHistoryLinearizabilityTest
{
    private static final int R = 3;
    private static final int STORES = 2;
    private static final int THREADS_PER_STORE = 2;
    private static final int WINDOW = 8;
    private static final int OPS_PER_THREAD = Integer.getInteger("dmkv.history.opsPerThread", 300);
    private static final int HOT_KEYS = 8;
    private static final long BUDGET_NS = TimeUnit.SECONDS.toNanos(30);

    @ParameterizedTest
    @ValueSource(strings = {"local", "tcp"})
    void manyOperationsInFlightPerThreadStayLinearizable(final String transport) throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(R, 48L << 20, 8L << 20, transport))
        {
            final List<KvStore> stores = new ArrayList<>();
            final ExecutorService pool = Executors.newFixedThreadPool(STORES * THREADS_PER_STORE);
            try
            {
                for (int s = 0; s < STORES; s++)
                {
                    stores.add(KvStore.open(Fixtures.small(cluster, R).bucketGroups(2).initialDepth(1).build()));
                }
                final HistoryRecorder recorder = new HistoryRecorder();
                final CountDownLatch start = new CountDownLatch(1);
                final long deadline = System.nanoTime() + BUDGET_NS;
                final List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < STORES * THREADS_PER_STORE; t++)
                {
                    final int p = t;
                    final HistoryRecorder.AsyncProcess kv = recorder.forAsyncProcess(p, stores.get(t % STORES));
                    done.add(pool.submit(() ->
                    {
                        start.await();
                        runWindow(kv, p, deadline, recorder);
                        return null;
                    }));
                }
                start.countDown();
                for (final Future<?> f : done)
                {
                    f.get(180, TimeUnit.SECONDS);
                }
                for (int s = 0; s < STORES; s++)
                {
                    final HistoryRecorder.Process kv = recorder.forProcess(100 + s, stores.get(s));
                    for (int k = 0; k < HOT_KEYS; k++)
                    {
                        kv.get("hot-" + k);
                    }
                }
                assertEquals(List.of(), recorder.failures(), "calls failed");
                final List<Op> history = recorder.history();
                final LinearizabilityChecker.Result verdict = new LinearizabilityChecker().check(history);
                if (!verdict.isLinearizable())
                {
                    System.out.println("history of " + verdict.key() + " written to "
                        + TcpHistoryLinearizabilityTest.dump(history, verdict.key()));
                }
                assertTrue(verdict.isLinearizable(), verdict.toString());
                long peak = 0;
                long splits = 0;
                for (final KvStore s : stores)
                {
                    peak = Math.max(peak, s.stats().operations().peakInFlight());
                    splits += s.stats().index().splits();
                }
                System.out.printf("async history %s: %d operations linearizable, peak %d in flight, %d splits%n",
                    transport, history.size(), peak, splits);
                assertTrue(history.size() >= 1000, "ran " + history.size() + " operations");
                try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
                {
                    for (int k = 0; k < HOT_KEYS; k++)
                    {
                        assertTrue(raw.countSlots(Fixtures.utf8("hot-" + k)) <= 1, "hot-" + k + " is in two slots");
                    }
                    raw.assertIndexReplicasEqual();
                }
            }
            finally
            {
                pool.shutdownNow();
                stores.forEach(KvStore::close);
            }
        }
    }

    /** Keeps {@link #WINDOW} calls in flight until the thread's count or the deadline runs out. */
    private static void runWindow(final HistoryRecorder.AsyncProcess kv, final int p, final long deadline,
        final HistoryRecorder recorder) throws Exception
    {
        final Random random = new Random(77L + p);
        final Semaphore window = new Semaphore(WINDOW);
        for (int i = 0; i < OPS_PER_THREAD && System.nanoTime() - deadline < 0 && !recorder.hasFailures(); i++)
        {
            if (!window.tryAcquire(60, TimeUnit.SECONDS))
            {
                throw new AssertionError("no call completed for 60 s");
            }
            final String key = "hot-" + random.nextInt(HOT_KEYS);
            final String value = "p" + p + "-" + i;
            final int dice = random.nextInt(100);
            final CompletableFuture<?> f;
            if (dice < 10)
            {
                f = kv.insert("cold-" + p + "-" + i, value);
            }
            else if (dice < 35)
            {
                f = kv.get(key);
            }
            else if (dice < 50)
            {
                f = kv.put(key, value);
            }
            else if (dice < 70)
            {
                f = kv.insert(key, value);
            }
            else if (dice < 85)
            {
                f = kv.update(key, value);
            }
            else
            {
                f = kv.delete(key);
            }
            f.whenComplete((v, e) -> window.release());
        }
        if (!window.tryAcquire(WINDOW, 60, TimeUnit.SECONDS))
        {
            throw new AssertionError("calls still in flight after 60 s");
        }
    }
}
