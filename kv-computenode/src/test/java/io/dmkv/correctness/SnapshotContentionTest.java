package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.KvStore;
import io.dmkv.KvStats;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * FUSEE's SNAPSHOT under contention, at r = 3 and r = 5 (as many memory nodes as replicas, over
 * {@code tcp}, whose per-node frames travel in parallel so backups of one slot see competing
 * proposals in different orders):
 * <ul>
 * <li>12 threads on 6 clients hammer two keys with blind writes (puts, and updates, which take
 * no insert lock and so race in SNAPSHOT even when a put would queue on the lock of a key that
 * bypasses the index cache) until rule 3 (and at r = 5 rule 2) was seen, or a count or time
 * bound; every write must complete, rule 1 and rule 3 must have been taken and counted, and the
 * index replicas must end identical;</li>
 * <li>rule 2 needs a majority of the r−1 backups that is not all of them (r ≥ 4); a bounded run
 * at r = 5 may or may not produce it (here it usually does), so each rule is also produced
 * deterministically: before a
 * put, the test CASes some backups of the key's slot from the value the primary holds to a
 * competing proposal of its own (the largest slot value, so the real writer's value is the
 * smallest proposal), exactly what a concurrent writer that reached those backups first would
 * have done; the put must then win by rule 2 (one of four backups taken) or rule 3 (half of the
 * backups taken), count it, and repair the backups it did not get.</li>
 * </ul>
 */
@Timeout(180)
class SnapshotContentionTest
{
    private static final int STORES = 6;
    private static final int THREADS_PER_STORE = 2;
    private static final int HOT_KEYS = 2;
    /** Each thread stops after this many writes... */
    private static final int MAX_WRITES_PER_THREAD = 3_000;
    /** ...or, once the rules looked for were seen, after at least this many... */
    private static final int MIN_WRITES_PER_THREAD = 300;
    /** ...or after this long, whichever comes first. */
    private static final long BUDGET_NS = TimeUnit.SECONDS.toNanos(25);
    /** A competing proposal larger (unsigned) than any real slot value. */
    private static final long COMPETITOR = -1L;

    @ParameterizedTest(name = "r = {0}")
    @ValueSource(ints = {3, 5})
    void contendedPutsTakeEveryRuleAndLeaveIdenticalReplicas(final int r) throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(r, 16L << 20, 4L << 20, "tcp"))
        {
            final List<KvStore> stores = new ArrayList<>();
            final ExecutorService pool = Executors.newFixedThreadPool(STORES * THREADS_PER_STORE);
            try
            {
                for (int s = 0; s < STORES; s++)
                {
                    stores.add(KvStore.open(Fixtures.small(cluster, r).build()));
                }
                final long writes = hammer(stores, pool, r);
                final Totals natural = Totals.of(stores);
                System.out.printf("SNAPSHOT r=%d: %d contended writes -> %s%n", r, writes, natural);
                assertTrue(natural.rule1 > 0, natural.toString());
                assertTrue(natural.rule3 > 0, "no rule-3 decision in " + writes + " contended writes: " + natural);
                assertTrue(natural.losses > 0, natural.toString());
                assertEquals(0, natural.primaryOnly, natural.toString());
                if (r < 4)
                {
                    assertEquals(0, natural.rule2, "rule 2 cannot occur with " + (r - 1) + " backups: " + natural);
                }

                // Every key holds the last value some writer put.
                for (int k = 0; k < HOT_KEYS; k++)
                {
                    final String v = stores.get(0).get("snap" + k);
                    assertNotNull(v);
                    assertTrue(v.startsWith("t") && v.contains("-"), v);
                }

                try (Fixtures.Raw raw = new Fixtures.Raw(cluster, r))
                {
                    final KvStore writer = stores.get(1);
                    // Rule 3: half of the backups already hold a competing, larger proposal.
                    assertEquals(1, putAgainstCompetitor(raw, writer, "snap0", (r - 1) / 2, "rule3").rule3,
                        "a put that finds half of the backups taken wins by rule 3");
                    if (r >= 4)
                    {
                        // Rule 2: one backup of four taken, three (a majority) still free for the writer.
                        assertEquals(1, putAgainstCompetitor(raw, writer, "snap1", 1, "rule2").rule2,
                            "a put that gets a majority but not all backups wins by rule 2");
                    }
                    raw.assertIndexReplicasEqual();
                }
                final Totals all = Totals.of(stores);
                System.out.printf("SNAPSHOT r=%d: after the constructed proposals -> %s%n", r, all);
                assertTrue(all.rule1 > 0 && all.rule3 > 0 && (r < 4 || all.rule2 > 0), all.toString());
            }
            finally
            {
                pool.shutdownNow();
                stores.forEach(KvStore::close);
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, r))
            {
                raw.assertIndexReplicasEqual();
            }
        }
    }

    /** Puts from every thread of every store on the hot keys until the rules were seen or a bound hit. */
    private static long hammer(final List<KvStore> stores, final ExecutorService pool, final int r) throws Exception
    {
        final CountDownLatch start = new CountDownLatch(1);
        final long deadline = System.nanoTime() + BUDGET_NS;
        final AtomicLong writes = new AtomicLong();
        final AtomicBoolean failed = new AtomicBoolean();
        final List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < STORES * THREADS_PER_STORE; t++)
        {
            final int id = t;
            done.add(pool.submit(() ->
            {
                start.await();
                for (int i = 0; i < MAX_WRITES_PER_THREAD && System.nanoTime() - deadline < 0 && !failed.get(); i++)
                {
                    final KvStore kv = stores.get(id % STORES);
                    final String key = "snap" + (i % HOT_KEYS);
                    final String value = "t" + id + "-" + i;
                    try
                    {
                        if ((i & 2) == 0)
                        {
                            kv.put(key, value);
                        }
                        else
                        {
                            // An update takes no insert lock: a put of a key that bypasses the cache does,
                            // and contended puts then queue on that lock instead of racing in SNAPSHOT.
                            assertTrue(kv.update(Fixtures.utf8(key), Fixtures.utf8(value)), "update of " + key);
                        }
                    }
                    catch (final RuntimeException | AssertionError e)
                    {
                        // The first failure ends the run: the others would only pile up timeouts.
                        failed.set(true);
                        throw e;
                    }
                    writes.incrementAndGet();
                    if (i >= MIN_WRITES_PER_THREAD && i % 50 == 0)
                    {
                        final Totals now = Totals.of(stores);
                        if (now.rule3 > 0 && (r < 4 || now.rule2 > 0))
                        {
                            break;
                        }
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
        return writes.get();
    }

    /**
     * Makes {@code taken} backups of {@code key}'s slot hold a competing proposal, then puts
     * through {@code writer}; returns the change of the writer's counters.
     */
    private static Totals putAgainstCompetitor(final Fixtures.Raw raw, final KvStore writer, final String key,
        final int taken, final String label)
    {
        final long[] slot = raw.findSlot(Fixtures.utf8(key));
        assertNotNull(slot, key + " is in the index");
        final long address = slot[0];
        final long current = slot[1];
        final int r = raw.view.replication();
        for (int j = r - taken; j < r; j++)
        {
            assertEquals(current, raw.cas(address, j, current, COMPETITOR), "backup " + j + " held the primary's value");
        }
        final Totals before = Totals.of(List.of(writer));
        writer.put(key, "constructed-" + label);
        final Totals delta = Totals.of(List.of(writer)).minus(before);
        assertEquals(0, delta.losses, label + ": the writer's value is the smallest proposal, it must win: " + delta);
        assertEquals("constructed-" + label, writer.get(key));
        final long now = raw.read(address, 0);
        for (int j = 1; j < r; j++)
        {
            assertEquals(now, raw.read(address, j), label + ": backup " + j + " was repaired to the winner's value");
        }
        return delta;
    }

    /** SNAPSHOT counters summed over clients. */
    private record Totals(long rule1, long rule2, long rule3, long losses, long helps, long primaryOnly)
    {
        static Totals of(final List<KvStore> stores)
        {
            long r1 = 0;
            long r2 = 0;
            long r3 = 0;
            long lost = 0;
            long helped = 0;
            long alone = 0;
            for (final KvStore s : stores)
            {
                final KvStats.Snapshot st = s.stats().snapshot();
                r1 += st.rule1();
                r2 += st.rule2();
                r3 += st.rule3();
                lost += st.losses();
                helped += st.helps();
                alone += st.primaryOnly();
            }
            return new Totals(r1, r2, r3, lost, helped, alone);
        }

        Totals minus(final Totals o)
        {
            return new Totals(rule1 - o.rule1, rule2 - o.rule2, rule3 - o.rule3, losses - o.losses, helps - o.helps,
                primaryOnly - o.primaryOnly);
        }
    }
}
