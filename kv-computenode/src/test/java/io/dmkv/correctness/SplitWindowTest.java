package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.Verb;

/**
 * A subtable split (docs/index-split.md) held at one exact point: after step 7 (the directory
 * points the key at the new half S') and before step 8 (S's frozen headers are rewritten with the
 * new local depth). The splitter's client runs over a {@link PausingTransport} that holds the
 * first WRITE of step 8 until the test lets it go. Meanwhile:
 * <ul>
 * <li>a writer that re-read the directory updates the key in S' and completes;</li>
 * <li>a reader whose directory still says S searches the key: S's headers are frozen but still
 * cover the key (same local depth), and S still holds the pre-split copy; the read began after
 * the update completed, so it must return the updated value;</li>
 * <li>another client whose directory still says S then updates the key: its CAS lands on S's
 * frozen copy, its fence sees FROZEN, and after the split it re-applies on S', where it finds the
 * first writer's value instead of its old one and (the protocol's "a newer one: nothing to do")
 * drops its write; but its update began after the first one completed, so it is the one that
 * must stay.</li>
 * </ul>
 */
@Timeout(120)
class SplitWindowTest
{
    @Test
    void readsAndWritesThroughAStaleDirectoryDuringASplitStayLinearizable() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(2, 32L << 20, 8L << 20, "local"))
        {
            // One subtable of one bucket group (21 slots): the 21st key or so splits it.
            try (KvStore formatter = KvStore.open(Fixtures.small(cluster, 2).bucketGroups(1).initialDepth(0).build()))
            {
                formatter.put("format", "x");
            }
            final PausingTransport pausing = new PausingTransport(cluster.newTransport());
            final ExecutorService pool = Executors.newFixedThreadPool(2);
            try (FuseeIndexes clients = new FuseeIndexes(cluster, 2))
            {
                final FuseeIndex splitterSide = clients.open(pausing);
                final FuseeIndex writer = clients.open();
                final FuseeIndex reader = clients.open();
                final FuseeIndex lateWriter = clients.open();

                // A key that moves to the new half when the depth-0 subtable splits (hash bit 0 set).
                String k = null;
                for (int n = 0; k == null; n++)
                {
                    if ((KeyHash.hash(Fixtures.utf8("key-" + n)) & 1) == 1)
                    {
                        k = "key-" + n;
                    }
                }
                final byte[] key = Fixtures.utf8(k);
                assertEquals(Result.INSERTED, writer.mutate(Mode.INSERT, key, Fixtures.utf8("v1")));
                assertEquals("v1", Fixtures.string(reader.search(key)), "the reader caches directory and slot");
                assertEquals("v1", Fixtures.string(lateWriter.search(key)), "so does the late writer");
                final long subtable = IndexRoot.entrySubtable(reader.directory().current().entryFor(KeyHash.hash(key)));
                final long firstHeader = GlobalAddress.offset(subtable) + Bucket.HEADER_OFFSET;
                pausing.pauseBefore((endpoint, op, region, offset, length) ->
                    op == Verb.WRITE && length == 8 && region == 0 && offset == firstHeader);

                // The splitter's client fills the subtable until its split reaches step 8 and is held.
                final Future<?> filler = pool.submit(() ->
                {
                    for (int n = 0; n < 200 && !pausing.isPaused(); n++)
                    {
                        splitterSide.mutate(Mode.INSERT, Fixtures.utf8("filler-" + n), Fixtures.utf8("f"));
                    }
                    return null;
                });
                assertTrue(pausing.awaitPaused(30), "the split reached step 8");

                writer.directory().refresh();
                assertEquals(Result.UPDATED, writer.mutate(Mode.UPDATE, key, Fixtures.utf8("v2")),
                    "the fresh writer updates the key in S'");
                final String staleRead = Fixtures.string(reader.search(key));

                final Future<Result> lateWrite = pool.submit(() -> lateWriter.mutate(Mode.UPDATE, key, Fixtures.utf8("v3")));
                // The late writer's fence waits for the split to finish: let it finish.
                Thread.sleep(200);
                pausing.release();
                assertEquals(Result.UPDATED, lateWrite.get(60, TimeUnit.SECONDS));
                filler.get(60, TimeUnit.SECONDS);

                final String last = Fixtures.string(clients.open().search(key));
                assertAll(
                    () -> assertEquals("v2", staleRead, "a search that began after update(v2) completed read the"
                        + " pre-split copy in S (its frozen headers still cover the key between steps 7 and 8)"),
                    () -> assertEquals("v3", last, "update(v3) began after update(v2) completed and returned"
                        + " UPDATED, but its re-apply on S' found v2 instead of v1 and dropped the write"));
            }
            finally
            {
                pausing.release();
                pool.shutdownNow();
                pausing.close();
            }
        }
    }
}
