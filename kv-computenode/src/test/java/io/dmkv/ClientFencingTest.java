package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
            final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx192m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp",
                System.getProperty("java.class.path"), StoreChild.class.getName(), cluster.coordinatorConnectString(),
                "tcp", "2"));
            final Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try
            {
                final BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
                final PrintStream out = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
                final String ready = in.readLine();
                assertTrue(ready != null && ready.startsWith("ready "), "child started: " + ready);
                final int id = Integer.parseInt(ready.substring(6).trim());
                out.println("put k from-child");
                assertEquals("OK", in.readLine());
                assertEquals("from-child", observer.get("k"));

                signal(child, "STOP");
                // Until the coordinator has expired the stopped client's session (its id: dead, reserved).
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!zk.clientIds().dead().contains(id) && System.nanoTime() < deadline)
                {
                    Thread.sleep(100);
                }
                assertTrue(zk.clientIds().dead().contains(id), "the stopped client's session expired");
                observer.put("k", "moved-on");
                signal(child, "CONT");

                for (int i = 0; i < 3; i++)
                {
                    out.println("put k from-stale-child-" + i);
                    final String answer = in.readLine();
                    assertTrue(answer != null && answer.startsWith("ERR"), "a write after resuming is refused: " + answer);
                    out.println("get k");
                    final String read = in.readLine();
                    assertTrue(read != null && read.startsWith("ERR"), "a read after resuming is refused: " + read);
                    Thread.sleep(300);
                }
                assertEquals("moved-on", observer.get("k"), "nothing the stale client tried landed");
            }
            finally
            {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void signal(final Process p, final String signal) throws Exception
    {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor());
    }
}
