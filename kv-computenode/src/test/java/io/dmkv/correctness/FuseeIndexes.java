package io.dmkv.correctness;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.computenode.alloc.SlabAllocator;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.RaceSplitter;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * FUSEE clients assembled from the internals (as KvStore does), each over a transport the test
 * chooses, so a test can hold one of them at a protocol step. Closes what it opened, in reverse.
 */
final class FuseeIndexes implements AutoCloseable
{
    private static final long OP_NS = TimeUnit.SECONDS.toNanos(30);

    private final EmbeddedCluster cluster;
    private final int r;
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** For a cluster that a KvStore already formatted with replication {@code r}. */
    FuseeIndexes(final EmbeddedCluster cluster, final int r)
    {
        this.cluster = cluster;
        this.r = r;
    }

    /** A client over a fresh transport of the cluster. */
    FuseeIndex open()
    {
        final VerbsTransport t = cluster.newTransport();
        opened.add(t);
        return open(t);
    }

    /** A client over {@code transport} (closed by the caller). */
    FuseeIndex open(final VerbsTransport transport)
    {
        return open(transport, SystemNanoClock.INSTANCE, TimeUnit.SECONDS.toNanos(5));
    }

    /** A client over {@code transport} whose insert-lock leases run on {@code clock}. */
    FuseeIndex open(final VerbsTransport transport, final org.agrona.concurrent.NanoClock clock, final long leaseNs)
    {
        final VerbsClient verbs = VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults());
        opened.add(verbs);
        final ClusterView view = ClusterBootstrap.join(verbs, ClusterSettings.defaults(r), Fixtures.mode());
        final int id = ClusterBootstrap.allocateClientId(verbs, view);
        final SlabAllocator slab = SlabAllocator.open(view, verbs, id, SlabAllocator.Settings.manualReclaim());
        opened.add(slab);
        final IndexDirectory dir = new IndexDirectory(view, verbs);
        final SnapshotReplicator snap = new SnapshotReplicator(view, SystemNanoClock.INSTANCE,
            TimeUnit.SECONDS.toNanos(5), OP_NS);
        final RaceSplitter splitter = new RaceSplitter(view, verbs, dir, snap, SystemNanoClock.INSTANCE, OP_NS);
        final FuseeIndex index = FuseeIndex.create(view, verbs, dir, new IndexCache(1 << 10, 0.1), snap, slab,
            splitter, id, clock, OP_NS, leaseNs);
        opened.add(index);
        return index;
    }

    @Override
    public void close()
    {
        for (int i = opened.size() - 1; i >= 0; i--)
        {
            try
            {
                opened.get(i).close();
            }
            catch (final Exception e)
            {
                System.out.println("closing " + opened.get(i) + ": " + e);
            }
        }
    }
}
