package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Many threads on three compute nodes (two proxies, one plain client) write and read while
 * every partition is moved again and again between the proxies and one-sided mode. Each key has
 * one writer, which writes increasing sequence numbers; the checker holds every read to the
 * per-key linearizability window: a read returns a value at least as new as the last write
 * acknowledged before it started and no newer than the last write started before it ended. At
 * the end every key holds its last acknowledged write, and {@code kv verify} finds the cluster
 * consistent.
 */
@Timeout(240)
class FlexKvHandoverLinearizabilityTest
{
    private static final int KEYS = 96;
    private static final int WRITERS = 4;
    private static final int READERS = 3;
    private static final int MOVES = 20;

    @Test
    void readsStayInTheirWindowAndNoAcknowledgedWriteIsLostAcrossHandOvers() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = FlexKvTest.proxy(cluster, Duration.ofMillis(200));
            KvStore b = FlexKvTest.proxy(cluster, Duration.ofMillis(200));
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.awaitTwoProxies(admin);
            final KvStore[] stores = {a, b, c};
            final KeyWindows check = new KeyWindows("lin-", KEYS);
            for (int k = 0; k < KEYS; k++)
            {
                stores[k % 3].put(check.key(k), "0");
            }
            check.writers(stores, WRITERS, 0);
            check.readers(READERS, rnd -> stores[rnd.nextInt(3)], rnd -> rnd.nextInt(KEYS));
            check.start();
            final List<String> names = List.copyOf(admin.proxies().keySet());
            final String[] targets = {"none", names.get(0), names.get(1), "auto"};
            for (int move = 0; move < MOVES && check.errors.isEmpty(); move++)
            {
                final String target = targets[move % targets.length];
                for (int p = 0; p < 8; p++)
                {
                    // Half the partitions move each time, so hand-overs overlap with served ones.
                    if ((p + move) % 2 == 0)
                    {
                        admin.assignPartition(p, target);
                    }
                }
                final Set<String> owners = new HashSet<>(names);
                owners.add(PartitionMap.NONE);
                FlexKvTest.await("hand-over " + move + " to " + target + " done", () -> FlexKvTest.settledOver(admin,
                    owners));
            }
            check.stopAndCheck();
            assertTrue(check.reads.get() > 100, "readers ran: " + check.reads);
            check.assertFinalValues(c);
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }
}
