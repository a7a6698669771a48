package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.agrona.collections.Int2IntHashMap;
import org.junit.jupiter.api.Test;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The store against a reference map, at scale: N keys are inserted, then randomized
 * get/put/insert/update/delete run over them and over keys never inserted, each result compared
 * at once with the reference; finally every key is read back and compared. Subtables start tiny
 * relative to N (initial depth 2), so the index splits its way up while this runs.
 *
 * <p>Each thread owns the keys {@code i ≡ thread (mod threads)} and its own reference map
 * (Agrona's {@link Int2IntHashMap}: key index → version of the value, no boxing, so 10^7 keys
 * fit a test heap), so the reference is exact without ordering threads against each other.
 *
 * <p>Sizes: {@code -Ddmkv.model.keys} (default 1 000 000, over {@code local}, r = 1) and
 * {@code -Ddmkv.model.tcpKeys} (default 50 000, over {@code tcp}, r = 2); memory nodes, bucket
 * groups and index area are sized from the key count. Every phase is bounded in time by
 * {@code -Ddmkv.model.phaseSeconds} (default 120); a phase cut short says so on stdout and the
 * final scan still compares every key it reaches against the reference. A 10^7 run:
 * {@code -Ddmkv.model.keys=10000000 -Ddmkv.model.phaseSeconds=3600} (about 8 GiB of memory-node
 * memory, outside the heap).
 */
class ModelCheckTest
{
    private static final int LOCAL_KEYS = Integer.getInteger("dmkv.model.keys", 1_000_000);
    private static final int TCP_KEYS = Integer.getInteger("dmkv.model.tcpKeys", 50_000);
    /** Wall-clock budget per phase; a phase stops early (and says so) past it. */
    private static final long PHASE_BUDGET_NS = TimeUnit.SECONDS.toNanos(Long.getLong("dmkv.model.phaseSeconds", 120));
    private static final int ABSENT = -1;

    @Test
    void aMillionKeysOnLocalAgreeWithAReferenceMap() throws Exception
    {
        run("local", 1, LOCAL_KEYS, 2);
    }

    @Test
    void fiftyThousandKeysOnTcpWithTwoReplicasAgreeWithAReferenceMap() throws Exception
    {
        run("tcp", 2, TCP_KEYS, 8);
    }

    private static void run(final String transport, final int r, final int keys, final int threads) throws Exception
    {
        // 256 B objects (16 B keys and values fit the smallest class), r copies, churn, index, slack.
        final long objectBytes = (long)keys * 256 * r * 2;
        // Bucket groups so that the 4 initial subtables hold well under N keys (a subtable holds 21
        // slots per group): the index must split several times to fit them all.
        final int groups = Math.max(16, Math.min(16_384, Integer.highestOneBit(Math.max(1, keys / (4 * 21 * 2)))));
        final long indexArea = Math.min(1L << 30, Math.max(64L << 20, 256L * groups * 192 / 2));
        final int nodes = 2;
        final long region = indexArea > (192L << 20) ? 1L << 30 : 256L << 20;
        final long perNode = roundUp(Math.max(512L << 20, (objectBytes + indexArea * r) / nodes + region), region);
        final long t0 = System.nanoTime();
        try (EmbeddedCluster cluster = Fixtures.cluster(nodes, perNode, region, transport);
            KvStore kv = KvStore.open(Fixtures.store(cluster).transport(transport)
                .replication(r).blockSize(4 << 20).bucketGroups(groups).initialDepth(2).maxDepth(8)
                .indexAreaBytes(indexArea).reclaimPeriod(Duration.ofMillis(100)).build()))
        {
            final int extra = Math.max(1, keys / 10);
            final int universe = keys + extra;
            final Int2IntHashMap[] models = new Int2IntHashMap[threads];
            for (int t = 0; t < threads; t++)
            {
                models[t] = new Int2IntHashMap(universe / threads + 1, 0.65f, ABSENT);
            }
            final ExecutorService pool = Executors.newFixedThreadPool(threads);
            try
            {
                final long[] inserted = phase(pool, threads, "insert " + keys + " keys", (t, deadline) ->
                {
                    long n = 0;
                    for (int i = t; i < keys && System.nanoTime() - deadline < 0; i += threads)
                    {
                        assertTrue(kv.insert(key(i), value(i, 0)), "insert of new key " + i);
                        models[t].put(i, 0);
                        n++;
                    }
                    return n;
                });
                final long totalInserted = Arrays.stream(inserted).sum();
                final long t1 = System.nanoTime();

                final int randomOps = Math.max(10_000, keys / 2);
                final long[] ops = phase(pool, threads, randomOps + " random operations", (t, deadline) ->
                {
                    final SplittableRandom random = new SplittableRandom(7919L * t + keys);
                    final Int2IntHashMap model = models[t];
                    long n = 0;
                    for (int j = t; j < randomOps && System.nanoTime() - deadline < 0; j += threads)
                    {
                        final int i = random.nextInt(universe / threads) * threads + t;
                        randomOp(kv, model, random.nextInt(100), i, j + 1);
                        n++;
                    }
                    return n;
                });
                final long t2 = System.nanoTime();

                final long[] scanned = phase(pool, threads, "scan of " + universe + " keys", (t, deadline) ->
                {
                    final Int2IntHashMap model = models[t];
                    long n = 0;
                    for (int i = t; i < universe && System.nanoTime() - deadline < 0; i += threads)
                    {
                        final int version = model.get(i);
                        final byte[] got = kv.get(key(i));
                        if (version == ABSENT)
                        {
                            assertEquals(null, Fixtures.string(got), "key " + i + " is absent in the reference");
                        }
                        else
                        {
                            assertEquals(new String(value(i, version), StandardCharsets.UTF_8), Fixtures.string(got),
                                "key " + i);
                        }
                        n++;
                    }
                    return n;
                });
                final long t3 = System.nanoTime();
                long present = 0;
                for (final Int2IntHashMap m : models)
                {
                    present += m.size();
                }
                System.out.printf("model check %s r=%d: %d inserted in %d ms, %d random ops in %d ms, %d keys scanned"
                    + " in %d ms (%d present), %d index splits, %s%n", transport, r, totalInserted,
                    ms(t1 - t0), Arrays.stream(ops).sum(), ms(t2 - t1), Arrays.stream(scanned).sum(), ms(t3 - t2),
                    present, kv.stats().index().splits(), kv.stats().allocator().blocksOwned() + " blocks owned");
                assertTrue(totalInserted > 0 && Arrays.stream(scanned).sum() > 0);
                assertTrue(kv.stats().index().splits() > 0, "the index split its way up from 4 subtables");
            }
            finally
            {
                pool.shutdownNow();
            }
        }
    }

    /** One random operation on key {@code i}, checked against (and applied to) the reference. */
    private static void randomOp(final KvStore kv, final Int2IntHashMap model, final int dice, final int i,
        final int version)
    {
        final int current = model.get(i);
        final boolean present = current != ABSENT;
        if (dice < 30)
        {
            final byte[] got = kv.get(key(i));
            assertEquals(present ? new String(value(i, current), StandardCharsets.UTF_8) : null, Fixtures.string(got),
                "get of key " + i);
        }
        else if (dice < 50)
        {
            kv.put(key(i), value(i, version));
            model.put(i, version);
        }
        else if (dice < 65)
        {
            assertEquals(!present, kv.insert(key(i), value(i, version)), "insert of key " + i);
            if (!present)
            {
                model.put(i, version);
            }
        }
        else if (dice < 80)
        {
            assertEquals(present, kv.update(key(i), value(i, version)), "update of key " + i);
            if (present)
            {
                model.put(i, version);
            }
        }
        else
        {
            assertEquals(present, kv.delete(key(i)), "delete of key " + i);
            model.remove(i);
        }
    }

    /** Work of one thread in a phase: returns how many operations it did before its deadline. */
    private interface Work
    {
        long run(int thread, long deadlineNs) throws Exception;
    }

    private static long[] phase(final ExecutorService pool, final int threads, final String what, final Work work)
        throws Exception
    {
        final long deadline = System.nanoTime() + PHASE_BUDGET_NS;
        final List<Future<Long>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            done.add(pool.submit(() -> work.run(thread, deadline)));
        }
        final long[] counts = new long[threads];
        for (int t = 0; t < threads; t++)
        {
            // Bounded like the loops: a phase's deadline, plus the time its last operations may take.
            counts[t] = done.get(t).get(PHASE_BUDGET_NS + TimeUnit.MINUTES.toNanos(2), TimeUnit.NANOSECONDS);
        }
        if (System.nanoTime() - deadline >= 0)
        {
            System.out.printf("model check: %s stopped at its time budget after %d operations%n", what,
                Arrays.stream(counts).sum());
        }
        return counts;
    }

    private static byte[] key(final int i)
    {
        return ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(final int i, final int version)
    {
        return ("v" + i + "." + version).getBytes(StandardCharsets.UTF_8);
    }

    private static long roundUp(final long v, final long unit)
    {
        return (v + unit - 1) / unit * unit;
    }

    private static long ms(final long ns)
    {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }
}
