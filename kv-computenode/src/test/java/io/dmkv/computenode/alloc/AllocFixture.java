package io.dmkv.computenode.alloc;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/** An embedded cluster, one client connection to it, and what tests read back from its memory. */
final class AllocFixture implements AutoCloseable
{
    final EmbeddedCluster cluster;
    final VerbsTransport transport;
    final VerbsClient client;
    final ClusterSettings settings;

    AllocFixture(final int nodes, final long memoryPerNode, final long regionBytes, final ClusterSettings settings)
    {
        this(nodes, memoryPerNode, regionBytes, settings, "local");
    }

    AllocFixture(final int nodes, final long memoryPerNode, final long regionBytes, final ClusterSettings settings,
        final String transportName)
    {
        this.cluster = EmbeddedCluster.start(nodes, memoryPerNode, regionBytes, transportName);
        this.transport = cluster.newTransport();
        this.client = VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults());
        this.settings = settings;
    }

    /** Small blocks and a small index, as in ClusterViewTest. */
    static ClusterSettings small(final int r, final int blockSize)
    {
        return ClusterSettings.defaults(r).withBlockSize(blockSize).withIndex(4, 1, 6).withIndexAreaBytes(256 * 1024);
    }

    ClusterView view()
    {
        return ClusterBootstrap.join(client, settings);
    }

    /** An allocator with a fresh client id and manual reclaim. */
    SlabAllocator allocator(final ClusterView view)
    {
        return SlabAllocator.open(view, client, ClusterBootstrap.allocateClientId(client, view), SlabAllocator.Settings.manualReclaim(),
            ReclaimScheduler.MANUAL);
    }

    /** Block index of the object at {@code address}. */
    static int blockOf(final ClusterView view, final long address)
    {
        final int g = GlobalAddress.regionId(address);
        return RegionLayout.blockIndexOf(view.firstBlockOffset(g), view.descriptor().blockSize(), view.blockCount(g),
            GlobalAddress.offset(address));
    }

    static int blockOffset(final ClusterView view, final int g, final int block)
    {
        return RegionLayout.blockOffset(view.firstBlockOffset(g), view.descriptor().blockSize(), block);
    }

    /** Object index of the object at {@code address} of {@code sizeClass}. */
    static int objectIndexOf(final ClusterView view, final long address, final int sizeClass)
    {
        final int g = GlobalAddress.regionId(address);
        final int count = objectsPerBlock(view, sizeClass);
        return BlockHeader.objectIndex(count, SizeClasses.objectSize(sizeClass),
            GlobalAddress.offset(address) - blockOffset(view, g, blockOf(view, address)));
    }

    static int objectsPerBlock(final ClusterView view, final int sizeClass)
    {
        return BlockHeader.objectsPerBlock(view.descriptor().blockSize(), SizeClasses.objectSize(sizeClass));
    }

    /** The allocation table entry of block {@code block} of region {@code g} on replica {@code j}. */
    long entry(final ClusterView view, final int g, final int block, final int j)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        final VerbBatch batch = new VerbBatch();
        batch.read(view.replica(g, j), view.batOffset(g) + BlockAllocationTable.entryOffset(block), b, 0, 8);
        client.execute(batch);
        return b.getLong(0);
    }

    /** The whole allocation table of region {@code g} on replica {@code j}. */
    long[] table(final ClusterView view, final int g, final int j)
    {
        final int n = view.blockCount(g);
        final long[] entries = new long[n];
        if (n == 0)
        {
            return entries;
        }
        final UnsafeBuffer b = new UnsafeBuffer(new byte[n * 8]);
        final VerbBatch batch = new VerbBatch();
        batch.read(view.replica(g, j), view.batOffset(g), b, 0, n * 8);
        client.execute(batch);
        for (int i = 0; i < n; i++)
        {
            entries[i] = b.getLong(i * 8);
        }
        return entries;
    }

    /** {@code length} bytes of block {@code block} of region {@code g} on replica {@code j}. */
    UnsafeBuffer blockBytes(final ClusterView view, final int g, final int block, final int j, final int length)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[length]);
        final VerbBatch batch = new VerbBatch();
        batch.read(view.replica(g, j), blockOffset(view, g, block), b, 0, length);
        client.execute(batch);
        return b;
    }

    /** Blocks in state OWNED or HANDED_OVER across the cluster (primaries' tables). */
    int blocksInUse(final ClusterView view)
    {
        int n = 0;
        for (int g = 0; g < view.regions(); g++)
        {
            for (final long e : table(view, g, 0))
            {
                if (BlockAllocationTable.state(e) != BlockAllocationTable.FREE)
                {
                    n++;
                }
            }
        }
        return n;
    }

    /** Frees {@code address} on every replica and waits. */
    void free(final SlabAllocator allocator, final long address, final int sizeClass)
    {
        final VerbBatch b = new VerbBatch();
        allocator.free(address, sizeClass, b);
        client.execute(b);
    }

    @Override
    public void close()
    {
        client.close();
        transport.close();
        cluster.close();
    }
}
