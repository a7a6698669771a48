package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * A client stopped (SIGSTOP) until the coordinator expires its session, then resumed (SIGCONT),
 * neither writes nor reads: its map lease lapsed while it was stopped, and its session is gone,
 * so the cluster may already have recovered its log and handed its id on. Nothing of what it
 * tries lands. The child is a real process; the test asserts what happened, not when.
 */
@Timeout(120)
class ClientFencingTest
{
    @Test
    void aClientStoppedPastItsSessionRefusesReadsAndWritesWhenItResumes() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "tcp");
            KvStore observer = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport("tcp").replication(2).blockSize(64 * 1024).bucketGroups(16).initialDepth(1)
                .indexAreaBytes(2 << 20).build());
            Coordinator zk = Coordinator.open(CoordinatorSettings.of(cluster.coordinatorConnectString())))
        {
            observer.put("k", "before");
            try (ChildJvm child = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2"))
            {
                final int id = child.clientId;
                assertEquals("OK", child.ask("put k from-child"));
                assertEquals("from-child", observer.get("k"));

                child.stop();
                // Until the coordinator has expired the stopped client's session (its id: dead, reserved).
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!zk.clientIds().dead().contains(id) && System.nanoTime() < deadline)
                {
                    Thread.sleep(100);
                }
                assertTrue(zk.clientIds().dead().contains(id), "the stopped client's session expired");
                observer.put("k", "moved-on");
                child.resume();

                for (int i = 0; i < 3; i++)
                {
                    final String answer = child.ask("put k from-stale-child-" + i);
                    assertTrue(answer != null && answer.startsWith("ERR"), "a write after resuming is refused: " + answer);
                    final String read = child.ask("get k");
                    assertTrue(read != null && read.startsWith("ERR"), "a read after resuming is refused: " + read);
                    Thread.sleep(300);
                }
                assertEquals("moved-on", observer.get("k"), "nothing the stale client tried landed");
            }
        }
    }
}
