package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.CoordinatedIndex;
import io.dmkv.computenode.ops.StubRouting;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpRuntime;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * Clients that find the cluster through the coordinator (docs/coordination.md): the first
 * formats it and publishes its maps, the others join by the maps; client ids come from the
 * coordinator; a cluster keeps the mode it was created in; a client stops routing once the
 * coordinator has not confirmed its map for a lease.
 */
@Timeout(120)
class CoordinatedStoreTest
{
    private static KvConfig.Builder coordinated(final EmbeddedCluster cluster, final int r)
    {
        return KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport(cluster.transport())
            .replication(r).blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(2 << 20);
    }

    @Test
    void clientsFindTheMemoryNodesThroughTheCoordinatorAndShareTheCluster()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 32L << 20, 8L << 20, "tcp"))
        {
            try (KvStore a = KvStore.open(coordinated(cluster, 2).build());
                KvStore b = KvStore.open(coordinated(cluster, 2).build()))
            {
                a.put("k", "from-a");
                assertEquals("from-a", b.get("k"));
                assertTrue(b.insert("k2", "from-b"));
                assertEquals("from-b", a.get("k2"));
                assertEquals(1, a.clientId(), "the lowest free id");
                assertEquals(2, b.clientId());
            }
            // Closed cleanly: their ids are free again.
            try (KvStore c = KvStore.open(coordinated(cluster, 2).build()))
            {
                assertEquals(1, c.clientId());
                assertEquals("from-a", c.get("k"));
            }
        }
    }

    @Test
    void aClusterKeepsTheModeItWasCreatedIn()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "local"))
        {
            try (KvStore formatter = KvStore.open(coordinated(cluster, 1).build()))
            {
                formatter.put("k", "v");
            }
            final KvConfigException e = assertThrows(KvConfigException.class, () -> KvStore.open(KvConfig.builder()
                .memnodes(cluster.endpoints()).transport("local").blockSize(64 * 1024).bucketGroups(16).initialDepth(1)
                .indexAreaBytes(2 << 20).build()));
            assertTrue(e.getMessage().contains("coordinated mode") && e.getMessage().contains("static mode"),
                e.getMessage());
        }
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "local"))
        {
            try (KvStore formatter = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).transport("local")
                .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(2 << 20).build()))
            {
                formatter.put("k", "v");
            }
            final KvConfigException e = assertThrows(KvConfigException.class,
                () -> KvStore.open(coordinated(cluster, 1).build()));
            assertTrue(e.getMessage().contains("created in static mode"), e.getMessage());
        }
    }

    @Test
    void aConfigNamesEitherTheNodesOrTheCoordinator()
    {
        final KvConfigException both = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("127.0.0.1:1").coordinator("127.0.0.1:2").build());
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
        final KvConfigException lease = assertThrows(KvConfigException.class, () -> KvConfig.builder()
            .coordinator("127.0.0.1:2").mapLease(Duration.ofSeconds(5)).build());
        assertTrue(lease.getMessage().contains(KvConfig.MAP_LEASE), lease.getMessage());
        assertEquals(0, KvConfig.builder().coordinator("127.0.0.1:2").build().memnodes().size());
        final KvConfigException nullNode = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes(java.util.Arrays.asList("127.0.0.1:1", null)).build());
        assertTrue(nullNode.getMessage().contains("empty entry"), nullNode.getMessage());
        final KvConfigException lockLease = assertThrows(KvConfigException.class, () -> KvConfig.builder()
            .memnodes("127.0.0.1:1").opTimeout(Duration.ofSeconds(1)).build());
        assertTrue(lockLease.getMessage().contains(KvConfig.INSERT_LOCK_LEASE), lockLease.getMessage());
        final KvConfigException neither = assertThrows(KvConfigException.class, () -> KvConfig.builder().build());
        assertTrue(neither.getMessage().contains(KvConfig.COORDINATOR), neither.getMessage());
    }

    @Test
    void anUnreachableCoordinatorIsReportedClearly() throws Exception
    {
        final int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            closed = s.getLocalPort();
        }
        final NodeUnreachableException e = assertThrows(NodeUnreachableException.class, () -> KvStore.open(
            KvConfig.builder().coordinator("127.0.0.1:" + closed).build()));
        assertTrue(e.getMessage().contains("127.0.0.1:" + closed), e.getMessage());
    }

    @Test
    void afterMemoryNodesReKeyTheirRegionsTheClientRefreshesAndSucceeds() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "tcp");
            KvStore kv = KvStore.open(coordinated(cluster, 2).build());
            VerbsTransport t = cluster.newTransport();
            VerbsClient stale = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            kv.put("k", "before");
            // The cluster's map changed: every region of every node gets a new key (fencing).
            for (final io.dmkv.memnode.MemoryNode n : cluster.nodes())
            {
                n.service().regions().rekeyAll();
            }
            // A verb routed with the old keys is refused...
            final io.dmkv.rdma.VerbBatch b = new io.dmkv.rdma.VerbBatch();
            b.read(stale.channel(0).region(0), 0, new org.agrona.concurrent.UnsafeBuffer(new byte[8]), 0, 8);
            final io.dmkv.rdma.RemoteAccessException refused = assertThrows(io.dmkv.rdma.RemoteAccessException.class,
                () -> stale.execute(b));
            assertEquals(io.dmkv.rdma.RemoteAccessException.Reason.UNKNOWN_REGION, refused.reason());
            // ...and the store, refused the same way, re-reads the map, learns the new keys and goes on.
            assertEquals("before", kv.get("k"));
            kv.put("k", "after");
            assertEquals("after", kv.get("k"));
            assertTrue(kv.insert("k2", "v"));
        }
    }

    /** A clock that moves only when told. */
    private static final class ManualClock implements NanoClock
    {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanoTime()
        {
            return now.get();
        }
    }

    @Test
    void noKeyIsRoutedByAMapTheCoordinatorHasNotConfirmedWithinItsLease() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "local"))
        {
            try (KvStore formatter = KvStore.open(coordinated(cluster, 2).build()))
            {
                formatter.put("k", "v");
            }
            final ManualClock clock = new ManualClock();
            try (CoordinatedCluster member = CoordinatedCluster.connect(cluster.coordinatorConnectString(), "default",
                Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofSeconds(2), 1024, clock);
                VerbsTransport t = cluster.newTransport())
            {
                final VerbsClient v = VerbsClient.connect(t, member.memoryNodes(Duration.ofSeconds(10)),
                    ClientOptions.defaults());
                try (OpRuntime runtime = new OpRuntime(v, clock))
                {
                    member.join(v, ClusterSettings.defaults(2));
                    final KeyIndex routed = new CoordinatedIndex(new CountingIndex(),
                        new StubRouting(member::checkLease, () -> 0), runtime, TimeUnit.SECONDS.toNanos(1));
                    final AtomicReference<Throwable> seen = new AtomicReference<>();
                    routed.search(new byte[] {1}, 1, (value, failure) -> seen.set(failure));
                    assertEquals(null, seen.get(), "routed while the lease holds");
                    // Cut off: no confirmation for longer than the lease (the clock jumps past it).
                    clock.now.addAndGet(TimeUnit.SECONDS.toNanos(3));
                    // (The routing's reconfirmation does nothing here: the coordinator stays silent.)
                    final CompletableFuture<Throwable> write = new CompletableFuture<>();
                    routed.mutate(Mode.PUT, new byte[] {1}, 1, new byte[0], (value, failure) -> write.complete(failure));
                    assertInstanceOf(MapLeaseExpiredException.class, write.get(30, TimeUnit.SECONDS),
                        "writes refused past the lease");
                    final CompletableFuture<Throwable> read = new CompletableFuture<>();
                    routed.search(new byte[] {1}, 1, (value, failure) -> read.complete(failure));
                    assertInstanceOf(MapLeaseExpiredException.class, read.get(30, TimeUnit.SECONDS),
                        "reads refused past the lease too");
                    // The coordinator confirms again (its refresher reads the map every third of a lease).
                    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    boolean confirmed = false;
                    while (!confirmed && System.nanoTime() < deadline)
                    {
                        try
                        {
                            member.checkLease();
                            confirmed = true;
                        }
                        catch (final MapLeaseExpiredException again)
                        {
                            Thread.sleep(50);
                        }
                    }
                    assertTrue(confirmed, "routing resumes once the coordinator confirms the map");
                    assertNotEquals(0, member.regionsEpoch());
                }
                finally
                {
                    v.close();
                }
            }
        }
    }

    /** An index that completes every call at once with nothing. */
    private static final class CountingIndex implements KeyIndex
    {
        @Override
        public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
        {
            done.complete(null, null);
        }

        @Override
        public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
            final OpCompletion<Result> done)
        {
            done.complete(Result.INSERTED, null);
        }

        @Override
        public void flush()
        {
        }
    }
}
