package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;

/** The public API as an embedding application uses it. */
@Timeout(120)
class KvStoreTest
{
    static KvConfig.Builder small(final EmbeddedCluster cluster, final int r)
    {
        return KvConfig.builder().memnodes(cluster.endpoints()).transport(cluster.transport()).replication(r)
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(2 << 20)
            .reclaimPeriod(Duration.ofMillis(50));
    }

    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void blockingAsyncAndBatchedCallsAgree() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore kv = KvStore.open(small(cluster, 2).build()))
        {
            kv.put("a", "1");
            assertEquals("1", kv.get("a"));
            assertTrue(kv.insert(b("b"), b("2")));
            assertFalse(kv.insert(b("b"), b("3")));
            assertTrue(kv.update(b("b"), b("4")));
            assertFalse(kv.update(b("zz"), b("4")));
            assertArrayEquals(b("4"), kv.get(b("b")));
            assertTrue(kv.insert("s", "x"));
            assertFalse(kv.insert("s", "y"));
            assertTrue(kv.update("s", "z"));
            assertEquals("z", kv.get("s"));
            assertTrue(kv.delete("a"));
            assertFalse(kv.delete("a"));
            assertNull(kv.get("a"));

            final List<CompletableFuture<Void>> puts = new ArrayList<>();
            for (int i = 0; i < 300; i++)
            {
                puts.add(kv.putAsync(b("async" + i), b("v" + i)));
            }
            CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            assertArrayEquals(b("v7"), kv.getAsync(b("async7")).get(30, TimeUnit.SECONDS));
            assertTrue(kv.deleteAsync(b("async7")).get(30, TimeUnit.SECONDS));

            final Map<byte[], byte[]> batch = new LinkedHashMap<>();
            final List<byte[]> keys = new ArrayList<>();
            for (int i = 0; i < 50; i++)
            {
                batch.put(b("bulk" + i), b("w" + i));
                keys.add(b("bulk" + i));
            }
            kv.putAll(batch);
            keys.add(b("missing"));
            final List<byte[]> values = kv.getAll(keys);
            for (int i = 0; i < 50; i++)
            {
                assertArrayEquals(b("w" + i), values.get(i));
            }
            assertNull(values.get(50));
            assertTrue(kv.counters().roundTrips() > 0);
        }
    }

    @Test
    void badInputRaisesInvalidInputAndChangesNothing()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 16L << 20, 4L << 20, "local");
            KvStore kv = KvStore.open(small(cluster, 1).build()))
        {
            kv.put("k", "v");
            assertThrows(InvalidInputException.class, () -> kv.put((byte[])null, b("x")));
            assertThrows(InvalidInputException.class, () -> kv.put(new byte[0], b("x")));
            assertThrows(InvalidInputException.class, () -> kv.put(new byte[2000], b("x")));
            assertThrows(InvalidInputException.class, () -> kv.put(b("k"), null));
            assertThrows(InvalidInputException.class, () -> kv.put(b("k"), new byte[100_000]));
            assertThrows(InvalidInputException.class, () -> kv.get((String)null));
            final ExecutionException async = assertThrows(ExecutionException.class,
                () -> kv.putAsync(b("k"), null).get(10, TimeUnit.SECONDS));
            assertTrue(async.getCause() instanceof InvalidInputException, async.getCause().toString());
            assertEquals("v", kv.get("k"));
        }
    }

    @Test
    void closedStoreRefusesEveryCall()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 16L << 20, 4L << 20, "local"))
        {
            final KvStore kv = KvStore.open(small(cluster, 1).build());
            kv.put("k", "v");
            kv.close();
            assertThrows(StoreClosedException.class, () -> kv.get("k"));
            assertThrows(StoreClosedException.class, () -> kv.put("k", "w"));
            assertThrows(ExecutionException.class, () -> kv.getAsync(b("k")).get(5, TimeUnit.SECONDS));
            kv.close();
            try (KvStore again = KvStore.open(small(cluster, 1).build()))
            {
                assertEquals("v", again.get("k"), "data outlives the client that wrote it");
            }
        }
    }

    @Test
    void unreachableNodeAndBadConfigAreReportedClearly() throws Exception
    {
        final int port;
        try (ServerSocket s = new ServerSocket(0))
        {
            port = s.getLocalPort();
        }
        final NodeUnreachableException e = assertThrows(NodeUnreachableException.class, () -> KvStore.open(
            KvConfig.builder().memnodes("127.0.0.1:" + port).connectTimeout(Duration.ofSeconds(2)).build()));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        final KvConfigException r = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("a:1", "b:2").replication(3).build());
        assertTrue(r.getMessage().startsWith(KvConfig.REPLICATION), r.getMessage());
        final KvConfigException t = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("a:1").transport("carrier-pigeon").build());
        assertTrue(t.getMessage().contains("local, tcp or rdma"), t.getMessage());
        assertThrows(KvConfigException.class, () -> KvConfig.builder().build());
        final KvConfigException noPort = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("127.0.0.1:7410", "127.0.0.1").build());
        assertTrue(noPort.getMessage().startsWith(KvConfig.MEMNODES) && noPort.getMessage().contains("'127.0.0.1' has no port"),
            noPort.getMessage());
    }

    @Test
    void propertiesConfigureEveryFieldAndRejectTypos()
    {
        final Properties p = new Properties();
        p.setProperty(KvConfig.MEMNODES, "h1:7410, h2:7410");
        p.setProperty(KvConfig.REPLICATION, "2");
        p.setProperty(KvConfig.OP_TIMEOUT, "3s");
        p.setProperty(KvConfig.BLOCK_SIZE, "1M");
        p.setProperty(KvConfig.CACHE_ENTRIES, "1000");
        p.setProperty("unrelated.key", "ignored");
        final KvConfig c = KvConfig.fromProperties(p);
        assertEquals(List.of("h1:7410", "h2:7410"), c.memnodes());
        assertEquals(2, c.replication());
        assertEquals(Duration.ofSeconds(3), c.opTimeout());
        assertEquals(1 << 20, c.blockSize());
        p.setProperty("dmkv.replicaton", "2");
        final KvConfigException typo = assertThrows(KvConfigException.class, () -> KvConfig.fromProperties(p));
        assertTrue(typo.getMessage().contains("dmkv.replicaton"), typo.getMessage());
        p.remove("dmkv.replicaton");
        p.setProperty(KvConfig.BLOCK_SIZE, "3000");
        assertTrue(assertThrows(KvConfigException.class, () -> KvConfig.fromProperties(p)).getMessage()
            .startsWith(KvConfig.BLOCK_SIZE));
    }

    @Test
    void aConfigSurvivesTheTripThroughProperties()
    {
        final KvConfig flex = KvConfig.builder().coordinator("127.0.0.1:2181/x").mode("flexkv").partitions(16)
            .proxyEnabled(true).opTimeout(Duration.ofMillis(2500)).cacheBypassMissRate(0.25).blockSize(1 << 16)
            .proxyPeriod(Duration.ofMillis(750)).proxyMemoryBudget(5 << 20).build();
        final KvConfig back = KvConfig.fromProperties(flex.toProperties());
        assertEquals(Duration.ofMillis(750), back.proxyPeriod());
        assertEquals(5 << 20, back.proxyMemoryBudget());
        final java.util.Properties hot = flex.toProperties();
        hot.setProperty(KvConfig.PROXY_EWMA, "0.3");
        hot.setProperty(KvConfig.PROXY_IMBALANCE_THRESHOLD, "1.5");
        hot.setProperty(KvConfig.PROXY_HYSTERESIS, "0.2");
        final KvConfig tuned = KvConfig.fromProperties(KvConfig.fromProperties(hot).toProperties());
        assertEquals(0.3, tuned.proxyEwma());
        assertEquals(1.5, tuned.proxyImbalanceThreshold());
        assertEquals(0.2, tuned.proxyHysteresis());
        hot.setProperty(KvConfig.PROXY_EWMA, "0");
        assertTrue(assertThrows(KvConfigException.class, () -> KvConfig.fromProperties(hot)).getMessage()
            .startsWith(KvConfig.PROXY_EWMA));
        assertEquals(flex.toString(), back.toString());
        assertEquals("flexkv", back.mode());
        assertEquals(16, back.partitions());
        assertTrue(back.proxyEnabled());
        assertEquals(Duration.ofMillis(2500), back.opTimeout());
        final KvConfig fixed = KvConfig.builder().memnodes("h1:1", "h2:2").replication(2).build();
        assertEquals(fixed.memnodes(), KvConfig.fromProperties(fixed.toProperties()).memnodes());
    }

    @Test
    void updateHeavyRunOnASmallNodeReusesMemory()
    {
        // 8 MiB of data regions; 20 000 updates of 1 KiB values would need ~30 MiB without reuse.
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 12L << 20, 4L << 20, "local");
            KvStore kv = KvStore.open(small(cluster, 1).build()))
        {
            final byte[] value = new byte[1000];
            for (int i = 0; i < 20_000; i++)
            {
                value[0] = (byte)i;
                kv.put(b("hot" + (i % 100)), value);
            }
            for (int k = 0; k < 100; k++)
            {
                assertEquals(1000, kv.get(b("hot" + k)).length);
            }
            assertTrue(kv.stats().allocator().objectsReclaimed() > 0, kv.stats().allocator().toString());
        }
    }
}
