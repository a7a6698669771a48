package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.recovery.Heartbeat;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.memnode.MemoryNode;

/**
 * A coordinated store's background steps after the memory nodes re-keyed their regions with no new
 * region map (docs/recovery.md, "Stale keys"): a node applies a map on its own schedule, so a client
 * may learn its keys for a map just before the node re-keys for it, and no newer map comes to cure
 * that. Operations learn the keys on a refusal; so must the steps no operation drives. Here nothing
 * but the background steps runs after the re-key: the heartbeat keeps beating, and the client
 * recovery agent recovers a client that died after it, both at the map's epoch.
 */
@Timeout(120)
class StaleKeyAgentsTest
{
    @Test
    void theHeartbeatAndTheRecoveryAgentLearnKeysTheNodesChangedWithoutANewMap() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 16L << 20, 4L << 20, "tcp");
            Coordinator watcher = Coordinator.open(cluster.coordinatorSettings()))
        {
            final KvConfig config = MemoryNodeFailoverTest.config(cluster).replication(2)
                .heartbeatPeriod(Duration.ofMillis(50)).recoveryGrace(Duration.ofMillis(50))
                .opTimeout(Duration.ofSeconds(2)).build();
            try (KvStore store = KvStore.open(config))
            {
                for (int i = 0; i < 20; i++)
                {
                    store.put("k" + i, "v" + i);
                }
                final long epoch = mapEpoch(watcher);
                for (final MemoryNode node : cluster.nodes())
                {
                    node.service().regions().rekeyAll();
                }
                // A client that dies holding an id: the store (the lowest live client) must recover it.
                try (Coordinator ghost = Coordinator.open(cluster.coordinatorSettings()))
                {
                    assertEquals(2, ghost.clientIds().claim("ghost"), "the store holds id 1, the ghost id 2");
                }
                try (ClusterConnection reader = ClusterConnection.open(config, SystemNanoClock.INSTANCE))
                {
                    // The reader's hello was after the re-key: it holds the keys the nodes honour now.
                    final long beat = Heartbeat.read(reader.view(), reader.verbs(), 1);
                    awaitTrue(() -> Heartbeat.read(reader.view(), reader.verbs(), 1) > beat,
                        "the store's heartbeat moves again after the re-key");
                }
                try (KvAdmin admin = KvAdmin.open(config))
                {
                    awaitTrue(() -> admin.deadClients().isEmpty(), "the dead client's id is recovered and released");
                }
                assertEquals(epoch, mapEpoch(watcher), "no newer region map was published");
                for (int i = 0; i < 20; i++)
                {
                    assertEquals("v" + i, store.get("k" + i));
                }
            }
            try (KvAdmin admin = KvAdmin.open(config))
            {
                assertEquals(List.of(), admin.verify(true));
            }
        }
    }

    private static long mapEpoch(final Coordinator c)
    {
        return c.maps().read(MapName.REGIONS).orElseThrow().epoch();
    }

    private interface Condition
    {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(final Condition condition, final String what) throws Exception
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.holds())
        {
            assertTrue(System.nanoTime() < deadline, "timed out: " + what);
            Thread.sleep(50);
        }
    }
}
