package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Several clients over {@code tcp} (3 memory nodes, r = 3, so SNAPSHOT has two backups and its
 * rule 3 is in play) hammer a few hot keys with a mix of get/put/insert/update/delete, every
 * written value unique, each call recorded with its invoke and response instants; the
 * {@link LinearizabilityChecker} then decides, key by key, whether some order of the calls that
 * respects real time explains every result. After each round the index is also searched for a
 * key held by two slots (two INSERTs of one key that both landed).
 *
 * <p>Two shapes: hot keys while cold inserts keep splitting subtables (the split fence and
 * re-apply paths run under the checker), and hot keys crowded into one bucket group (inserts and
 * deletes of different keys race for the same slots, clients' index caches go stale).
 */
@Timeout(240)
class TcpHistoryLinearizabilityTest
{
    private static final int R = 3;
    private static final int STORES = 4;
    private static final int THREADS_PER_STORE = 2;
    /** Operations per thread per round: 8 threads x 250 = 2000 per round. */
    private static final int OPS_PER_THREAD = Integer.getInteger("dmkv.history.opsPerThread", 250);
    private static final int ROUNDS = Integer.getInteger("dmkv.history.rounds", 3);
    /** Each round stops early (with fewer operations, still checked) after this long. */
    private static final long ROUND_BUDGET_NS = TimeUnit.SECONDS.toNanos(20);

    /** How a run is shaped: index geometry, hot keys, share of cold inserts (percent). */
    private record Shape(int bucketGroups, int initialDepth, int hotKeys, int coldPercent)
    {
    }

    /*
     * Hot keys contended while cold inserts split the subtables under them: the split races of
     * docs/index-split.md (stranded writes, losers whose slot a split emptied, insert locks
     * across a header rewrite) all happen here; SplitRacesTest holds each one deterministically.
     */
    @Test
    void hotKeysStayLinearizableWhileColdInsertsSplitSubtables() throws Exception
    {
        // 4 bucket groups per subtable (84 slots): the cold inserts split subtables every few dozen keys.
        final long splits = run(new Shape(4, 1, 3, 10));
        assertTrue(splits > 0, "the cold inserts split subtables while hot keys were contended");
    }

    @Test
    void hotKeysCrowdedIntoOneBucketGroupStayLinearizable() throws Exception
    {
        // One subtable of one bucket group: every key competes for the same 21 slots.
        run(new Shape(1, 0, 6, 0));
    }

    /** Runs the rounds; returns the index splits the stores made. */
    private static long run(final Shape shape) throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(R, 48L << 20, 8L << 20, "tcp"))
        {
            final List<KvStore> stores = new ArrayList<>();
            final ExecutorService pool = Executors.newFixedThreadPool(STORES * THREADS_PER_STORE);
            long splits = 0;
            try
            {
                for (int s = 0; s < STORES; s++)
                {
                    stores.add(KvStore.open(Fixtures.small(cluster, R).bucketGroups(shape.bucketGroups())
                        .initialDepth(shape.initialDepth()).build()));
                }
                int totalOps = 0;
                for (int round = 0; round < ROUNDS; round++)
                {
                    final HistoryRecorder recorder = new HistoryRecorder();
                    runRound(shape, round, stores, pool, recorder);
                    final List<Op> history = recorder.history();
                    totalOps += history.size();
                    assertTrue(recorder.failures().isEmpty(), "calls failed: " + recorder.failures());
                    final LinearizabilityChecker.Result verdict = new LinearizabilityChecker().check(history);
                    if (!verdict.isLinearizable())
                    {
                        System.out.println("history of " + verdict.key() + " written to " + dump(history, verdict.key()));
                    }
                    assertTrue(verdict.isLinearizable(), "round " + round + ": " + verdict);
                    try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
                    {
                        for (int k = 0; k < shape.hotKeys(); k++)
                        {
                            final String key = hotKey(round, k);
                            assertTrue(raw.countSlots(Fixtures.utf8(key)) <= 1,
                                key + " is held by more than one slot: two inserts of it both landed");
                        }
                    }
                }
                for (final KvStore s : stores)
                {
                    splits += s.stats().index().splits();
                }
                System.out.printf("history %s: %d operations in %d rounds linearizable, %d splits%n", shape, totalOps,
                    ROUNDS, splits);
                assertTrue(totalOps >= 1000, "ran " + totalOps + " operations");
            }
            finally
            {
                pool.shutdownNow();
                stores.forEach(KvStore::close);
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
            {
                raw.assertIndexReplicasEqual();
            }
            return splits;
        }
    }

    /** Writes the operations on {@code key} in invocation order, for a human to read; returns the file. */
    static Path dump(final List<Op> history, final String key) throws IOException
    {
        final Path file = Path.of("target", "history-" + key + ".txt");
        final List<String> lines = history.stream().filter(o -> o.key().equals(key))
            .sorted(Comparator.comparingLong(Op::invokeNs)).map(Op::toString).toList();
        Files.createDirectories(file.getParent());
        Files.write(file, lines);
        return file.toAbsolutePath();
    }

    private static String hotKey(final int round, final int k)
    {
        return "hot-" + round + "-" + k;
    }

    private static void runRound(final Shape shape, final int round, final List<KvStore> stores,
        final ExecutorService pool, final HistoryRecorder recorder) throws Exception
    {
        final int threads = STORES * THREADS_PER_STORE;
        final CountDownLatch start = new CountDownLatch(1);
        final long deadline = System.nanoTime() + ROUND_BUDGET_NS;
        final List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int p = t;
            final HistoryRecorder.Process kv = recorder.forProcess(p, stores.get(t % STORES));
            done.add(pool.submit(() ->
            {
                final Random random = new Random(31L * round + p + 1000L * shape.hotKeys());
                start.await();
                // Bounded by count and time; a failed call (a timeout) ends the round at once.
                for (int i = 0; i < OPS_PER_THREAD && System.nanoTime() - deadline < 0 && !recorder.hasFailures(); i++)
                {
                    final String key = hotKey(round, random.nextInt(shape.hotKeys()));
                    final String value = "p" + p + "-" + i;
                    final int dice = random.nextInt(100);
                    if (dice < shape.coldPercent())
                    {
                        // A fresh cold key: grows the index, so subtables split under the hot keys.
                        final String cold = "cold-" + round + "-" + p + "-" + i;
                        assertTrue(kv.insert(cold, value), "insert of the fresh key " + cold + " returned false");
                    }
                    else if (dice < 30)
                    {
                        kv.get(key);
                    }
                    else if (dice < 45)
                    {
                        kv.put(key, value);
                    }
                    else if (dice < 65)
                    {
                        kv.insert(key, value);
                    }
                    else if (dice < 80)
                    {
                        kv.update(key, value);
                    }
                    else
                    {
                        kv.delete(key);
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (final Future<?> f : done)
        {
            f.get(120, TimeUnit.SECONDS);
        }
        // A last read of every hot key by every client, after all writes finished.
        for (int s = 0; s < stores.size(); s++)
        {
            final HistoryRecorder.Process kv = recorder.forProcess(100 + s, stores.get(s));
            for (int k = 0; k < shape.hotKeys(); k++)
            {
                kv.get(hotKey(round, k));
            }
        }
        assertEquals(0, recorder.failures().size(), () -> "calls failed: " + recorder.failures());
    }
}
