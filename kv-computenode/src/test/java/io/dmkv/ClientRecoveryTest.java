package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
            try (ChildJvm child = ChildJvm.start("128m", StoreChild.class,
                StoreChild.STATIC + String.join(",", cluster.endpoints()), "tcp", Integer.toString(r)))
            {
                dead = child.clientId;
                assertEquals("OK", child.ask("fill a 300 400"));
                assertEquals("OK", child.ask("put a7 changed"));
                try (KvAdmin admin = KvAdmin.open(config))
                {
                    final KvException alive = assertThrows(KvException.class, () -> admin.recover(dead));
                    assertTrue(alive.getMessage().contains("is alive"), alive.getMessage());
                }
                assertEquals("OK changed", child.ask("get a7"), "the running client was left alone");
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
