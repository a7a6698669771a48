package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MapName;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;

/**
 * Fencing of a memory node that was stopped (SIGSTOP) long enough to be failed over and replaced
 * (a new node started and the regions copied back to r replicas onto it), then continued
 * (SIGCONT): a client that still holds the keys of before has its verbs refused by the
 * survivors (they re-keyed the regions whose replica list changed) and by the stopped node itself
 * once it learns its session expired; the store, which follows the map, goes on. Processes of
 * their own (ZooKeeper, four memory nodes, r = 3); waits are for outcomes, bounded.
 */
@Timeout(300)
class StoppedMemnodeFencingTest
{
    @Test
    void aStoppedNodeReplacedMeanwhileHasItsOldKeysRefusedWhenItComesBack() throws Exception
    {
        try (MemnodeCluster cluster = MemnodeCluster.start(4, 32L << 20, Duration.ofSeconds(6));
            Coordinator watch = Coordinator.open(CoordinatorSettings.of(cluster.connectString()));
            KvStore store = KvStore.open(KvConfig.builder().coordinator(cluster.connectString()).transport("tcp")
                .replication(3).sessionTimeout(Duration.ofSeconds(6)).mapLease(Duration.ofSeconds(2))
                .recoveryCheckPeriod(Duration.ofMillis(250)).build());
            VerbsTransport transport = VerbsTransports.create("tcp");
            VerbsClient stale = VerbsClient.connect(transport, cluster.nodes().endpoints(), ClientOptions.defaults()))
        {
            for (int i = 0; i < 100; i++)
            {
                store.put("k" + i, "v" + i);
            }
            final long epoch = watch.maps().read(MapName.REGIONS).orElseThrow().epoch();
            final RegionMap before = RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow().payload());
            assertTrue(before.hasReplicaOn(0, 2), "node 2 holds a replica of region 0");
            read(stale, 0);
            read(stale, 2);
            final Process stopped = cluster.nodes().process(2);
            signal("STOP", stopped);
            try
            {
                final long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (watch.maps().read(MapName.REGIONS).orElseThrow().epoch() <= epoch)
                {
                    assertTrue(System.nanoTime() < deadline, "the stopped node was never failed over");
                    Thread.sleep(50);
                }
                // A replacement starts and the stopped node's regions are copied back to r replicas (onto it,
                // or onto free regions of the others).
                cluster.addNode();
                while (!backAtR(watch))
                {
                    assertTrue(System.nanoTime() < deadline, "the regions were never copied back to r replicas");
                    Thread.sleep(50);
                }
                final RegionMap replaced = RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow()
                    .payload());
                assertEquals(0, replaced.regionsOn(2).length, "the stopped node's replicas were rebuilt elsewhere");
            }
            finally
            {
                signal("CONT", stopped);
            }
            // A survivor re-keyed region 0 (its replica list changed): the old key is refused at once.
            awaitRefused(stale, 0);
            // The continued node finds its session expired and revokes every key it had.
            awaitRefused(stale, 2);
            for (int i = 0; i < 100; i++)
            {
                assertEquals("v" + i, store.get("k" + i));
            }
            store.put("after", "fenced");
            assertEquals("fenced", store.get("after"));
        }
    }

    /** True when every region has r replicas and none is joining. */
    private static boolean backAtR(final Coordinator watch)
    {
        final RegionMap m = RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow().payload());
        return m.fewestReplicas() == m.replicationFactor() && !m.anyJoining();
    }

    /** READs 8 bytes of node {@code node}'s first region with the keys {@code client} holds. */
    private static void read(final VerbsClient client, final int node)
    {
        final VerbBatch b = new VerbBatch();
        b.read(client.channel(node).region(0), 0, new UnsafeBuffer(new byte[8]), 0, 8);
        client.execute(b);
    }

    private static void awaitRefused(final VerbsClient client, final int node) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true)
        {
            try
            {
                read(client, node);
            }
            catch (final RemoteAccessException e)
            {
                assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason(), e.getMessage());
                return;
            }
            catch (final VerbsException e)
            {
                // A refused hello or a closed connection refuses the old key just as well.
                return;
            }
            assertTrue(System.nanoTime() < deadline, "memory node " + node + " still honours the old key");
            Thread.sleep(50);
        }
    }

    private static void signal(final String signal, final Process p) throws Exception
    {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor());
    }
}
