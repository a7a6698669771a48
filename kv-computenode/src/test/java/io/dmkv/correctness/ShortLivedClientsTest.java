package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.KvStats;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbBatch;

/**
 * A thousand short-lived clients in a row (as CLI calls or YCSB runs are), each opening the
 * store over {@code tcp}, doing a few puts, gets and deletes, and closing, on one 256 MiB memory
 * node with the default 16 MiB blocks: the node holds only a dozen blocks, so without the hand-over on close a
 * few dozen clients would fill it. Every client must succeed (no MemoryFullException), the
 * block allocation table must show a bounded number of blocks in use however many clients came
 * and went, and a last client must find every surviving key and adopt the blocks left to it.
 */
@Timeout(180)
class ShortLivedClientsTest
{
    private static final int CLIENTS = Integer.getInteger("dmkv.shortLived.clients", 1000);
    /** Over {@code tcp}, as CLI calls reach a memory node (about 12 ms per client here). */
    private static final String TRANSPORT = System.getProperty("dmkv.shortLived.transport", "tcp");
    /** The loop also stops (and says so) after this long; at least MIN_CLIENTS must have run. */
    private static final long BUDGET_NS = TimeUnit.SECONDS.toNanos(50);
    private static final int MIN_CLIENTS = 200;

    @Test
    void aThousandShortLivedClientsNeverFillTheNode()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 256L << 20, TRANSPORT))
        {
            final KvConfig config = Fixtures.store(cluster).transport(TRANSPORT).replication(1)
                .asyncThreads(1).build();
            final long deadline = System.nanoTime() + BUDGET_NS;
            int blocksInUseAfterFirst = -1;
            int maxBlocksInUse = 0;
            int clients = 0;
            final long t0 = System.nanoTime();
            for (int c = 0; c < CLIENTS && System.nanoTime() - deadline < 0; c++)
            {
                try (KvStore kv = KvStore.open(config))
                {
                    kv.put("c" + c + "-a", "value-a-" + c);
                    kv.put("c" + c + "-b", "value-b-" + c);
                    kv.put("shared", "from-" + c);
                    assertEquals("value-a-" + c, kv.get("c" + c + "-a"));
                    assertTrue(kv.delete("c" + c + "-b"));
                    if (c > 0)
                    {
                        // The previous client's key, written through a block this client may have adopted.
                        assertEquals("value-a-" + (c - 1), kv.get("c" + (c - 1) + "-a"));
                        assertTrue(kv.update(Fixtures.utf8("c" + (c - 1) + "-a"), Fixtures.utf8("value-a-" + (c - 1))));
                    }
                }
                clients++;
                if (c % 100 == 0 || c == CLIENTS - 1)
                {
                    final int inUse = blocksInUse(cluster);
                    maxBlocksInUse = Math.max(maxBlocksInUse, inUse);
                    if (blocksInUseAfterFirst < 0)
                    {
                        blocksInUseAfterFirst = inUse;
                    }
                }
            }
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            if (clients < CLIENTS)
            {
                System.out.printf("short-lived clients: stopped at the time budget after %d clients%n", clients);
            }
            assertTrue(clients >= Math.min(CLIENTS, MIN_CLIENTS), "only " + clients + " clients in the time budget");

            try (KvStore last = KvStore.open(config))
            {
                for (int c = 0; c < clients; c++)
                {
                    assertEquals("value-a-" + c, last.get("c" + c + "-a"), "c" + c + "-a");
                    assertEquals(null, last.get("c" + c + "-b"));
                }
                assertEquals("from-" + (clients - 1), last.get("shared"));
                last.put("last", "one");
                final KvStats.Allocator stats = last.stats().allocator();
                System.out.printf("short-lived clients (%s): %d clients in %d ms; blocks in use %d after the first, at"
                    + " most %d; the last client: %s%n", TRANSPORT, clients, elapsedMs, blocksInUseAfterFirst,
                    maxBlocksInUse, stats);
                assertTrue(stats.blocksAdopted() > 0, "the last client adopted a block left by an earlier one: " + stats);
                assertEquals(0, stats.blocksClaimed(), "and needed no fresh block: " + stats);
            }
            final int finalInUse = blocksInUse(cluster);
            // A client uses one block per size class it writes (here one or two); the hand-over lets
            // the next client reuse them, so the count stays where the first clients left it.
            assertTrue(maxBlocksInUse <= blocksInUseAfterFirst + 2,
                "blocks in use grew from " + blocksInUseAfterFirst + " to " + maxBlocksInUse);
            assertTrue(finalInUse <= blocksInUseAfterFirst + 2, "blocks in use at the end: " + finalInUse);
        }
    }

    /** Blocks of every region whose table entry is not FREE (owned, or handed over for adoption). */
    private static int blocksInUse(final EmbeddedCluster cluster)
    {
        try (Fixtures.Raw raw = new Fixtures.Raw(cluster, 1))
        {
            int inUse = 0;
            for (int g = 0; g < raw.view.regions(); g++)
            {
                final int count = raw.view.blockCount(g);
                final UnsafeBuffer table = new UnsafeBuffer(new byte[count * BlockAllocationTable.ENTRY_LENGTH]);
                final VerbBatch b = new VerbBatch();
                b.read(raw.view.replica(g, 0), raw.view.batOffset(g), table, 0, table.capacity());
                raw.client.execute(b);
                for (int i = 0; i < count; i++)
                {
                    if (!BlockAllocationTable.isFree(BlockAllocationTable.entry(table, 0, i)))
                    {
                        inUse++;
                    }
                }
            }
            return inUse;
        }
    }
}
