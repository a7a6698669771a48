package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.memnode.EmbeddedCluster;

/** {@code kv status} shows what the coordinator knows. */
@Timeout(120)
class StatusCommandTest
{
    @Test
    void statusListsTheRegisteredMemoryNodesAlive()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 64 * 1024, "tcp"))
        {
            final StringWriter out = new StringWriter();
            final picocli.CommandLine cl = KvCli.commandLine();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute("status", "--coordinator", cluster.coordinatorConnectString()));
            final String text = out.toString();
            assertTrue(text.contains("memory nodes: 3 alive, 0 dead"), text);
            for (final String endpoint : cluster.endpoints())
            {
                assertTrue(text.contains(endpoint), text);
            }
            assertTrue(text.contains("not formatted yet"), text);
        }
    }

    @Test
    void statusNamesTheDeadNodesAndTheRegionsThatLostEveryReplica() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 32L << 20, 4L << 20, "tcp");
            Coordinator watch = Coordinator.open(cluster.coordinatorSettings());
            KvStore store = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport("tcp").replication(2).blockSize(64 * 1024).bucketGroups(16).initialDepth(1)
                .indexAreaBytes(1 << 20).recoveryCheckPeriod(Duration.ofMillis(200)).build()))
        {
            store.put("k", "v");
            // Nodes 1 and 2 share regions (r = 2 on 3 nodes): both dead, those regions are gone.
            for (final int node : new int[] {1, 2})
            {
                final long epoch = watch.maps().read(MapName.REGIONS).orElseThrow().epoch();
                cluster.nodes().get(node).close();
                cluster.memberships().get(node).close();
                final long deadline = System.nanoTime() + Duration.ofSeconds(50).toNanos();
                while (watch.maps().read(MapName.REGIONS).orElseThrow().epoch() <= epoch)
                {
                    assertTrue(System.nanoTime() < deadline, "memory node " + node + " was never failed over");
                    Thread.sleep(50);
                }
            }
            final StringWriter out = new StringWriter();
            final picocli.CommandLine cl = KvCli.commandLine();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute("status", "--coordinator", cluster.coordinatorConnectString(), "--timeout",
                "10s"));
            final String text = out.toString();
            assertTrue(text.contains("dead memory nodes [" + cluster.nodes().get(1).name() + ", "
                + cluster.nodes().get(2).name() + "]"), text);
            assertTrue(text.contains("LOST regions ["), text);
        }
    }

    @Test
    void unreachableCoordinatorExitsOneWithAMessage()
    {
        final StringWriter err = new StringWriter();
        final picocli.CommandLine cl = KvCli.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute("status", "--coordinator", "127.0.0.1:1", "--timeout", "300ms"));
        assertTrue(err.toString().contains("127.0.0.1:1"), err.toString());
    }
}
