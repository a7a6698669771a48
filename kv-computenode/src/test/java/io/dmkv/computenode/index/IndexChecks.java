package io.dmkv.computenode.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/** What a quiet index must look like after any history of operations and splits. */
public final class IndexChecks
{
    private IndexChecks()
    {
    }

    /**
     * Every subtable the directory points at reads the same on every replica (no SNAPSHOT and no
     * split left half done), no bucket is frozen or insert-locked, every bucket header matches its
     * directory entry's depth, and every occupied slot or tombstone belongs to its subtable (no
     * value stranded by a split).
     *
     * @return how many distinct subtables were checked.
     */
    public static int assertQuietIndexConsistent(final ClusterView view, final VerbsClient client)
    {
        final IndexDirectory.Snapshot dir = new IndexDirectory(view, client).refresh();
        final int groups = view.descriptor().bucketGroups();
        final int length = Subtable.length(groups);
        final VerbBatch b = new VerbBatch();
        final Set<Long> done = new HashSet<>();
        for (final long e : dir.entries())
        {
            final long st = IndexRoot.entrySubtable(e);
            if (!done.add(st))
            {
                continue;
            }
            final byte[][] copies = new byte[view.replication()][length];
            for (int j = 0; j < view.replication(); j++)
            {
                b.reset().read(view.replicaOf(st, j), GlobalAddress.offset(st),
                    new UnsafeBuffer(copies[j]), 0, length);
                client.execute(b);
            }
            for (int j = 1; j < view.replication(); j++)
            {
                assertArrayEquals(copies[0], copies[j], "replica " + j + " of subtable " + Long.toHexString(st));
            }
            final UnsafeBuffer primary = new UnsafeBuffer(copies[0]);
            for (int bucket = 0; bucket < 3 * groups; bucket++)
            {
                final long header = Bucket.header(primary, bucket * Bucket.LENGTH);
                final String where = "bucket " + bucket + " of subtable " + GlobalAddress.toString(st);
                assertFalse(Bucket.isFrozen(header), where + " is still frozen");
                assertFalse(Bucket.isInsertLocked(header), where + " is still insert-locked");
                assertEquals(IndexRoot.entryLocalDepth(e), Bucket.localDepth(header), where + ": local depth");
                for (int i = 0; i < Bucket.SLOT_COUNT; i++)
                {
                    final long slot = Bucket.slot(primary, bucket * Bucket.LENGTH, i);
                    if (slot != Slot.EMPTY)
                    {
                        assertTrue(Bucket.covers(header, Slot.hashSuffix(slot)),
                            where + " holds " + Slot.toString(slot) + ", a key it does not cover");
                    }
                }
            }
        }
        return done.size();
    }
}
