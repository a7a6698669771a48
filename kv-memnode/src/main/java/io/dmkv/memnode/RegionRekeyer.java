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
 * whose entry changed (a replica dropped or added, a primary moved, a joining replica added or
 * promoted, a seal set or lifted), so a writer routed by the old map (a stalled client, a deposed
 * primary's client, a copier that stalled) has its verbs refused here. Regions whose entry stayed
 * the same keep their keys. The map names the physical region of every replica
 * ({@link RegionMap#physicalOn}). A node that joined after the cluster was formatted finds its
 * index in the layout once the cluster admitted it (by name and incarnation).
 *
 * <p>Seals are enforced here too: when the map seals a region of which this node holds a full
 * replica, the node write-protects that physical region and stops granting blocks in it
 * ({@link Roles#writeProtected}, {@link Roles#grants}) <em>before</em> re-keying it, so a copier that sees the new key knows
 * nothing can land on the replica until the map lifts the seal, whatever keys a client holds. Only
 * the primary of an unsealed region grants blocks in it: a node that lost the primary (a copy took
 * its place) refuses an ALLOC routed by an old map.
 */
final class RegionRekeyer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(RegionRekeyer.class);

    private final Coordinator coordinator;
    private final String name;
    private final RegionTable table;
    private final Runnable rekeyed;
    private final long incarnation;
    private final Roles roles;
    private final Thread follower;
    private volatile boolean closed;
    private CachedMap regions;
    private RegionMap previous;
    private int self = -1;

    /** What the node does when the map changes a physical region's role. */
    interface Roles
    {
        /** The region's role changed (joined, promoted, left): its allocator bookkeeping is stale. */
        void changed(int phys);

        /** A full replica sealed ({@code true}) or no longer sealed: write verbs refused or not. */
        void writeProtected(int phys, boolean on);

        /**
         * Whether ALLOC may grant blocks of the region: only the primary of an unsealed region does;
         * {@code why} says why not. Returns once in force (a grant in progress has finished).
         */
        void grants(int phys, boolean on, String why);
    }

    /**
     * @param rekeyed called after regions were re-keyed (to publish the new key generation).
     */
    RegionRekeyer(final Coordinator coordinator, final String name, final long incarnation, final RegionTable table,
        final Runnable rekeyed, final Roles roles)
    {
        this.coordinator = coordinator;
        this.name = name;
        this.incarnation = incarnation;
        this.table = table;
        this.rekeyed = rekeyed;
        this.roles = roles;
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
                    self = selfIn(layout);
                    regions = map;
                    previous = RegionMap.fromBytes(map.lastSeen().payload());
                    grants(previous, false);
                    grants(previous, true);
                }
                if (self < 0)
                {
                    LOG.info("memory node {} is not in the cluster's layout {} yet: it holds no region until the"
                        + " cluster admits it", name, layout.memoryNodes());
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

    /** This process's index in {@code layout}: its name with its incarnation (a restarted node is a new one). */
    private int selfIn(final ClusterLayout layout)
    {
        final int at = layout.indexOf(name);
        // 0: the layout recorded no incarnation for the node (as ClusterLayout.deadNodes reads it).
        final long known = at >= 0 ? layout.incarnations().get(at) : -1;
        return at >= 0 && (known == 0 || known == incarnation) ? at : -1;
    }

    /** Re-keys the regions of this node whose entry differs between the maps. */
    synchronized void apply(final RegionMap next)
    {
        if (closed || next.epoch() <= previous.epoch())
        {
            return;
        }
        if (self < 0)
        {
            try
            {
                self = selfIn(ClusterLayout.decode(coordinator.maps().read(MapName.LAYOUT).orElseThrow().payload()));
            }
            catch (final RuntimeException e)
            {
                LOG.warn("memory node {}: cannot read the cluster's layout: {}", name, e.getMessage());
            }
            if (self < 0)
            {
                previous = next;
                return;
            }
            LOG.info("memory node {} was admitted to the cluster as node {}", name, self);
        }
        // Refusals before the re-keys (a copier that sees a sealed replica's new key knows no grant can
        // land on it any more), grants after them.
        grants(next, false);
        int count = 0;
        for (int g = 0; g < next.regionCount(); g++)
        {
            final int before = self < previous.memoryNodeCount() && g < previous.regionCount()
                ? previous.physicalOn(g, self) : -1;
            final int after = self < next.memoryNodeCount() ? next.physicalOn(g, self) : -1;
            if (next.sameRegion(previous, g))
            {
                continue;
            }
            final boolean sealedHere = self < next.memoryNodeCount() && next.sealed(g) && next.hasReplicaOn(g, self);
            if (sealedHere)
            {
                // Protect first: once the copier sees the new key, nothing more can land here.
                roles.writeProtected(after, true);
            }
            count += rekey(before);
            count += after != before ? rekey(after) : 0;
            if (!sealedHere)
            {
                unprotect(after);
                if (before != after)
                {
                    unprotect(before);
                }
            }
        }
        grants(next, true);
        LOG.info("memory node {}: region map epoch {} -> {}, {} region(s) re-keyed", name, previous.epoch(),
            next.epoch(), count);
        previous = next;
        if (count > 0)
        {
            rekeyed.run();
        }
    }

    private void unprotect(final int phys)
    {
        if (phys >= 0 && phys < table.count())
        {
            roles.writeProtected(phys, false);
        }
    }

    /**
     * Tells the allocator, for every physical region of this node, whether it may grant blocks under
     * {@code map}: the refusals ({@code allowing} false) or the grants (true). A region this node is
     * not the primary of (any more) refuses, so a client routing ALLOC by an old map cannot be granted
     * a block in a table no replica copies any more.
     */
    private void grants(final RegionMap map, final boolean allowing)
    {
        if (self < 0)
        {
            return;
        }
        final String[] why = new String[table.count()];
        Arrays.fill(why, "holds no primary replica in region map epoch " + map.epoch()
            + " (ask the region's primary in the current map)");
        for (int g = 0; self < map.memoryNodeCount() && g < map.regionCount(); g++)
        {
            if (map.replicaCount(g) > 0 && map.primary(g) == self)
            {
                final int phys = map.physical(g, 0);
                if (phys >= 0 && phys < why.length)
                {
                    why[phys] = map.sealed(g) ? "is sealed for the last pass of a copy (ask another region, or again"
                        + " once the region map lifts the seal)" : null;
                }
            }
        }
        for (int phys = 0; phys < why.length; phys++)
        {
            if ((why[phys] == null) == allowing)
            {
                roles.grants(phys, allowing, why[phys]);
            }
        }
    }

    private int rekey(final int phys)
    {
        if (phys < 0 || phys >= table.count())
        {
            return 0;
        }
        table.rekey(phys);
        roles.changed(phys);
        return 1;
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
