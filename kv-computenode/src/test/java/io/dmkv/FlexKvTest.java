package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbCounters;

/**
 * FlexKV I end to end on an embedded cluster (docs/flexkv.md): the mode is fixed at creation,
 * partitions spread over the proxy-enabled compute nodes, every client reaches every key through
 * the proxies, and a proxied partition's slots and insert locks cost no remote atomic.
 */
@Timeout(180)
class FlexKvTest
{
    static KvConfig.Builder flexkv(final EmbeddedCluster cluster, final int r)
    {
        return KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport(cluster.transport())
            .replication(r).blockSize(64 * 1024).bucketGroups(64).initialDepth(2).indexAreaBytes(4 << 20)
            .mode("flexkv").partitions(8);
    }

    /** A proxy-enabled compute node of {@link #flexkv} (r = 2) whose hand-overs from one-sided mode wait {@code grace}. */
    static KvStore proxy(final EmbeddedCluster cluster, final Duration grace)
    {
        return KvStore.open(flexkv(cluster, 2).proxyEnabled(true).proxyHandoverGrace(grace).build());
    }

    /** Waits until the partition map names two proxies and every partition is settled on them. */
    static void awaitTwoProxies(final KvAdmin admin)
    {
        await("two proxies serve every partition", () -> admin.proxies().size() == 2
            && settledOver(admin, admin.proxies().keySet()));
    }

    /** Waits until the child proxy and one other serve every partition; returns the other's name. */
    static String awaitTwoProxiesBesides(final KvAdmin admin, final ChildJvm child)
    {
        awaitTwoProxies(admin);
        return admin.proxies().keySet().stream().filter(n -> !n.endsWith("-" + child.clientId)).findFirst()
            .orElseThrow();
    }

    static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out waiting until " + what);
            }
            try
            {
                Thread.sleep(20);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** True when every partition is owned as {@code expected} says and no hand-over is under way. */
    static boolean settledOver(final KvAdmin admin, final Set<String> owners)
    {
        for (final KvAdmin.Partition p : admin.partitions())
        {
            if (!p.handoverFrom().isEmpty() || !owners.contains(p.owner()))
            {
                return false;
            }
        }
        return true;
    }

    @Test
    void partitionsSpreadOverTheProxiesAndEveryClientReachesEveryKeyWithoutRemoteAtomics()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(flexkv(cluster, 2).proxyEnabled(true).build());
            KvStore b = KvStore.open(flexkv(cluster, 2).proxyEnabled(true).build());
            KvStore plain = KvStore.open(flexkv(cluster, 2).mode("").build());
            KvAdmin admin = KvAdmin.open(flexkv(cluster, 2).mode("").build()))
        {
            assertEquals("flexkv", admin.mode());
            await("both proxies serve 4 partitions each: " + admin.proxies() + " " + admin.partitions(), () ->
            {
                final Set<String> proxies = admin.proxies().keySet();
                return proxies.size() == 2 && settledOver(admin, proxies);
            });
            final List<KvAdmin.Partition> map = admin.partitions();
            assertEquals(8, map.size());
            assertEquals(4, map.stream().filter(p -> p.owner().equals(map.get(0).owner())).count(),
                "an even spread: " + map);

            final VerbCounters.Snapshot before = a.counters().plus(b.counters()).plus(plain.counters());
            final int keys = 400;
            final KvStore[] writers = {a, b, plain};
            for (int i = 0; i < keys; i++)
            {
                assertTrue(writers[i % 3].insert("k" + i, "v" + i), "insert k" + i);
            }
            for (int i = 0; i < keys; i++)
            {
                assertFalse(writers[(i + 1) % 3].insert("k" + i, "again"), "a second insert of k" + i);
                assertTrue(writers[(i + 2) % 3].update("k" + i, "w" + i), "update k" + i);
            }
            for (int i = 0; i < keys; i++)
            {
                for (final KvStore s : writers)
                {
                    assertEquals("w" + i, s.get("k" + i), "k" + i);
                }
            }
            for (int i = 0; i < keys; i += 2)
            {
                assertTrue(writers[i % 3].delete("k" + i));
                assertFalse(writers[(i + 1) % 3].delete("k" + i));
                assertNull(writers[(i + 2) % 3].get("k" + i));
            }
            assertFalse(plain.update("never", "x"));
            final VerbCounters.Snapshot after = a.counters().plus(b.counters()).plus(plain.counters());
            assertEquals(0, after.cas() - before.cas(), "no CAS on a proxied partition's slots or insert locks");
            assertTrue(after.writes() > before.writes());
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    @Test
    void proxiesSplitTheirOwnSubtablesAndKeepEveryKey()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(flexkv(cluster, 2).bucketGroups(2).proxyEnabled(true).build());
            KvStore b = KvStore.open(flexkv(cluster, 2).bucketGroups(2).proxyEnabled(true).build());
            KvAdmin admin = KvAdmin.open(flexkv(cluster, 2).mode("").build()))
        {
            await("both proxies serve", () -> admin.proxies().size() == 2
                && settledOver(admin, admin.proxies().keySet()));
            // One bucket group per subtable (28 slots) at depth 3: a few hundred keys force splits.
            final int keys = 1500;
            for (int i = 0; i < keys; i++)
            {
                assertTrue((i % 2 == 0 ? a : b).insert("s" + i, "v" + i), "insert s" + i);
            }
            for (int i = 0; i < keys; i++)
            {
                assertEquals("v" + i, (i % 2 == 0 ? b : a).get("s" + i), "s" + i);
            }
            assertTrue(a.stats().index().splits() + b.stats().index().splits() > 8,
                "the proxies split their subtables: " + a.stats().index() + " " + b.stats().index());
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    @Test
    void theModeIsFixedWhenTheClusterIsCreated()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 32L << 20, 8L << 20, "local"))
        {
            try (KvStore creator = KvStore.open(flexkv(cluster, 1).build()))
            {
                creator.put("k", "v");
            }
            final KvConfigException e = assertThrows(KvConfigException.class,
                () -> KvStore.open(flexkv(cluster, 1).mode("fusee").build()));
            assertTrue(e.getMessage().contains("created in flexkv mode") && e.getMessage().contains("fusee"),
                e.getMessage());
            try (KvStore joiner = KvStore.open(flexkv(cluster, 1).mode("").build()))
            {
                assertEquals("v", joiner.get("k"), "a client without dmkv.mode takes the cluster's, even with no proxy");
            }
        }
        final KvConfigException staticFlex = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("mem:x").mode("flexkv").build());
        assertTrue(staticFlex.getMessage().contains(KvConfig.COORDINATOR), staticFlex.getMessage());
        assertThrows(KvConfigException.class, () -> KvConfig.builder().coordinator("127.0.0.1:1").partitions(12).build());
    }

    @Test
    void pinnedPartitionsMoveBetweenProxiesAndOneSidedModeKeepingEveryValue()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(300)).build());
            KvStore b = KvStore.open(flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(300)).build());
            KvAdmin admin = KvAdmin.open(flexkv(cluster, 2).mode("").build()))
        {
            await("the proxies serve every partition", () -> admin.proxies().size() == 2
                && settledOver(admin, admin.proxies().keySet()));
            for (int i = 0; i < 200; i++)
            {
                a.put("k" + i, "0");
            }
            final List<String> names = List.copyOf(admin.proxies().keySet());
            final String[] targets = {"none", names.get(0), names.get(1), "none", "auto"};
            int round = 1;
            for (final String target : targets)
            {
                for (int p = 0; p < 8; p++)
                {
                    admin.assignPartition(p, target);
                }
                final Set<String> owners = new HashSet<>(target.equals("auto") ? names
                    : List.of(target.equals("none") ? PartitionMap.NONE : target));
                await("every partition moved to " + target, () -> settledOver(admin, owners));
                for (int i = 0; i < 200; i++)
                {
                    final KvStore w = (i + round) % 2 == 0 ? a : b;
                    assertEquals(Integer.toString(round - 1), w.get("k" + i), "k" + i + " after moving to " + target);
                    w.put("k" + i, Integer.toString(round));
                }
                round++;
            }
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }
}
