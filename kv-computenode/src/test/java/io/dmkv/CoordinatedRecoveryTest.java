package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
            final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx160m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp",
                System.getProperty("java.class.path"), StoreChild.class.getName(), cluster.coordinatorConnectString(),
                "tcp", "2"));
            final Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final int id;
            try
            {
                final BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
                final PrintStream out = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
                final String ready = in.readLine();
                assertTrue(ready != null && ready.startsWith("ready "), "child started: " + ready);
                id = Integer.parseInt(ready.substring(6).trim());
                out.println("fill c 200 300");
                assertEquals("OK", in.readLine());
                assertTrue(admin.blocks().ownedPerClient().containsKey(id), "the child holds blocks");
            }
            finally
            {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
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
