package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.memnode.EmbeddedCluster;

/**
 * Recovery refuses a client process that is still running (its heartbeat moves). Once it is
 * SIGKILLed holding blocks, it is recovered from its log (static mode): its
 * blocks are handed over or released, and when other clients then fill the store, which makes
 * them adopt and reuse those blocks, every value the dead client wrote still reads back, and the
 * cluster verifies clean. A second recovery finds nothing to do.
 */
@Timeout(180)
class ClientRecoveryTest
{
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aKilledClientIsRecoveredAndItsLiveObjectsSurviveReuse(final int r) throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 8L << 20, 4L << 20, "tcp", false))
        {
            final KvConfig config = KvConfig.builder().memnodes(cluster.endpoints()).transport("tcp").replication(r)
                .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(1 << 20).build();
            final int dead;
            final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx128m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp",
                System.getProperty("java.class.path"), StoreChild.class.getName(),
                StoreChild.STATIC + String.join(",", cluster.endpoints()), "tcp", Integer.toString(r)));
            final Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try
            {
                final BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
                final PrintStream out = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
                final String ready = in.readLine();
                assertTrue(ready != null && ready.startsWith("ready "), "child started: " + ready);
                dead = Integer.parseInt(ready.substring(6).trim());
                out.println("fill a 300 400");
                assertEquals("OK", in.readLine());
                out.println("put a7 changed");
                assertEquals("OK", in.readLine());
                try (KvAdmin admin = KvAdmin.open(config))
                {
                    final int running = dead;
                    final KvException alive = assertThrows(KvException.class, () -> admin.recover(running));
                    assertTrue(alive.getMessage().contains("is alive"), alive.getMessage());
                }
                out.println("get a7");
                assertEquals("OK changed", in.readLine(), "the running client was left alone");
            }
            finally
            {
                child.destroyForcibly().waitFor();
            }
            try (KvAdmin admin = KvAdmin.open(config))
            {
                assertTrue(admin.blocks().ownedPerClient().containsKey(dead), "the dead client holds blocks");
                final KvAdmin.Recovery rec = admin.recover(dead);
                // The heads follow the oldest operation in flight at each heartbeat; the walk goes
                // from there to the last operation the client wrote.
                assertTrue(rec.logEntries() >= 1 && rec.logEntries() <= 301, "walked the log from its heads: " + rec);
                assertTrue(rec.blocksHandedOver() >= 1, "blocks with live values are handed over: " + rec);
                assertFalse(admin.blocks().ownedPerClient().containsKey(dead), "no block left owned by the dead client");
                int filled = 0;
                try (KvStore kv = KvStore.open(config))
                {
                    for (; filled < 20_000; filled++)
                    {
                        kv.put("b" + filled, "b" + filled + "-" + "w".repeat(400));
                    }
                }
                catch (final MemoryFullException full)
                {
                    // The store is full: every block was taken, the recovered ones included.
                }
                assertTrue(filled > 100, "others could write after the recovery: " + filled);
                try (KvStore kv = KvStore.open(config))
                {
                    for (int i = 0; i < 300; i++)
                    {
                        assertEquals(i == 7 ? "changed" : "a" + i + "-" + "v".repeat(400), kv.get("a" + i), "key a" + i);
                    }
                    for (int i = 0; i < filled; i += 97)
                    {
                        assertEquals("b" + i + "-" + "w".repeat(400), kv.get("b" + i));
                    }
                }
                assertEquals(List.of(), admin.verify(true));
                final KvAdmin.Recovery again = admin.recover(dead);
                assertEquals(0, again.blocksHandedOver() + again.blocksReleased() + again.slotsSettled(),
                    "a second recovery finds nothing to do: " + again);
            }
        }
    }
}
