package io.dmkv.computenode.ops;

import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.computenode.Closer;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * Embedded memory nodes (static mode) and clients of the FUSEE path on them, each a
 * {@link FuseeIndex} with its own verbs client, a shared bump allocator (so clients never hand
 * out the same object) and no index splits; for tests of the operations. Closes what it opened.
 */
final class FuseeClients implements AutoCloseable
{
    /** A client: its index, and the view and verbs client under it. */
    record Client(FuseeIndex index, ClusterView view, VerbsClient verbs)
    {
    }

    private final Closer opened = new Closer();
    private final EmbeddedCluster cluster;
    private final VerbsTransport transport;
    private BumpAllocator shared;

    /**
     * @param wrap what the clients' transport is made of the cluster's own (a test's fault injection,
     *             or {@code t -> t}).
     */
    FuseeClients(final int nodes, final String transportName, final UnaryOperator<VerbsTransport> wrap)
    {
        cluster = opened.add(EmbeddedCluster.start(nodes, 16L << 20, 4L << 20, transportName));
        transport = opened.add(wrap.apply(cluster.newTransport()));
    }

    Client newClient(final int r, final int cacheEntries)
    {
        final VerbsClient c = opened.add(VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults()));
        final ClusterView view = ClusterBootstrap.join(c, ClusterSettings.defaults(r).withBlockSize(64 * 1024)
            .withIndex(64, 2, 6).withIndexAreaBytes(1 << 20));
        final SnapshotReplicator snap = new SnapshotReplicator(view, SystemNanoClock.INSTANCE,
            TimeUnit.SECONDS.toNanos(2), TimeUnit.SECONDS.toNanos(30));
        if (shared == null)
        {
            shared = new BumpAllocator(view);
        }
        final FuseeIndex index = opened.add(FuseeIndex.create(view, c, new IndexDirectory(view, c),
            new IndexCache(cacheEntries, 0.1), snap, shared, NO_SPLITS, ClusterBootstrap.allocateClientId(c, view),
            SystemNanoClock.INSTANCE, TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(2)));
        return new Client(index, view, c);
    }

    @Override
    public void close()
    {
        opened.close();
    }

    private static final SubtableSplitter NO_SPLITS = new SubtableSplitter()
    {
        @Override
        public boolean split(final long hash, final long entry)
        {
            return false;
        }

        @Override
        public void awaitSplit()
        {
            throw new AssertionError("no split happens in these tests");
        }

        @Override
        public void awaitSplit(final OpDriver driver, final Runnable then)
        {
            driver.fail(new AssertionError("no split happens in these tests"));
        }
    };
}
