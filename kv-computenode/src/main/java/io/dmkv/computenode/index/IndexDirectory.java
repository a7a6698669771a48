package io.dmkv.computenode.index;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.OpDriver;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The client's cached copy of the index root (global depth and directory), read from the
 * primary replica of the root region. Clients route by it and refresh it when a bucket header
 * says the subtable they reached does not cover their key (it split since).
 */
public final class IndexDirectory
{
    private final ClusterView view;
    private final VerbsClient client;
    private final int maxGlobalDepth;
    private volatile Snapshot current;

    /** An immutable copy of the root. */
    public record Snapshot(long rootWord, long[] entries)
    {
        public int globalDepth()
        {
            return IndexRoot.globalDepth(rootWord);
        }

        /** The directory entry for a key hash. */
        public long entryFor(final long hash)
        {
            return entries[KeyHash.subtableIndex(hash, globalDepth())];
        }
    }

    public IndexDirectory(final ClusterView view, final VerbsClient client)
    {
        this.view = view;
        this.client = client;
        this.maxGlobalDepth = view.descriptor().maxGlobalDepth();
        refresh();
    }

    public Snapshot current()
    {
        return current;
    }

    /** Re-reads the root and directory from the primary (one round trip). */
    public Snapshot refresh()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[IndexRoot.length(maxGlobalDepth)]);
        final VerbBatch batch = rootRead(b);
        client.execute(batch);
        return install(b);
    }

    /** {@link #refresh()} without holding a thread: posts the READ through {@code driver}, then runs {@code then}. */
    public void refresh(final OpDriver driver, final Runnable then)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[IndexRoot.length(maxGlobalDepth)]);
        driver.post(rootRead(b), () ->
        {
            install(b);
            then.run();
        });
    }

    private VerbBatch rootRead(final UnsafeBuffer into)
    {
        final VerbBatch batch = new VerbBatch();
        batch.read(view.replica(RegionLayout.ROOT_REGION_ID, 0), RegionLayout.ROOT_OFFSET, into, 0, into.capacity());
        return batch;
    }

    private Snapshot install(final UnsafeBuffer b)
    {
        final long root = IndexRoot.rootWord(b, 0);
        final int depth = IndexRoot.globalDepth(root);
        final long[] entries = new long[1 << depth];
        for (int i = 0; i < entries.length; i++)
        {
            entries[i] = IndexRoot.entry(b, 0, i);
        }
        final Snapshot s = new Snapshot(root, entries);
        synchronized (this)
        {
            // Keep the newer of two racing refreshes: the root's version only grows.
            final Snapshot c = current;
            if (c == null || IndexRoot.version(c.rootWord()) <= IndexRoot.version(root))
            {
                current = s;
            }
        }
        return current;
    }
}
