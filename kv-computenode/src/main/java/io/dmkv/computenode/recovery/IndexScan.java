package io.dmkv.computenode.recovery;

import java.util.Arrays;
import java.util.function.IntPredicate;

import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Reads the whole index, one subtable at a time, from every replica (or the primary only), and
 * hands each subtable to a {@link Visitor}. Memory is one subtable per replica, whatever the
 * index size. A pass is <i>stable</i> when the root did not change while it ran and no bucket it
 * read was frozen by a split: only then does it hold every slot (a split copies slots to the new
 * subtable before it empties them in the old one, so a pass racing a split may miss a slot).
 * Recovery and verification repeat a pass until it is stable.
 */
public final class IndexScan
{
    /** What a pass hands over for each subtable. */
    public interface Visitor
    {
        /**
         * One subtable: {@code replicas[j]} holds replica j's bytes (only replica 0 if the pass reads
         * the primary only; one per live replica of the subtable's region, which may be fewer than
         * r after a memory node failed), {@code length} bytes each, starting at global address
         * {@code subtable}.
         */
        void subtable(long subtable, UnsafeBuffer[] replicas, int length);
    }

    private static final int CHUNK = 1 << 20;

    private final ClusterView view;
    private final VerbsClient client;
    private final IndexDirectory directory;
    private final IntPredicate regions;
    private final int length;

    public IndexScan(final ClusterView view, final VerbsClient client, final IndexDirectory directory)
    {
        this(view, client, directory, g -> true);
    }

    /** A scan of the subtables in the regions {@code regions} accepts only (a fail-over skips lost regions). */
    public IndexScan(final ClusterView view, final VerbsClient client, final IndexDirectory directory,
        final IntPredicate regions)
    {
        this.view = view;
        this.client = client;
        this.directory = directory;
        this.regions = regions;
        this.length = Subtable.length(view.descriptor().bucketGroups());
    }

    /**
     * One pass over every subtable the directory names.
     *
     * @return true if the pass was stable (see the class comment).
     */
    public boolean pass(final boolean allReplicas, final Visitor visitor)
    {
        final IndexDirectory.Snapshot before = directory.refresh();
        final int replicas = allReplicas ? view.replication() : 1;
        final UnsafeBuffer[] buffers = new UnsafeBuffer[replicas];
        for (int j = 0; j < replicas; j++)
        {
            buffers[j] = new UnsafeBuffer(new byte[length]);
        }
        boolean frozen = false;
        final LongHashSet seen = new LongHashSet();
        for (final long entry : before.entries())
        {
            final long subtable = IndexRoot.entrySubtable(entry);
            if (subtable == 0 || !seen.add(subtable) || !regions.test(GlobalAddress.regionId(subtable)))
            {
                continue;
            }
            final int live = Math.min(replicas, view.replicasOf(subtable));
            final VerbBatch b = new VerbBatch();
            for (int j = 0; j < live; j++)
            {
                for (int at = 0; at < length; at += CHUNK)
                {
                    view.read(b, subtable + at, j, buffers[j], at, Math.min(CHUNK, length - at));
                }
            }
            client.execute(b);
            for (int at = 0; at < length && !frozen; at += Bucket.LENGTH)
            {
                frozen = Bucket.isFrozen(buffers[0].getLong(at));
            }
            visitor.subtable(subtable, live == replicas ? buffers : Arrays.copyOf(buffers, live), length);
        }
        final IndexDirectory.Snapshot after = directory.refresh();
        return !frozen && before.rootWord() == after.rootWord() && Arrays.equals(before.entries(), after.entries());
    }

    /**
     * Repeats {@link #pass} until one is stable, at most {@code attempts} times, pausing
     * {@code pauseMs} between passes; the visitor must start afresh on each pass, so it gets a
     * {@code reset} before each one.
     *
     * @return true if a stable pass was made.
     */
    public boolean stablePass(final boolean allReplicas, final Runnable reset, final Visitor visitor,
        final int attempts, final long pauseMs)
    {
        for (int i = 0; i < attempts; i++)
        {
            reset.run();
            if (pass(allReplicas, visitor))
            {
                return true;
            }
            try
            {
                Thread.sleep(pauseMs);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** Bytes of one subtable. */
    public int subtableLength()
    {
        return length;
    }
}
