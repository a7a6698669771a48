package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.proxy.cache.ProxyClient;
import io.dmkv.computenode.proxy.cache.ValueCache;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * FlexKV's coherent caches (docs/flexkv.md §11) with a checker: many threads on several compute
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

    /** The checker of these tests: 3 writers spaced by 2 ms, and readers mostly of the hot keys. */
    private static KeyWindows check(final KvStore[] stores, final int readersPerStore)
    {
        final KeyWindows check = new KeyWindows("coh-", KEYS);
        check.writers(stores, 3, 2);
        for (final KvStore s : stores)
        {
            check.readers(readersPerStore, rnd -> s, rnd -> rnd.nextInt(4) > 0 ? rnd.nextInt(HOT) : rnd.nextInt(KEYS));
        }
        return check;
    }

    /** Two proxies (a, b), two plain compute nodes (c, d) and an admin, the keys loaded and the checker started. */
    private record Nodes(KvStore a, KvStore b, KvStore c, KvStore d, KvAdmin admin, KeyWindows check)
        implements AutoCloseable
    {
        /** @param writeHotWrites the proxies' dmkv.proxy.writeHotWrites, or -1 for the default. */
        static Nodes start(final EmbeddedCluster cluster, final int writeHotWrites)
        {
            final List<AutoCloseable> opened = new ArrayList<>();
            try
            {
                final KvStore a = open(opened, proxyConfig(cluster, writeHotWrites));
                final KvStore b = open(opened, proxyConfig(cluster, writeHotWrites));
                final KvStore c = open(opened, FlexKvTest.flexkv(cluster, 2).mode("").build());
                final KvStore d = open(opened, FlexKvTest.flexkv(cluster, 2).mode("").build());
                final KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build());
                opened.add(admin);
                FlexKvTest.awaitTwoProxies(admin);
                load(c);
                final KeyWindows check = FlexKvCoherentCacheTest.check(new KvStore[] {a, b, c, d}, 2);
                check.start();
                return new Nodes(a, b, c, d, admin, check);
            }
            catch (final RuntimeException e)
            {
                closeAll(opened);
                throw e;
            }
        }

        private static KvConfig proxyConfig(final EmbeddedCluster cluster, final int writeHotWrites)
        {
            final KvConfig.Builder b = FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(200));
            // Lookups never keep a key leased here: its leases stop and resume on the writers' pace alone.
            return (writeHotWrites < 0 ? b : b.proxyWriteHotWrites(writeHotWrites).proxyWriteHotLookups(1 << 30)).build();
        }

        private static KvStore open(final List<AutoCloseable> opened, final KvConfig config)
        {
            final KvStore s = KvStore.open(config);
            opened.add(s);
            return s;
        }

        KvStore[] stores()
        {
            return new KvStore[] {a, b, c, d};
        }

        @Override
        public void close()
        {
            closeAll(new ArrayList<>(List.of(a, b, c, d, admin)));
        }

        /** Closes in reverse order of opening, as try-with-resources would. */
        private static void closeAll(final List<AutoCloseable> opened)
        {
            RuntimeException first = null;
            for (int i = opened.size() - 1; i >= 0; i--)
            {
                try
                {
                    opened.get(i).close();
                }
                catch (final Exception e)
                {
                    if (first == null)
                    {
                        first = new IllegalStateException("closing a compute node failed", e);
                    }
                }
            }
            if (first != null)
            {
                throw first;
            }
        }
    }

    private static void stopAndCheck(final KeyWindows check) throws InterruptedException
    {
        // The phases before end on cache hits, which come faster than writes: let the writers catch up.
        FlexKvTest.await("the checker's volume", () -> check.reads.get() > 500 && check.writes.get() > 100
            || !check.errors.isEmpty());
        check.stopAndCheck();
        assertTrue(check.reads.get() > 500 && check.writes.get() > 100, check.reads + " reads, " + check.writes
            + " writes");
    }

    /** 8 threads, each 400 operations (a put in 4) on {@code c}: async calls 4 at a time, or blocking calls. */
    private static void runThreads(final KvStore c, final boolean async) throws InterruptedException
    {
        final List<Thread> threads = new ArrayList<>();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        for (int t = 0; t < 8; t++)
        {
            final int id = t;
            threads.add(new Thread(() ->
            {
                try
                {
                    final List<java.util.concurrent.CompletableFuture<?>> window = new ArrayList<>();
                    for (int i = 0; i < 400; i++)
                    {
                        final int k = (id * 7 + i) % KEYS;
                        if (!async)
                        {
                            if (i % 4 == 0)
                            {
                                c.put(key(k), "v" + i);
                            }
                            else
                            {
                                c.get(key(k));
                            }
                            continue;
                        }
                        final byte[] bytes = key(k).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                        window.add(i % 4 == 0 ? c.putAsync(bytes, ("v" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                            : c.getAsync(bytes));
                        if (window.size() == 4)
                        {
                            window.forEach(java.util.concurrent.CompletableFuture::join);
                            window.clear();
                        }
                    }
                    window.forEach(java.util.concurrent.CompletableFuture::join);
                }
                catch (final RuntimeException e)
                {
                    errors.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (final Thread t : threads)
        {
            t.join(60_000);
        }
        assertTrue(errors.isEmpty(), "operations failed: " + errors);
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

    /** Reads the coherent caches of {@code stores} answered. */
    static long hits(final KvStore... stores)
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
            Nodes n = Nodes.start(cluster, -1))
        {
            final KvStore[] stores = n.stores();
            final KvStore d = n.d();
            final KvAdmin admin = n.admin();
            final KeyWindows check = n.check();
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
            stopAndCheck(check);
            check.assertFinalValues(d);
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    /**
     * Write-hot keys (docs/flexkv.md §11): with a threshold of 2 writes a lease, the checker's keys
     * turn write-hot and cool again as the writers' pace varies, so leases stop and resume on the
     * same keys while readers on four compute nodes read them and half the partitions move between
     * the proxies; no read is stale, and both leased and refused lookups happened.
     */
    @Test
    void noReadIsStaleWhileWriteHotKeysStopAndResumeBeingLeased() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            Nodes n = Nodes.start(cluster, 2))
        {
            final KvStore[] stores = n.stores();
            final KvStore a = n.a();
            final KvStore b = n.b();
            final KvStore d = n.d();
            final KvAdmin admin = n.admin();
            final KeyWindows check = n.check();
            FlexKvTest.await("write-hot keys refused leases", () -> writeHot(a, b) > 100 || !check.errors.isEmpty());
            final List<String> names = List.copyOf(admin.proxies().keySet());
            for (int move = 0; move < 2 && check.errors.isEmpty(); move++)
            {
                for (int p = move; p < 8; p += 2)
                {
                    admin.assignPartition(p, names.get((p / 2 + move) % 2));
                }
                FlexKvTest.await("hand-over " + move + " done", () -> FlexKvTest.settledOver(admin,
                    new HashSet<>(names)));
            }
            stopAndCheck(check);
            check.assertFinalValues(d);
            final long grants = a.flexkv().proxy().directory().stats().grants()
                + b.flexkv().proxy().directory().stats().grants();
            assertTrue(grants > 0 && writeHot(a, b) > 100, grants + " leases granted, " + writeHot(a, b)
                + " refused as write-hot");
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    private static long writeHot(final KvStore... proxies)
    {
        long n = 0;
        for (final KvStore s : proxies)
        {
            n += s.flexkv().proxy().directory().stats().writeHot();
        }
        return n;
    }

    /**
     * Requests of async calls to one proxy share batch frames; a blocking call's request takes the
     * caller's own lane, one frame each, written and read on the calling thread.
     */
    @Test
    void asyncRequestsToOneProxyShareFramesAndBlockingOnesTakeTheirLanes() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true).build());
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").proxyCacheBytes(0).build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxy serves every partition", () -> admin.proxies().size() == 1
                && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
            load(c);
            final ProxyClient.Stats before = c.flexkv().client().stats();
            runThreads(c, true);
            final ProxyClient.Stats async = c.flexkv().client().stats();
            final long frames = async.frames() - before.frames();
            final long requests = async.requests() - before.requests();
            assertTrue(requests >= 8 * 400 * 9 / 10, "the requests went in batch frames: " + async);
            assertTrue(requests > frames, "8 threads' requests shared frames: " + requests + " in " + frames
                + " frames");
            assertEquals(before.laneFrames(), async.laneFrames(), "async calls take no lane");
            runThreads(c, false);
            final ProxyClient.Stats blocking = c.flexkv().client().stats();
            final long laneFrames = blocking.laneFrames() - async.laneFrames();
            assertTrue(laneFrames >= 8 * 400 * 9 / 10, "blocking calls' requests took their lanes: " + blocking);
            assertEquals(blocking.requests() - async.requests(), blocking.frames() - async.frames(),
                "a frame per request on a lane");
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
                final String survivor = FlexKvTest.awaitTwoProxiesBesides(admin, proxy);
                final KvStore[] stores = {a, c, d};
                load(c);
                final KeyWindows check = check(stores, 2);
                check.start();
                FlexKvTest.await("reads from the caches before the kill", () -> hits(c, d) > 200
                    || !check.errors.isEmpty());
                proxy.close();
                FlexKvTest.await("the survivor serves every partition", () -> FlexKvTest.settledOver(admin,
                    Set.of(survivor)));
                final long writes = check.writes.get();
                FlexKvTest.await("writes after the move", () -> check.writes.get() > writes + 200
                    || !check.errors.isEmpty());
                stopAndCheck(check);
                assertEquals(List.of(), admin.verify(false), "kv verify");
            }
            finally
            {
                proxy.close();
            }
        }
    }
}
