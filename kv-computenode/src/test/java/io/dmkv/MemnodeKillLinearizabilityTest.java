package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.correctness.LinearizabilityChecker;
import io.dmkv.correctness.Op;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The per-key linearizability checker over a history with a memory-node kill: client processes
 * race on a few shared keys (coordinated, r = 3 on four memory nodes) while a memory node dies
 * and is failed over. A call that failed (cut off by the death, or reported
 * {@link KvOutcomeUnknownException}) may have happened or not; every answered call must fit,
 * so a write reported failed that took effect, or an insert reported false after its own first
 * attempt landed, shows up as a violation. The seed is printed; waits are for outcomes.
 */
@Timeout(240)
class MemnodeKillLinearizabilityTest
{
    private static final int CLIENTS = 3;
    private static final int KEYS = 6;

    @Test
    void historiesWithAKilledMemoryNodeStayLinearizable(@TempDir final Path dir) throws Exception
    {
        final long seed = System.nanoTime();
        System.out.println("memory-node-kill history: seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(4, 32L << 20, 8L << 20, "tcp");
            Coordinator watch = Coordinator.open(cluster.coordinatorSettings()))
        {
            final KvConfig config = KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("tcp")
                .replication(3).blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8)
                .indexAreaBytes(1 << 20).sessionTimeout(Duration.ofSeconds(10)).mapLease(Duration.ofSeconds(3))
                .recoveryCheckPeriod(Duration.ofMillis(200)).build();
            final List<Path> logs = new ArrayList<>();
            // The lowest client id: it runs the fail-over, and reads the keys at the end.
            try (KvStore observer = KvStore.open(config))
            {
                final ChildJvm[] p = new ChildJvm[CLIENTS];
                for (int c = 0; c < CLIENTS; c++)
                {
                    final Path log = dir.resolve("history-" + c + ".log");
                    logs.add(log);
                    p[c] = ChildJvm.start("128m", HistoryChild.class,
                        HistoryChild.COORDINATOR + cluster.coordinatorConnectString(), "3", Integer.toString(KEYS),
                        Long.toString(random.nextLong()), log.toString());
                }
                Thread.sleep(1_000 + random.nextInt(1_000));
                final long epoch = watch.maps().read(MapName.REGIONS).orElseThrow().epoch();
                final int node = random.nextInt(4);
                cluster.nodes().get(node).close();
                cluster.memberships().get(node).close();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (watch.maps().read(MapName.REGIONS).orElseThrow().epoch() <= epoch)
                {
                    assertTrue(System.nanoTime() < deadline, "memory node " + node + " was never failed over");
                    Thread.sleep(50);
                }
                Thread.sleep(2_000);
                for (final ChildJvm q : p)
                {
                    q.endInput();
                }
                for (final ChildJvm q : p)
                {
                    assertTrue(q.process.waitFor(120, TimeUnit.SECONDS), "a client stopped when asked");
                    assertEquals(0, q.process.exitValue(), "a client exits cleanly");
                }
                final List<Op> history = new ArrayList<>();
                for (int i = 0; i < logs.size(); i++)
                {
                    KilledClientsLinearizabilityTest.read(logs.get(i), i, history);
                }
                for (int key = 0; key < KEYS; key++)
                {
                    final long t0 = System.nanoTime();
                    final String v = observer.get("h" + key);
                    history.add(Op.get(10_000, "h" + key, v, t0, System.nanoTime()));
                }
                final LinearizabilityChecker.Result r = new LinearizabilityChecker().check(history);
                System.out.println("memory-node-kill history: node " + node + " killed, " + history.size()
                    + " operations, " + r.verdict());
                assertTrue(history.size() > 200, "enough operations ran: " + history.size());
                assertEquals(LinearizabilityChecker.Verdict.LINEARIZABLE, r.verdict(), r.toString());
            }
            try (KvAdmin admin = KvAdmin.open(config))
            {
                assertEquals(List.of(), admin.verify(true));
            }
        }
    }
}
