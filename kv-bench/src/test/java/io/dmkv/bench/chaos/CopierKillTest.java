package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvAdmin;
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
 * A copier that dies in the middle of a copy, and a memory node stopped long enough to be replaced
 * (docs/recovery.md, "Re-replication", "Identity"), on one cluster so the CI pays for one set-up
 * and one fail-over: ZooKeeper and four memory nodes (r = 3) in processes of their own; a writer
 * process holds the lowest client id, so it is the one that fails over and copies.
 * <ol>
 * <li>A memory node is stopped (SIGSTOP) and failed over, a replacement starts, and the writer
 * process is SIGKILLed as soon as the region map shows a joining replica. The map keeps the joiner
 * (possibly sealed); once the copier's session expired the next lowest client (this test's store)
 * restarts the copy and every region is back at r replicas with no joiner and no seal, none on the
 * stopped node (copied onto the replacement or free regions of the others); every write the dead writer acknowledged reads back, and verify is clean once its
 * client id is recovered.</li>
 * <li>A client that still holds the keys of before the stop has its verbs refused by a survivor
 * (it re-keyed the regions whose replica list changed) and, once the stopped node is continued
 * (SIGCONT), by that node itself (it finds its session expired and revokes every key).</li>
 * </ol>
 * Waits are for outcomes, bounded.
 */
@Timeout(300)
class CopierKillTest
{
    private static final Duration SESSION = Duration.ofSeconds(6);
    private static final int STOPPED = 2;

    @Test
    void aCopierKilledMidCopyLeavesAJoinerTheNextRepairerFinishesAndTheStoppedNodeIsFenced() throws Exception
    {
        final Path dir = Files.createTempDirectory("dmkv-copier-kill-");
        try (MemnodeCluster cluster = MemnodeCluster.start(4, 32L << 20, SESSION);
            Coordinator watch = Coordinator.open(CoordinatorSettings.of(cluster.connectString()));
            VerbsTransport transport = VerbsTransports.create("tcp");
            VerbsClient stale = VerbsClient.connect(transport, cluster.nodes().endpoints(), ClientOptions.defaults()))
        {
            final Path log = dir.resolve("copier.log");
            final Process copier = new ProcessBuilder(MemnodeCluster.command(ChaosWriter.class, "tcp",
                ChaosWriter.COORDINATOR + cluster.connectString(), "3", "0", "1", "100", "7", log.toString()))
                .redirectError(dir.resolve("copier.err").toFile()).start();
            final String ready = new BufferedReader(new InputStreamReader(copier.getInputStream(),
                StandardCharsets.UTF_8)).readLine();
            assertEquals("ready 1", ready, "the writer process holds client id 1: it is the copier");
            // A short operation timeout: the store recovers the dead copier's client id that much sooner.
            final KvConfig config = KvConfig.builder().coordinator(cluster.connectString()).transport("tcp")
                .replication(3).sessionTimeout(SESSION).mapLease(Duration.ofSeconds(2))
                .opTimeout(Duration.ofSeconds(4)).recoveryCheckPeriod(Duration.ofMillis(250)).build();
            final Process stopped = cluster.nodes().process(STOPPED);
            try (KvStore store = KvStore.open(config))
            {
                for (int i = 0; i < 50; i++)
                {
                    store.put("mine" + i, "v" + i);
                }
                final RegionMap before = map(watch);
                assertTrue(before.hasReplicaOn(0, STOPPED), "the stopped node holds a replica of region 0");
                read(stale, 0);
                read(stale, STOPPED);
                signal("STOP", stopped);
                await(watch, m -> m.epoch() > before.epoch() && m.regionsOn(STOPPED).length == 0,
                    "the fail-over of the stopped node");
                cluster.addNode();
                await(watch, RegionMap::anyJoining, "a joining replica");
                copier.destroyForcibly().waitFor();
                final RegionMap left = map(watch);
                assertTrue(left.anyJoining(), "the dead copier left its joiner in the map");
                final RegionMap done = await(watch, m -> m.fewestReplicas() == 3 && !m.anyJoining() && !m.anySealed(),
                    "the next repairer finishing the copy");
                // The copies go to the replacement or to free regions of the others, whichever the plan
                // finds first (a loaded machine may plan before the replacement is admitted).
                assertEquals(5, done.memoryNodeCount(), "the replacement was admitted");
                assertEquals(0, done.regionsOn(STOPPED).length, "the stopped node's replicas were rebuilt elsewhere");
                // A survivor re-keyed region 0 (its replica list changed): the old key is refused at once.
                awaitRefused(stale, 0);
                for (int i = 0; i < 50; i++)
                {
                    assertEquals("v" + i, store.get("mine" + i));
                }
                final Map<String, List<String>> allowed = ChaosRun.expected(List.of(log));
                assertTrue(!allowed.isEmpty(), "the copier acknowledged writes");
                assertEquals(List.of(), ChaosRun.unexpected(store, allowed));
                store.put("after", "copy");
                assertEquals("copy", store.get("after"));
                // The store, the lowest live client now, recovers the dead copier's client id too.
                try (KvAdmin admin = KvAdmin.open(config))
                {
                    final long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (!admin.deadClients().isEmpty())
                    {
                        assertTrue(System.nanoTime() < deadline, "the dead copier's client id was never recovered");
                        Thread.sleep(100);
                    }
                }
            }
            try (KvAdmin admin = KvAdmin.open(config))
            {
                assertEquals(List.of(), admin.verify(true));
            }
            // The continued node finds its session expired and revokes every key it had.
            signal("CONT", stopped);
            awaitRefused(stale, STOPPED);
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The coordinator's region map as it is now. */
    static RegionMap map(final Coordinator c)
    {
        return RegionMap.fromBytes(c.maps().read(MapName.REGIONS).orElseThrow().payload());
    }

    /** Waits (bounded) until the coordinator's region map meets {@code condition}; returns that map. */
    static RegionMap await(final Coordinator c, final Predicate<RegionMap> condition, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true)
        {
            final RegionMap m = map(c);
            if (condition.test(m))
            {
                return m;
            }
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what + " (map epoch " + m.epoch()
                + ")");
            Thread.sleep(5);
        }
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
