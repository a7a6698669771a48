package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;

/**
 * Two concurrent INSERTs of one absent key: exactly one may succeed. FuseeIndex serialises
 * inserts of a key with the insert lock of its first bucket, but takes it only when the client's
 * index cache has no entry for the key ({@code mayInsert}); a client whose cache still holds the
 * slot of a since-deleted copy inserts without the lock. Held at an exact step:
 * <ol>
 * <li>client B inserts K (and caches its slot); client D deletes K (B's cache entry is now stale);</li>
 * <li>client A (no cache entry) INSERTs K: takes the lock, reads the buckets, finds no K, picks
 * the first free slot X, and is held before its SNAPSHOT round trip;</li>
 * <li>D deletes another key M whose slot W lies before X in the same bucket;</li>
 * <li>B INSERTs K: no lock (stale cache), no K found, first free slot is now W: B inserts there;</li>
 * <li>A goes on: X still holds what A read, so A inserts there too.</li>
 * </ol>
 * (A correct B takes the lock once it finds the key absent, waits for A, then finds A's K.)
 */
@Timeout(120)
class StaleCacheInsertTest
{
    @Test
    void twoInsertsOfOneAbsentKeyNeverBothSucceed() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(2, 32L << 20, 8L << 20, "local"))
        {
            // One subtable of one bucket group: every key lands in the same two combined buckets.
            try (KvStore formatter = KvStore.open(Fixtures.small(cluster, 2).bucketGroups(1).initialDepth(0).build()))
            {
                formatter.put("format", "x");
            }
            final PausingTransport pausing = new PausingTransport(cluster.newTransport());
            final ExecutorService pool = Executors.newFixedThreadPool(2);
            try (FuseeIndexes clients = new FuseeIndexes(cluster, 2);
                Fixtures.Raw raw = new Fixtures.Raw(cluster, 2))
            {
                final FuseeIndex a = clients.open(pausing);
                final FuseeIndex b = clients.open();
                final FuseeIndex d = clients.open();
                final byte[] key = Fixtures.utf8("K");
                for (int n = 0; n < 6; n++)
                {
                    assertEquals(Result.INSERTED, d.mutate(Mode.INSERT, Fixtures.utf8("filler-" + n), Fixtures.utf8("f")));
                }
                assertEquals(Result.INSERTED, b.mutate(Mode.INSERT, key, Fixtures.utf8("from-b-1")));
                assertEquals(Result.DELETED, d.mutate(Mode.DELETE, key, null));

                // Where will A insert, and which key sits before that slot in the same bucket?
                int[] plan = plan(raw, key);
                for (int n = 6; plan == null && n < 14; n++)
                {
                    d.mutate(Mode.INSERT, Fixtures.utf8("filler-" + n), Fixtures.utf8("f"));
                    plan = plan(raw, key);
                }
                assertNotNull(plan, "a slot before K's first free slot holds another key");
                final byte[] m = keyAt(raw, key, plan[0], plan[1]);

                // A's second round trip (SNAPSHOT on the backups) is the first CAS A posts to a backup.
                final String backupNode = cluster.endpoints().get(raw.view.nodeOf(0, 1));
                pausing.pauseBefore((endpoint, op, region, offset, length) ->
                    op == Verb.CAS && region == 0 && endpoint.equals(backupNode));
                final Future<Result> aInsert = pool.submit(() -> a.mutate(Mode.INSERT, key, Fixtures.utf8("from-a")));
                assertTrue(pausing.awaitPaused(30), "A read the buckets and is held before its SNAPSHOT");

                assertEquals(Result.DELETED, d.mutate(Mode.DELETE, m, null), "D frees the slot before X");
                // B runs while A is held (a correct B waits for A's insert lock, so A is let go shortly after).
                final Future<Result> bInsertF = pool.submit(() -> b.mutate(Mode.INSERT, key, Fixtures.utf8("from-b-2")));
                Thread.sleep(300);
                pausing.release();
                final Result aResult = aInsert.get(60, TimeUnit.SECONDS);
                final Result bInsert = bInsertF.get(60, TimeUnit.SECONDS);

                final int copies = raw.countSlots(key);
                assertAll(
                    () -> assertTrue(aResult != Result.INSERTED || bInsert != Result.INSERTED,
                        "both concurrent INSERTs of the absent key succeeded (A: " + aResult + ", B: " + bInsert
                            + "); B held a stale cache entry and took no insert lock"),
                    () -> assertEquals(1, copies, "slots holding the key"));
            }
            finally
            {
                pausing.release();
                pool.shutdownNow();
                pausing.close();
            }
        }
    }

    /**
     * As FuseeIndex's firstFreeSlot: the emptier of the key's two combined buckets, its lowest
     * free slot X. Returns {combined bucket, index of an occupied slot before X}, or null.
     */
    private static int[] plan(final Fixtures.Raw raw, final byte[] key)
    {
        final long hash = KeyHash.hash(key);
        final int groups = raw.view.descriptor().bucketGroups();
        final int c1 = Subtable.combinedBucket1(hash, groups);
        final int c2 = Subtable.combinedBucket2(hash, groups);
        final UnsafeBuffer b1 = bucket(raw, hash, c1);
        final UnsafeBuffer b2 = bucket(raw, hash, c2);
        final int free1 = Integer.bitCount(CombinedBucket.emptySlots(b1, 0, c1));
        final int free2 = Integer.bitCount(CombinedBucket.emptySlots(b2, 0, c2));
        final int c = free1 >= free2 ? c1 : c2;
        final UnsafeBuffer chosen = free1 >= free2 ? b1 : b2;
        final int x = Integer.numberOfTrailingZeros(CombinedBucket.emptySlots(chosen, 0, c));
        // An occupied main-bucket slot before X (a main-bucket slot counts for this bucket only).
        for (int i = Math.min(x, 7) - 1; i >= 0; i--)
        {
            if (!Slot.isFree(CombinedBucket.slot(chosen, 0, c, i)))
            {
                return new int[] {c, i};
            }
        }
        return null;
    }

    private static UnsafeBuffer bucket(final Fixtures.Raw raw, final long hash, final int c)
    {
        final long subtable = IndexRoot.entrySubtable(new IndexDirectory(raw.view, raw.client).refresh().entryFor(hash));
        final long at = GlobalAddress.add(subtable, Subtable.combinedBucketOffset(c));
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[CombinedBucket.LENGTH]);
        final VerbBatch batch = new VerbBatch();
        batch.read(raw.view.replicaOf(at, 0), GlobalAddress.offset(at), buf, 0, CombinedBucket.LENGTH);
        raw.client.execute(batch);
        return buf;
    }

    /** The key of the object that slot {@code i} of combined bucket {@code c} points at. */
    private static byte[] keyAt(final Fixtures.Raw raw, final byte[] key, final int c, final int i)
    {
        final long value = CombinedBucket.slot(bucket(raw, KeyHash.hash(key), c), 0, c, i);
        final long address = Slot.address(value);
        final UnsafeBuffer object = new UnsafeBuffer(new byte[Slot.objectLength(value)]);
        final VerbBatch batch = new VerbBatch();
        batch.read(raw.view.replicaOf(address, 0), GlobalAddress.offset(address), object, 0, object.capacity());
        raw.client.execute(batch);
        return KvObject.keyBytes(object, 0);
    }
}
