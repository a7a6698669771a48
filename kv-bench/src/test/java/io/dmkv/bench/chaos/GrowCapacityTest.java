package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.MemoryFullException;
import io.dmkv.bench.cli.KvCli;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;

/**
 * A memory node added for capacity (docs/recovery.md, "Growing capacity: data-only regions"), with
 * ZooKeeper and the memory nodes in processes of their own: two nodes of two 4 MiB regions each
 * (r = 2, so two global regions and no free room) are filled until a put fails with
 * {@link MemoryFullException}; a third node of the same size starts; the cluster moves a replica onto
 * it and adds a global region in the room left. The put that failed and more then succeed on the
 * same store, `kv status` shows the third region with the new node among its replicas, every
 * acknowledged key reads back (from this store and a new one), and `kv verify` finds nothing wrong.
 * Waits are for outcomes (the published map), bounded.
 */
@Timeout(180)
class GrowCapacityTest
{
    private static final long MEMORY = 8L << 20;
    private static final long REGION = 4L << 20;
    private static final int FILL_LIMIT = 20_000;
    private static final int AFTER = 100;

    @Test
    void aNodeAddedToAFullStoreAddsARegionAndTheSamePutsThenSucceed() throws Exception
    {
        final long start = System.nanoTime();
        try (MemnodeCluster cluster = MemnodeCluster.start(2, MEMORY, REGION, Duration.ofSeconds(6));
            Coordinator watch = Coordinator.open(CoordinatorSettings.of(cluster.connectString())))
        {
            final KvConfig config = KvConfig.builder().coordinator(cluster.connectString()).transport("tcp")
                .replication(2).blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(512 * 1024)
                .sessionTimeout(Duration.ofSeconds(6)).mapLease(Duration.ofSeconds(2))
                .recoveryCheckPeriod(Duration.ofMillis(200)).build();
            final String value = "v".repeat(3000);
            final List<String> acked = new ArrayList<>();
            try (KvStore store = KvStore.open(config))
            {
                final RegionMap formatted = CopierKillTest.map(watch);
                assertEquals(2, formatted.regionCount(), "2 nodes x 2 regions / r = 2");
                String failed = null;
                for (int i = 0; i < FILL_LIMIT && failed == null; i++)
                {
                    final String key = "k" + i;
                    try
                    {
                        store.put(key, value + i);
                        acked.add(key);
                    }
                    catch (final MemoryFullException e)
                    {
                        failed = key;
                    }
                }
                assertTrue(failed != null, "the store never filled up in " + FILL_LIMIT + " puts");
                assertTrue(acked.size() > 100, "only " + acked.size() + " puts fit");
                final String first = failed;
                final long filled = System.nanoTime();
                cluster.addNode();
                final long added = System.nanoTime();
                final RegionMap grown = CopierKillTest.await(watch, m -> m.regionCount() > 2 && !m.anyJoining() && !m.anySealed(),
                    "a region added for capacity");
                System.out.printf("store full after %d puts (%d ms from start); node started in %d ms; %d region(s)"
                    + " added %d ms later (map epoch %d)%n", acked.size(), (filled - start) / 1_000_000,
                    (added - filled) / 1_000_000, grown.regionCount() - 2, (System.nanoTime() - added) / 1_000_000,
                    grown.epoch());
                assertEquals(3, grown.memoryNodeCount(), "the new node was admitted");
                assertTrue(grown.regionsOn(2).length > 0, "the new node holds replicas");
                final int index = Integer.parseInt(first.substring(1));
                for (int i = index; i < index + AFTER; i++)
                {
                    store.put("k" + i, value + i);
                    acked.add("k" + i);
                }
                for (final String key : acked)
                {
                    assertEquals(value + key.substring(1), store.get(key), key);
                }
            }
            System.out.printf("%d more puts and every read done %d ms from start%n", AFTER,
                (System.nanoTime() - start) / 1_000_000);
            final String status = status(cluster.connectString());
            final RegionMap now = CopierKillTest.map(watch);
            assertTrue(status.contains("regions: " + now.regionCount() + ", r = 2"), status);
            for (int n = 0; n < now.memoryNodeCount(); n++)
            {
                final int node = n;
                final String placement = "replica of " + Arrays.stream(now.regionsOn(n)).boxed().toList()
                    + ", primary of " + IntStream.range(0, now.regionCount()).filter(g -> now.primary(g) == node)
                        .boxed().toList();
                assertTrue(status.lines().anyMatch(l -> l.startsWith("  node " + node + " ") && l.contains(placement)),
                    "node " + n + ": " + placement + " in\n" + status);
            }
            try (KvStore late = KvStore.open(config))
            {
                for (final String key : acked)
                {
                    assertEquals(value + key.substring(1), late.get(key), key);
                }
            }
            try (KvAdmin admin = KvAdmin.open(config))
            {
                assertEquals(List.of(), admin.verify(true));
            }
        }
    }

    private static String status(final String coordinator)
    {
        final StringWriter out = new StringWriter();
        final picocli.CommandLine cl = KvCli.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("status", "--coordinator", coordinator, "--timeout", "10s"), out.toString());
        return out.toString();
    }
}
