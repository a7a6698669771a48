package io.dmkv.computenode.rereplication;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Adds global regions for capacity (docs/recovery.md, "Growing capacity: data-only regions"):
 * formats each new region's replicas in free physical regions with plain WRITEs (the header and a
 * zeroed block allocation table; FORMAT_REGION, meant for the bootstrap, refuses a region that still
 * holds a replica that moved away), then publishes the map naming them. Nobody else writes a
 * physical region no map names, so the WRITEs race with nothing; an agent that dies before the
 * publication leaves physical regions that the next plan sees free and formats again. The index is
 * not touched: the new regions hold blocks only.
 */
final class RegionCreator
{
    private static final Logger LOG = LoggerFactory.getLogger(RegionCreator.class);

    private final VerbsClient client;
    private final int regionSize;
    private final int blockSize;

    RegionCreator(final VerbsClient client, final int regionSize, final int blockSize)
    {
        this.client = client;
        this.regionSize = regionSize;
        this.blockSize = blockSize;
    }

    /** Formats {@code regions} as regions {@code current.regionCount()}.. and publishes the map naming them. */
    RegionMap run(final RegionMap current, final List<ReplicaPlanner.NewRegion> regions,
        final ReplicaCopier.Publisher publisher)
    {
        final Set<Integer> nodes = new HashSet<>();
        for (final ReplicaPlanner.NewRegion r : regions)
        {
            for (final int n : r.nodes())
            {
                nodes.add(n);
            }
        }
        // A free physical region may have been re-keyed when the replica it held moved away.
        client.refreshKeys(nodes::contains);
        final UnsafeBuffer head = new UnsafeBuffer(new byte[RegionLayout.dataRegionHeadLength(regionSize, blockSize)]);
        final VerbBatch b = new VerbBatch();
        final int[][] replicas = new int[regions.size()][];
        final int[][] physical = new int[regions.size()][];
        for (int i = 0; i < regions.size(); i++)
        {
            final ReplicaPlanner.NewRegion r = regions.get(i);
            final int g = current.regionCount() + i;
            head.setMemory(0, head.capacity(), (byte)0);
            RegionLayout.formatDataRegionHead(head, g, regionSize, blockSize);
            b.reset();
            for (int j = 0; j < r.nodes().length; j++)
            {
                final RemoteRegion target = client.channel(r.nodes()[j]).region(r.physical()[j]);
                if (target.length() != regionSize)
                {
                    throw new IllegalStateException("memory node " + target.channel().node() + "'s region "
                        + target.id() + " holds " + target.length() + " bytes, not the cluster's " + regionSize);
                }
                b.write(target, 0, head, 0, head.capacity());
            }
            try
            {
                client.execute(b);
            }
            catch (final RemoteAccessException e)
            {
                throw new IllegalStateException("formatting new region " + g + " on " + r + " was refused ("
                    + e.getMessage() + "): tried again next period", e);
            }
            replicas[i] = r.nodes();
            physical[i] = r.physical();
        }
        final RegionMap published = publisher.publish(current, current.withRegions(replicas, physical));
        LOG.info("added {} region(s) for capacity: {} (regions {}..{}, map epoch {})", regions.size(), regions,
            current.regionCount(), published.regionCount() - 1, published.epoch());
        return published;
    }
}
