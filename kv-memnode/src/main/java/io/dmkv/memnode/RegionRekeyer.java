package io.dmkv.memnode;

import java.time.Duration;
import java.util.Arrays;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.CachedMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinationException;
import io.dmkv.core.cluster.MapName;
import io.dmkv.rdma.server.RegionTable;

/**
 * Fencing on the surviving side: follows the region map and re-keys every region of this node
 * whose replica list changed (a replica dropped or added, a primary moved), so a writer routed
 * by the old map (a stalled client, a deposed primary's client) has its verbs refused here.
 * Regions that keep their replica list keep their keys. The replica of global region {@code g}
 * on a node is the node's physical region whose index is g's position among the regions the
 * map places on the node (as clients resolve it, {@code ClusterBootstrap}); a failed node
 * leaving the lists moves no survivor's positions.
 */
final class RegionRekeyer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(RegionRekeyer.class);

    private final Coordinator coordinator;
    private final String name;
    private final RegionTable table;
    private final Runnable rekeyed;
    private final Thread follower;
    private volatile boolean closed;
    private CachedMap regions;
    private RegionMap previous;
    private int self = -1;

    /**
     * @param rekeyed called after regions were re-keyed (to publish the new key generation).
     */
    RegionRekeyer(final Coordinator coordinator, final String name, final RegionTable table, final Runnable rekeyed)
    {
        this.coordinator = coordinator;
        this.name = name;
        this.table = table;
        this.rekeyed = rekeyed;
        this.follower = new Thread(this::follow, "dmkv-rekey-" + name);
        follower.setDaemon(true);
        follower.start();
    }

    /** Waits for the cluster to be formatted, then follows its region map. */
    private void follow()
    {
        while (!closed)
        {
            try
            {
                if (!coordinator.maps().awaitFormatted(Duration.ofSeconds(30)))
                {
                    continue;
                }
                final ClusterLayout layout;
                try
                {
                    layout = ClusterLayout.decode(coordinator.maps().read(MapName.LAYOUT).orElseThrow().payload());
                }
                catch (final IllegalArgumentException e)
                {
                    LOG.warn("memory node {} cannot follow the region map: {}", name, e.getMessage());
                    return;
                }
                final CachedMap map = coordinator.watch(MapName.REGIONS);
                synchronized (this)
                {
                    if (closed)
                    {
                        map.close();
                        return;
                    }
                    self = layout.indexOf(name);
                    regions = map;
                    previous = RegionMap.fromBytes(map.lastSeen().payload());
                }
                if (self < 0)
                {
                    LOG.warn("memory node {} is not in the cluster's layout {}: it holds no region",
                        name, layout.memoryNodes());
                }
                map.onChange(m -> apply(RegionMap.fromBytes(m.payload())));
                return;
            }
            catch (final CoordinationException e)
            {
                LOG.debug("memory node {}: cannot follow the region map yet: {}", name, e.getMessage());
                sleepQuietly();
            }
        }
    }

    synchronized boolean follows()
    {
        return regions != null;
    }

    /** Re-keys the regions of this node whose replica list differs between the maps. */
    synchronized void apply(final RegionMap next)
    {
        if (closed || self < 0 || next.epoch() <= previous.epoch())
        {
            return;
        }
        int count = 0;
        final int[] held = previous.regionsOn(self);
        final int[] holds = next.regionsOn(self);
        for (int g = 0; g < next.regionCount(); g++)
        {
            final int before = g < previous.regionCount() ? Arrays.binarySearch(held, g) : -1;
            final int phys = before >= 0 ? before : Arrays.binarySearch(holds, g);
            if (phys >= 0 && phys < table.count()
                && (g >= previous.regionCount() || !Arrays.equals(previous.replicas(g), next.replicas(g))))
            {
                table.rekey(phys);
                count++;
            }
        }
        LOG.info("memory node {}: region map epoch {} -> {}, {} region(s) re-keyed", name, previous.epoch(),
            next.epoch(), count);
        previous = next;
        if (count > 0)
        {
            rekeyed.run();
        }
    }

    private static void sleepQuietly()
    {
        try
        {
            Thread.sleep(200);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close()
    {
        final CachedMap map;
        synchronized (this)
        {
            closed = true;
            map = regions;
        }
        follower.interrupt();
        if (map != null)
        {
            map.close();
        }
    }
}
