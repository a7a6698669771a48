package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;

/**
 * Coordinated mode: a client process SIGKILLed holding blocks is recovered by a live client once
 * its coordinator session has expired (and its operations have certainly ended): its blocks are
 * handed over, its id is released for reuse, and what it wrote reads back. The test waits for
 * outcomes, bounded, never for a time.
 */
@Timeout(180)
class CoordinatedRecoveryTest
{
    @Test
    void aLiveClientRecoversAKilledOneAfterItsSessionExpires() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "tcp");
            KvStore observer = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport("tcp").replication(2).blockSize(64 * 1024).bucketGroups(16).initialDepth(1)
                .indexAreaBytes(1 << 20).opTimeout(Duration.ofSeconds(3)).recoveryCheckPeriod(Duration.ofMillis(200))
                .build());
            KvAdmin admin = KvAdmin.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .transport("tcp").replication(2).build()))
        {
            observer.put("seen", "yes");
            final int id;
            try (ChildJvm child = ChildJvm.start("160m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2"))
            {
                id = child.clientId;
                assertEquals("OK", child.ask("fill c 200 300"));
                assertTrue(admin.blocks().ownedPerClient().containsKey(id), "the child holds blocks");
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while ((admin.blocks().ownedPerClient().containsKey(id) || admin.deadClients().contains(id))
                && System.nanoTime() < deadline)
            {
                Thread.sleep(200);
            }
            assertFalse(admin.blocks().ownedPerClient().containsKey(id), "the killed client's blocks were recovered");
            assertFalse(admin.deadClients().contains(id), "its id was released");
            for (int i = 0; i < 200; i += 7)
            {
                assertEquals("c" + i + "-" + "v".repeat(300), observer.get("c" + i));
            }
            assertEquals(List.of(), admin.verify(true));
        }
    }
}
