package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.proxy.cache.ProxyClient;
import io.dmkv.computenode.proxy.cache.ValueCache;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * FlexKV's coherent caches (docs/flexkv.md §9) with a checker: many threads on several compute
 * nodes read hot keys (mostly from their caches) while others write them. Each key has one writer
 * at a time, writing increasing numbers; every read must return a value at least as new as the
 * last write acknowledged before the read started (and no newer than the last one started before
 * it ended) — across partitions moving between proxies and one-sided mode, and across a proxy
 * killed with SIGKILL.
 */
@Timeout(240)
class FlexKvCoherentCacheTest
{
    private static final int KEYS = 48;
    private static final int HOT = 8;

    /** Per-key windows and what broke them. */
    private static final class Checker
    {
        final AtomicLongArray acked = new AtomicLongArray(KEYS);
        final AtomicLongArray started = new AtomicLongArray(KEYS);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong writes = new AtomicLong();
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final List<Thread> threads = new ArrayList<>();

        /** {@code writers} threads; writer w owns keys w, w + writers, ... and writes through store (k + round). */
        void writers(final KvStore[] stores, final int writers)
        {
            for (int w = 0; w < writers; w++)
            {
                final int writer = w;
                threads.add(new Thread(() ->
                {
                    long seq = 0;
                    int round = 0;
                    while (!stop.get() && seq < 200_000)
                    {
                        for (int k = writer; k < KEYS && !stop.get(); k += writers)
                        {
                            started.set(k, ++seq);
                            try
                            {
                                stores[(k + round) % stores.length].put(key(k), Long.toString(seq));
                                acked.set(k, seq);
                                writes.incrementAndGet();
                            }
                            catch (final KvTimeoutException e)
                            {
                                // Outcome unknown: the window's upper bound already allows it.
                            }
                            catch (final RuntimeException e)
                            {
                                errors.add(e);
                                return;
                            }
                        }
                        round++;
                        pause();
                    }
                }, "writer-" + w));
            }
        }

        /** Readers on each store, mostly of the hot keys. */
        void readers(final KvStore[] stores, final int perStore)
        {
            for (final KvStore s : stores)
            {
                for (int r = 0; r < perStore; r++)
                {
                    threads.add(new Thread(() ->
                    {
                        final ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        while (!stop.get())
                        {
                            final int k = rnd.nextInt(4) > 0 ? rnd.nextInt(HOT) : rnd.nextInt(KEYS);
                            final long low = acked.get(k);
                            final String v;
                            try
                            {
                                v = s.get(key(k));
                            }
                            catch (final KvTimeoutException e)
                            {
                                continue;
                            }
                            catch (final RuntimeException e)
                            {
                                errors.add(e);
                                return;
                            }
                            final long high = started.get(k);
                            final long got = v == null ? -1 : Long.parseLong(v);
                            if (got < low || got > high)
                            {
                                violations.add("key " + k + ": read " + v + " outside [" + low + ", " + high + "]");
                            }
                            reads.incrementAndGet();
                        }
                    }, "reader"));
                }
            }
        }

        void start()
        {
            threads.forEach(Thread::start);
        }

        void stopAndCheck() throws InterruptedException
        {
            stop.set(true);
            for (final Thread t : threads)
            {
                t.join(60_000);
            }
            assertTrue(errors.isEmpty(), "operations failed: " + errors);
            assertTrue(violations.isEmpty(), violations.size() + " stale or impossible reads, e.g. "
                + violations.stream().limit(5).toList());
            assertTrue(reads.get() > 500 && writes.get() > 100, reads + " reads, " + writes + " writes");
        }

        /** Writes are spaced a little, so hot values stay cached between them. */
        private static void pause()
        {
            try
            {
                Thread.sleep(2);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String key(final int k)
    {
        return "coh-" + k;
    }

    private static void load(final KvStore store)
    {
        for (int k = 0; k < KEYS; k++)
        {
            store.put(key(k), "0");
        }
    }

    private static long hits(final KvStore... stores)
    {
        long n = 0;
        for (final KvStore s : stores)
        {
            final ValueCache.Stats c = s.flexkv().client().cacheStats();
            n += c == null ? 0 : c.hits();
        }
        return n;
    }

    @Test
    void noReadIsStaleAcrossComputeNodesWhilePartitionsMove() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(200)).build());
            KvStore b = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(200)).build());
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build());
            KvStore d = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxies serve every partition", () -> admin.proxies().size() == 2
                && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
            final KvStore[] stores = {a, b, c, d};
            load(c);
            final Checker check = new Checker();
            check.writers(stores, 3);
            check.readers(stores, 2);
            check.start();
            FlexKvTest.await("reads from the caches", () -> hits(stores) > 200 || !check.errors.isEmpty());
            final List<String> names = List.copyOf(admin.proxies().keySet());
            final String[] targets = {names.get(1), "none", names.get(0), "auto"};
            final Set<String> owners = new HashSet<>(names);
            owners.add(PartitionMap.NONE);
            for (int move = 0; move < 8 && check.errors.isEmpty(); move++)
            {
                final String target = targets[move % targets.length];
                for (int p = 0; p < 8; p++)
                {
                    if ((p + move) % 2 == 0)
                    {
                        admin.assignPartition(p, target);
                    }
                }
                FlexKvTest.await("hand-over " + move + " to " + target + " done", () -> FlexKvTest.settledOver(admin,
                    owners));
            }
            final long hitsBefore = hits(stores);
            FlexKvTest.await("reads from the caches after the moves", () -> hits(stores) > hitsBefore + 200
                || !check.errors.isEmpty());
            check.stopAndCheck();
            for (int k = 0; k < KEYS; k++)
            {
                final long got = Long.parseLong(d.get(key(k)));
                assertTrue(got >= check.acked.get(k), "key " + k + " holds " + got + ", last acknowledged "
                    + check.acked.get(k));
            }
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    @Test
    void concurrentRequestsToOneProxyLeaveInSharedFrames() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true).build());
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").proxyCacheBytes(0).build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxy serves every partition", () -> admin.proxies().size() == 1
                && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
            load(c);
            final List<Thread> threads = new ArrayList<>();
            final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            for (int t = 0; t < 8; t++)
            {
                final int id = t;
                threads.add(new Thread(() ->
                {
                    try
                    {
                        for (int i = 0; i < 400; i++)
                        {
                            final int k = (id * 7 + i) % KEYS;
                            if (i % 4 == 0)
                            {
                                c.put(key(k), "v" + i);
                            }
                            else
                            {
                                c.get(key(k));
                            }
                        }
                    }
                    catch (final RuntimeException e)
                    {
                        errors.add(e);
                    }
                }));
            }
            final ProxyClient.Stats before = c.flexkv().client().stats();
            threads.forEach(Thread::start);
            for (final Thread t : threads)
            {
                t.join(60_000);
            }
            assertTrue(errors.isEmpty(), "operations failed: " + errors);
            final ProxyClient.Stats after = c.flexkv().client().stats();
            final long frames = after.frames() - before.frames();
            final long requests = after.requests() - before.requests();
            assertTrue(requests >= 8 * 400 * 9 / 10, "the requests went in batch frames: " + after);
            assertTrue(requests > frames, "8 threads' requests shared frames: " + requests + " in " + frames
                + " frames");
            assertEquals(null, c.flexkv().client().cacheStats(), "no cache with dmkv.proxy.cacheBytes=0");
        }
    }

    @Test
    void noReadIsStaleWhenAProxyIsKilled() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore a = KvStore.open(FlexKvTest.flexkv(cluster, 2).opTimeout(Duration.ofSeconds(6))
                .proxyHandoverGrace(Duration.ofMillis(300)).proxyEnabled(true).build());
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).opTimeout(Duration.ofSeconds(6)).mode("").build());
            KvStore d = KvStore.open(FlexKvTest.flexkv(cluster, 2).opTimeout(Duration.ofSeconds(6)).mode("").build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            final ChildJvm proxy = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2", "proxy");
            try
            {
                FlexKvTest.await("two proxies serve every partition", () -> admin.proxies().size() == 2
                    && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
                final String survivor = admin.proxies().keySet().stream()
                    .filter(n -> !n.endsWith("-" + proxy.clientId)).findFirst().orElseThrow();
                final KvStore[] stores = {a, c, d};
                load(c);
                final Checker check = new Checker();
                check.writers(stores, 3);
                check.readers(stores, 2);
                check.start();
                FlexKvTest.await("reads from the caches before the kill", () -> hits(c, d) > 200
                    || !check.errors.isEmpty());
                proxy.close();
                FlexKvTest.await("the survivor serves every partition", () -> FlexKvTest.settledOver(admin,
                    Set.of(survivor)));
                final long writes = check.writes.get();
                FlexKvTest.await("writes after the move", () -> check.writes.get() > writes + 200
                    || !check.errors.isEmpty());
                check.stopAndCheck();
                assertEquals(List.of(), admin.verify(false), "kv verify");
            }
            finally
            {
                proxy.close();
            }
        }
    }
}
