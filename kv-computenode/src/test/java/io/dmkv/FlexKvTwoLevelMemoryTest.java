package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.proxy.TwoLevelMemory;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The proxy's two-level memory (docs/flexkv.md §8): under a workload whose values are several
 * times the budget, the accounted bytes never pass it, the hottest partition keeps its values,
 * a read of a level-1 key answers with no verb at all, and writes through this proxy and
 * through another client are read back at once.
 */
@Timeout(180)
class FlexKvTwoLevelMemoryTest
{
    private static final int P = 8;
    private static final long BUDGET = 512 << 10;
    private static final int KEYS = 600;

    @Test
    void theBudgetHoldsTheHottestPartitionKeepsItsValuesAndLevelOneReadsCostNoVerb()
    {
        final byte[] big = new byte[2000];
        Arrays.fill(big, (byte)'x');
        final String value = new String(big, StandardCharsets.UTF_8);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 12L << 20, "local");
            KvStore proxy = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyPeriod(Duration.ofHours(1)).proxyMemoryBudget(BUDGET).build());
            KvStore other = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            final TwoLevelMemory memory = proxy.flexkv().memory();
            FlexKvTest.await("the proxy serves every partition", () -> proxy.flexkv().index().served().size() == P);
            final List<String> keys = new ArrayList<>();
            final int[] partition = new int[KEYS];
            for (int i = 0; i < KEYS; i++)
            {
                keys.add("m" + i);
                partition[i] = KeyHash.partition(KeyHash.hash(keys.get(i).getBytes(StandardCharsets.UTF_8)), 3);
                assertTrue(other.insert(keys.get(i), value + i));
            }
            for (int round = 0; round < 6; round++)
            {
                for (int i = 0; i < KEYS; i++)
                {
                    // Partition 0 is read 4 times as often as any other.
                    for (int n = 0; n < (partition[i] == 0 ? 4 : 1); n++)
                    {
                        assertEquals(value + i, proxy.get(keys.get(i)), keys.get(i));
                    }
                    assertTrue(memory.accounted() <= BUDGET, "accounted " + memory.accounted() + " > " + BUDGET);
                }
                proxy.flexkv().hotness().tick();
                assertTrue(memory.accounted() <= BUDGET, "after a period: " + memory.stats());
            }
            final TwoLevelMemory.Stats s = memory.stats();
            assertTrue(s.indexBytes() > 0 && s.indexBytes() < BUDGET / 2, "the index copies fit: " + s);
            assertTrue(s.valueBytes() > BUDGET / 4, "values fill level 1: " + s);
            assertTrue((long)KEYS * value.length() > 2 * BUDGET, "the values are larger than the budget");
            assertTrue(memory.peak() <= BUDGET, "peak " + memory.peak() + ": " + s);
            assertTrue(memory.levelOne(0), "the hottest partition is in level 1: " + s);
            assertTrue(s.hits() > 0 && s.demotions() > 0, "level 1 answered reads and demoted colder partitions: " + s);
            int notLevelOne = 0;
            for (int p = 0; p < P; p++)
            {
                notLevelOne += memory.levelOne(p) ? 0 : 1;
            }
            assertTrue(notLevelOne > 0, "some partitions stay in level 2: " + s);

            final int k = firstIn(partition, 0);
            assertEquals(value + k, proxy.get(keys.get(k)));
            final long readsBefore = proxy.counters().reads();
            final long hitsBefore = memory.stats().hits();
            for (int n = 0; n < 50; n++)
            {
                assertEquals(value + k, proxy.get(keys.get(k)));
            }
            assertEquals(0, proxy.counters().reads() - readsBefore, "a level-1 read costs no READ");
            assertEquals(50, memory.stats().hits() - hitsBefore);

            other.put(keys.get(k), "from the other client");
            assertEquals("from the other client", proxy.get(keys.get(k)), "a write through the proxy drops the value");
            assertEquals("from the other client", proxy.get(keys.get(k)));
            proxy.put(keys.get(k), "from the proxy");
            assertEquals("from the proxy", proxy.get(keys.get(k)));
            assertTrue(proxy.delete(keys.get(k)));
            assertEquals(null, proxy.get(keys.get(k)));
            assertTrue(memory.accounted() <= BUDGET);
        }
    }

    /**
     * Another compute node's lookup of a key whose value the proxy holds in level 1 is answered with
     * the value: no READ; the value it caches is invalidated by a later write as any other.
     */
    @Test
    void aRemoteLookupOfALevelOneKeyCarriesTheValueAndSparesTheRead()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 12L << 20, "local");
            KvStore proxy = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyPeriod(Duration.ofHours(1)).build());
            KvStore other = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxy serves every partition", () -> proxy.flexkv().index().served().size() == P);
            for (int i = 0; i < 40; i++)
            {
                assertTrue(other.insert("lv" + i, "value " + i));
                assertEquals("value " + i, proxy.get("lv" + i));
            }
            // A period with these reads puts their partitions in level 1; the proxy's reads then keep the values.
            proxy.flexkv().hotness().tick();
            for (int i = 0; i < 40; i++)
            {
                assertEquals("value " + i, proxy.get("lv" + i));
            }
            assertEquals("value 0", other.get("lv0"), "opens the connection to the proxy");
            // The test thread's own verbs: a store-wide count would also see background READs (block reuse).
            final long verbs = io.dmkv.rdma.ThreadCounters.current().verbs;
            final long values = other.flexkv().client().stats().values();
            for (int i = 1; i < 40; i++)
            {
                assertEquals("value " + i, other.get("lv" + i));
            }
            assertEquals(39, other.flexkv().client().stats().values() - values, "every answer carried its value: "
                + other.flexkv().client().stats());
            assertEquals(0, io.dmkv.rdma.ThreadCounters.current().verbs - verbs, "no READ of an object");
            assertEquals("value 7", other.get("lv7"), "cached");
            proxy.put("lv7", "new");
            final long beforeWrites = other.flexkv().client().stats().values();
            assertEquals("new", other.get("lv7"), "the write invalidated the cached value");
            assertEquals("new", proxy.get("lv7"));
            // A write carries its value to level 1, from the proxy's own node or from another one:
            // the next lookup of the key is answered with it (no READ).
            for (int i = 8; i < 12; i++)
            {
                other.put("lv" + i, "written by the other node " + i);
                assertEquals("written by the other node " + i, other.get("lv" + i));
            }
            assertEquals(5, other.flexkv().client().stats().values() - beforeWrites,
                "every lookup after a write was answered with the written value: " + other.flexkv().client().stats());
            assertEquals("written by the other node 9", proxy.get("lv9"));
        }
    }

    @Test
    void concurrentWritesThroughTheProxyAndAnotherClientNeverLeaveAStaleValueInLevelOne() throws Exception
    {
        final int hotKeys = 8;
        final int coldKeys = 400;
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 12L << 20, "local");
            KvStore proxy = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyPeriod(Duration.ofHours(1)).proxyMemoryBudget(BUDGET).build());
            KvStore other = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxy serves every partition", () -> proxy.flexkv().index().served().size() == P);
            final String pad = "y".repeat(1500);
            for (int k = 0; k < hotKeys + coldKeys; k++)
            {
                assertTrue(other.insert("c" + k, "0|" + pad));
            }
            final java.util.concurrent.atomic.AtomicLongArray acked = new java.util.concurrent.atomic.AtomicLongArray(hotKeys);
            final java.util.concurrent.atomic.AtomicLongArray started = new java.util.concurrent.atomic.AtomicLongArray(hotKeys);
            final java.util.Queue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            final long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            final List<Thread> threads = new ArrayList<>();
            // Two writers (keys 0..3 through the proxy, 4..7 through the other client), three readers
            // through the proxy that also read cold keys so partitions are promoted and demoted.
            for (int w = 0; w < 2; w++)
            {
                final KvStore via = w == 0 ? proxy : other;
                final int first = w * hotKeys / 2;
                threads.add(new Thread(() ->
                {
                    for (int n = 0; n < 20_000 && System.nanoTime() < deadline; n++)
                    {
                        final int k = first + n % (hotKeys / 2);
                        final long v = started.incrementAndGet(k);
                        via.put("c" + k, v + "|" + pad);
                        acked.set(k, v);
                    }
                }));
            }
            for (int r = 0; r < 3; r++)
            {
                threads.add(new Thread(() ->
                {
                    final java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
                    for (int n = 0; n < 60_000 && System.nanoTime() < deadline; n++)
                    {
                        if (n % 4 == 3)
                        {
                            proxy.get("c" + (hotKeys + random.nextInt(coldKeys)));
                            continue;
                        }
                        final int k = random.nextInt(hotKeys);
                        final long floor = acked.get(k);
                        final String got = proxy.get("c" + k);
                        final long ceiling = started.get(k);
                        final long v = Long.parseLong(got.substring(0, got.indexOf('|')));
                        if (v < floor || v > ceiling || !got.endsWith(pad))
                        {
                            failures.add("c" + k + " read " + v + ", acknowledged " + floor + ", started " + ceiling);
                        }
                    }
                }));
            }
            threads.forEach(Thread::start);
            final TwoLevelMemory memory = proxy.flexkv().memory();
            while (threads.stream().anyMatch(Thread::isAlive))
            {
                Thread.sleep(100);
                proxy.flexkv().hotness().tick();
                assertTrue(memory.accounted() <= BUDGET, "accounted " + memory.stats());
            }
            for (final Thread t : threads)
            {
                t.join();
            }
            assertEquals(List.of(), List.copyOf(failures), "stale reads");
            final TwoLevelMemory.Stats s = memory.stats();
            assertTrue(s.hits() > 1000 && s.fills() > 10, "level 1 answered reads under the writes: " + s);
            for (int k = 0; k < hotKeys; k++)
            {
                assertEquals(acked.get(k) + "|" + pad, proxy.get("c" + k), "c" + k + " ends at its last write");
            }
            assertTrue(memory.peak() <= BUDGET, "peak " + memory.peak());
        }
    }

    private static int firstIn(final int[] partition, final int p)
    {
        for (int i = 0; i < partition.length; i++)
        {
            if (partition[i] == p)
            {
                return i;
            }
        }
        throw new AssertionError("no key in partition " + p);
    }
}
