package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.memnode.MemoryNode;
import io.dmkv.memnode.MemoryNodeMembership;

/**
 * A memory node that comes back blank is never taken for the node it was (docs/recovery.md,
 * "Identity"): in static mode it is refused as having lost its data; in coordinated mode a node
 * that restarts under its old name has another incarnation, so the cluster fails the old one over
 * and the restarted one holds nothing; a region whose every replica died is named to the client
 * that touches it. Waits are for outcomes (the published map), bounded.
 */
@Timeout(240)
class MemoryNodeIdentityTest
{
    private static KvConfig.Builder coordinated(final EmbeddedCluster cluster, final int r)
    {
        return KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("tcp").replication(r)
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(1 << 20)
            .recoveryCheckPeriod(Duration.ofMillis(200)).opTimeout(Duration.ofSeconds(5))
            .sessionTimeout(Duration.ofSeconds(6)).mapLease(Duration.ofSeconds(2));
    }

    @Test
    void aBlankNodeInAStaticClusterIsRefusedAsHavingLostItsData()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "tcp", false))
        {
            final KvConfig.Builder config = KvConfig.builder().transport("tcp").replication(2).blockSize(64 * 1024)
                .bucketGroups(16).initialDepth(1).indexAreaBytes(1 << 20);
            try (KvStore store = KvStore.open(config.memnodes(cluster.endpoints()).build()))
            {
                store.put("k", "v");
            }
            final MemoryNode lost = cluster.nodes().get(1);
            lost.close();
            // The same name at the old place in the list: its memory is blank.
            try (MemoryNode blank = MemoryNode.start(MemoryNode.Config.loopback(lost.name(), 16L << 20, 4L << 20)))
            {
                final KvException e = assertThrows(KvException.class, () -> KvStore.open(config.memnodes(
                    List.of(cluster.endpoints().get(0), blank.tcpEndpoint())).build()));
                assertTrue(e.getMessage().contains("memory node " + lost.name() + " ("), e.getMessage());
                assertTrue(e.getMessage().contains("lost its data"), e.getMessage());
            }
        }
    }

    @Test
    void aNodeThatRestartsUnderItsNameIsFailedOverAndHoldsNothing() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(4, 32L << 20, 8L << 20, "tcp");
            Coordinator watch = Coordinator.open(cluster.coordinatorSettings());
            KvStore store = KvStore.open(coordinated(cluster, 3).build()))
        {
            for (int i = 0; i < 50; i++)
            {
                store.put("k" + i, "v" + i);
            }
            final MemoryNode old = cluster.nodes().get(1);
            old.close();
            cluster.memberships().get(1).close();
            try (MemoryNode again = MemoryNode.start(MemoryNode.Config.loopback(old.name(), 32L << 20, 8L << 20));
                MemoryNodeMembership member = MemoryNodeMembership.join(again, again.tcpEndpoint(),
                    cluster.coordinatorSettings()))
            {
                final RegionMap map = awaitWithout(watch, 1);
                assertEquals(0, map.regionsOn(1).length, "the restarted node holds no region");
                try (KvStore late = KvStore.open(coordinated(cluster, 3).build()))
                {
                    for (int i = 0; i < 50; i++)
                    {
                        assertEquals("v" + i, late.get("k" + i));
                    }
                    late.put("after", "restart");
                }
                assertEquals("restart", store.get("after"));
            }
        }
    }

    @Test
    void aRegionThatLostEveryReplicaIsNamedToTheClientTouchingIt() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 32L << 20, 4L << 20, "tcp");
            Coordinator watch = Coordinator.open(cluster.coordinatorSettings());
            KvStore store = KvStore.open(coordinated(cluster, 2).build()))
        {
            for (int i = 0; i < 200; i++)
            {
                store.put("k" + i, "v" + i);
            }
            // Node 0 holds the root region's primary; nodes 1 and 2 share some regions, which both deaths lose.
            kill(cluster, 1);
            awaitWithout(watch, 1);
            final long before = watch.maps().read(MapName.REGIONS).orElseThrow().epoch();
            kill(cluster, 2);
            final long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (watch.maps().read(MapName.REGIONS).orElseThrow().epoch() <= before)
            {
                assertTrue(System.nanoTime() < deadline, "no fail-over was published");
                Thread.sleep(50);
            }
            final List<String> lost = new ArrayList<>();
            int read = 0;
            for (int i = 0; i < 200; i++)
            {
                try
                {
                    assertEquals("v" + i, store.get("k" + i));
                    read++;
                }
                catch (final ReplicasLostException e)
                {
                    lost.add(e.getMessage());
                }
            }
            assertFalse(lost.isEmpty(), "some keys lived in regions both nodes held");
            assertTrue(lost.get(0).contains("lost every replica"), lost.get(0));
            assertTrue(read > 0, "keys of the surviving regions still read");
        }
    }

    private static void kill(final EmbeddedCluster cluster, final int node)
    {
        cluster.nodes().get(node).close();
        cluster.memberships().get(node).close();
    }

    /** The region map once no region lists {@code node} with another replica beside it (bounded wait). */
    private static RegionMap awaitWithout(final Coordinator watch, final int node) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true)
        {
            final RegionMap map = RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow().payload());
            boolean gone = true;
            for (final int g : map.regionsOn(node))
            {
                gone &= map.replicaCount(g) == 1;
            }
            if (gone && map.regionsOn(node).length == 0)
            {
                return map;
            }
            assertTrue(System.nanoTime() < deadline, "node " + node + " was never failed over");
            Thread.sleep(50);
        }
    }
}
