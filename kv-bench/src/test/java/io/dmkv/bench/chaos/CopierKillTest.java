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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MapName;

/**
 * A copier that dies in the middle of a copy (docs/recovery.md, "Re-replication"): ZooKeeper and
 * four memory nodes (r = 3) in processes of their own; a writer process holds the lowest client
 * id, so it is the one that fails over and copies. A memory node is SIGKILLed and failed over, a
 * replacement starts, and the writer process is SIGKILLed as soon as the region map shows a
 * joining replica. The map keeps the joiner (possibly sealed); once the copier's session expired
 * the next lowest client (this test's store) restarts the copy and every region is back at r
 * replicas with no joiner and no seal; every write the dead writer acknowledged reads back, and
 * verify is clean once its client id is recovered. Waits are for outcomes, bounded.
 */
@Timeout(300)
class CopierKillTest
{
    private static final Duration SESSION = Duration.ofSeconds(6);

    @Test
    void aCopierKilledMidCopyLeavesAJoinerTheNextRepairerFinishes() throws Exception
    {
        final Path dir = Files.createTempDirectory("dmkv-copier-kill-");
        try (MemnodeCluster cluster = MemnodeCluster.start(4, 64L << 20, SESSION);
            Coordinator watch = Coordinator.open(CoordinatorSettings.of(cluster.connectString())))
        {
            final Path log = dir.resolve("copier.log");
            final Process copier = new ProcessBuilder(MemnodeCluster.command(ChaosWriter.class, "tcp",
                ChaosWriter.COORDINATOR + cluster.connectString(), "3", "0", "1", "100", "7", log.toString()))
                .redirectError(dir.resolve("copier.err").toFile()).start();
            final String ready = new BufferedReader(new InputStreamReader(copier.getInputStream(),
                StandardCharsets.UTF_8)).readLine();
            assertEquals("ready 1", ready, "the writer process holds client id 1: it is the copier");
            final KvConfig config = KvConfig.builder().coordinator(cluster.connectString()).transport("tcp")
                .replication(3).sessionTimeout(SESSION).mapLease(Duration.ofSeconds(2))
                .recoveryCheckPeriod(Duration.ofMillis(250)).build();
            try (KvStore store = KvStore.open(config))
            {
                for (int i = 0; i < 50; i++)
                {
                    store.put("mine" + i, "v" + i);
                }
                final long epoch = map(watch).epoch();
                cluster.nodes().kill(3);
                await(watch, m -> m.epoch() > epoch && m.regionsOn(3).length == 0, "the fail-over of node 3");
                cluster.addNode();
                await(watch, RegionMap::anyJoining, "a joining replica");
                copier.destroyForcibly().waitFor();
                final RegionMap left = map(watch);
                assertTrue(left.anyJoining(), "the dead copier left its joiner in the map");
                final RegionMap done = await(watch, m -> m.fewestReplicas() == 3 && !m.anyJoining() && !m.anySealed(),
                    "the next repairer finishing the copy");
                assertTrue(done.regionsOn(4).length > 0, "the replacement holds replicas");
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
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static RegionMap map(final Coordinator c)
    {
        return RegionMap.fromBytes(c.maps().read(MapName.REGIONS).orElseThrow().payload());
    }

    private static RegionMap await(final Coordinator c, final Predicate<RegionMap> condition, final String what)
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
}
