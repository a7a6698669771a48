package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Memory-node fail-over in one JVM (docs/recovery.md, "Fail-over"): r = 3 on four memory nodes;
 * a node dies (its server stops and it leaves the coordinator) while a client writes; the lowest
 * live client repairs the regions the node led and publishes the map without it; the writer
 * carries on, every acknowledged write is found, a client opened afterwards joins the degraded
 * cluster and reads, and {@code kv verify} is clean. Waits are for outcomes (the map's epoch, a
 * write that succeeds), bounded, never for a time.
 */
@Timeout(240)
class MemoryNodeFailoverTest
{
    private static final int KEYS = 120;

    static KvConfig.Builder config(final EmbeddedCluster cluster)
    {
        return KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("tcp").replication(3)
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(1 << 20)
            .recoveryCheckPeriod(Duration.ofMillis(200)).opTimeout(Duration.ofSeconds(5))
            .sessionTimeout(Duration.ofSeconds(6)).mapLease(Duration.ofSeconds(2));
    }

    @Test
    void writersCarryOnAfterTwoMemoryNodesDieAndEveryAcknowledgedWriteIsFound() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(4, 32L << 20, 8L << 20, "tcp");
            Coordinator watcher = Coordinator.open(cluster.coordinatorSettings()))
        {
            final Ledger ledger = new Ledger();
            try (KvStore writer = KvStore.open(config(cluster).build()))
            {
                ledger.writeAll(writer, 0);
                final long before = regionEpoch(watcher);
                // Node 0 leads the root region (the index directory and the log heads) and a quarter of the rest.
                kill(cluster, 0);
                final int round = ledger.writeUntilEpochPasses(writer, watcher, before, 1);
                ledger.writeAll(writer, round + 1);
                ledger.check(writer);
                final RegionMap after = RegionMap.fromBytes(watcher.maps().read(MapName.REGIONS).orElseThrow().payload());
                for (int g = 0; g < after.regionCount(); g++)
                {
                    assertTrue(!after.hasReplicaOn(g, 0), "region " + g + " still lists the dead node");
                }
                try (KvStore late = KvStore.open(config(cluster).build()))
                {
                    ledger.check(late);
                }
                final long second = regionEpoch(watcher);
                kill(cluster, 2);
                final int round2 = ledger.writeUntilEpochPasses(writer, watcher, second, round + 2);
                ledger.writeAll(writer, round2 + 1);
                ledger.check(writer);
            }
            try (KvStore reader = KvStore.open(config(cluster).build()))
            {
                ledger.check(reader);
            }
            try (KvAdmin admin = KvAdmin.open(config(cluster).build()))
            {
                assertEquals(List.of(), admin.verify(true));
            }
        }
    }

    @Test
    void writesStopClearlyBelowTheMinimumOfLiveReplicasWhileReadsGoOn() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(4, 32L << 20, 8L << 20, "tcp");
            Coordinator watcher = Coordinator.open(cluster.coordinatorSettings());
            KvStore store = KvStore.open(config(cluster).minLiveReplicas(3).build()))
        {
            final Ledger ledger = new Ledger();
            ledger.writeAll(store, 0);
            final long before = regionEpoch(watcher);
            kill(cluster, 1);
            awaitEpochAbove(store, watcher, before);
            final ReplicasLostException e = assertThrows(ReplicasLostException.class, () -> store.put("k0", "late"));
            assertTrue(e.getMessage().contains(KvConfig.MIN_LIVE_REPLICAS), e.getMessage());
            ledger.check(store);
        }
    }

    private static void kill(final EmbeddedCluster cluster, final int node)
    {
        cluster.nodes().get(node).close();
        cluster.memberships().get(node).close();
    }

    private static long regionEpoch(final Coordinator c)
    {
        return c.maps().read(MapName.REGIONS).orElseThrow().epoch();
    }

    /** Reads a key until the store routes by a map newer than {@code epoch} (bounded). */
    private static void awaitEpochAbove(final KvStore store, final Coordinator watcher, final long epoch)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (regionEpoch(watcher) <= epoch)
        {
            assertTrue(System.nanoTime() < deadline, "no fail-over was published");
            Thread.sleep(50);
        }
        while (true)
        {
            try
            {
                store.get("k0");
                return;
            }
            catch (final KvException e)
            {
                assertTrue(System.nanoTime() < deadline, "reads never resumed: " + e);
                Thread.sleep(50);
            }
        }
    }

    /**
     * The acknowledged value of every key, and every value whose outcome was left unknown: a proposal
     * may still be applied by a later write of the key, after that write was acknowledged (docs/recovery.md,
     * "Outcome unknown"), so it stays acceptable for the rest of the run.
     */
    private static final class Ledger
    {
        private final Map<String, String> acked = new HashMap<>();
        private final Map<String, Set<String>> unknown = new HashMap<>();
        private int failed;
        private int unknowns;

        void writeAll(final KvStore store, final int round)
        {
            for (int i = 0; i < KEYS; i++)
            {
                assertTrue(write(store, "k" + i, "r" + round + "-" + i), "write of k" + i + " in round " + round
                    + " failed after the fail-over");
            }
        }

        /** Writes rounds until the map's epoch passes {@code epoch} and a whole round then succeeds. */
        int writeUntilEpochPasses(final KvStore store, final Coordinator watcher, final long epoch, final int first)
            throws InterruptedException
        {
            final long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            for (int round = first; ; round++)
            {
                final boolean failedOver = regionEpoch(watcher) > epoch;
                boolean all = true;
                for (int i = 0; i < KEYS; i++)
                {
                    all &= write(store, "k" + i, "r" + round + "-" + i);
                }
                if (failedOver && all)
                {
                    return round;
                }
                assertTrue(System.nanoTime() < deadline, "writes did not resume: " + failed + " failed, " + unknowns
                    + " unknown");
                if (!all)
                {
                    Thread.sleep(20);
                }
            }
        }

        private boolean write(final KvStore store, final String key, final String value)
        {
            try
            {
                store.put(key, value);
                acked.put(key, value);
                return true;
            }
            catch (final KvOutcomeUnknownException e)
            {
                unknowns++;
                unknown.computeIfAbsent(key, k -> new HashSet<>()).add(value);
                return false;
            }
            catch (final KvException e)
            {
                // A write that failed may still have left its value (it timed out after its proposal).
                failed++;
                unknown.computeIfAbsent(key, k -> new HashSet<>()).add(value);
                return false;
            }
        }

        void check(final KvStore store)
        {
            final List<String> wrong = new ArrayList<>();
            for (final Map.Entry<String, String> e : acked.entrySet())
            {
                final String now = store.get(e.getKey());
                if (!e.getValue().equals(now) && !unknown.getOrDefault(e.getKey(), Set.of()).contains(now))
                {
                    wrong.add(e.getKey() + ": acknowledged " + e.getValue() + ", read " + now);
                }
            }
            assertEquals(List.of(), wrong, "acknowledged writes lost");
            assertEquals(KEYS, acked.size());
        }
    }
}
