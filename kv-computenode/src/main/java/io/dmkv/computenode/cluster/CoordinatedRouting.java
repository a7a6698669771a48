package io.dmkv.computenode.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.KvConfig;
import io.dmkv.ReplicasLostException;
import io.dmkv.computenode.ops.CoordinatedIndex;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.StaleMapException;
import io.dmkv.rdma.VerbsClient;

/**
 * How a coordinated client follows the cluster's region map: every newer map the coordinator
 * publishes (a memory node failed over) reroutes the client's {@link ClusterView} and wakes the
 * operations that wait for it; a refresh learns the live nodes' new region keys; writes are
 * refused while a region has fewer live replicas than {@code dmkv.minLiveReplicas}; regions whose
 * every replica is on a dead node are named to a client that touches one.
 */
public final class CoordinatedRouting implements CoordinatedIndex.Routing
{
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatedRouting.class);

    /** Rounds of a key refresh while the map keeps moving under it. */
    private static final int REFRESH_ATTEMPTS = 5;

    private final CoordinatedCluster cluster;
    private final ClusterView view;
    private final VerbsClient client;
    private final int minLiveReplicas;
    private volatile String lost;

    public CoordinatedRouting(final CoordinatedCluster cluster, final ClusterView view, final VerbsClient client,
        final int minLiveReplicas)
    {
        this.cluster = cluster;
        this.view = view;
        this.client = client;
        this.minLiveReplicas = minLiveReplicas;
        this.lost = describeLost(view.map(), cluster.deadMemoryNodes());
    }

    /** Follows the region map from now on; {@code changed} runs after each reroute. */
    public void follow(final Runnable changed)
    {
        view.mapRefresher(this::rereadMap);
        view.keyRefresher(this::refresh);
        cluster.onRegionMap(m ->
        {
            // The map is already confirmed when this runs: a throw here would leave the view on the
            // old map until the next epoch, so a node that cannot be reached becomes a failed channel.
            attachJoined(m);
            ClusterBootstrap.reroute(client, view, m);
            lost = describeLost(m, cluster.deadMemoryNodes());
            LOG.info("client {} routes by region map epoch {}{}", cluster.clientId(), m.epoch(),
                lost == null ? "" : "; " + lost);
            changed.run();
        });
    }

    private void attachJoined(final RegionMap map)
    {
        cluster.attachJoined(client, map, false);
    }

    @Override
    public boolean writesHeld()
    {
        return view.map().anySealed();
    }

    @Override
    public void checkLease()
    {
        cluster.checkLease();
    }

    @Override
    public void checkWritable()
    {
        final int fewest = view.fewestReplicas();
        if (fewest < minLiveReplicas)
        {
            throw new ReplicasLostException("writes are refused: a region has " + fewest + " live replica(s) of "
                + view.replication() + " (memory nodes failed), fewer than " + KvConfig.MIN_LIVE_REPLICAS + " = "
                + minLiveReplicas + "; reads go on");
        }
    }

    /**
     * Re-reads the region map and routes by it if it is newer than the view's: a map whose reroute
     * failed when it was first seen (a node not answering, a header read refused) is caught up here.
     * Blocking; never on a completion thread.
     */
    private void rereadMap()
    {
        try
        {
            cluster.refreshMap();
        }
        catch (final RuntimeException e)
        {
            LOG.debug("region map not re-read: {}", e.getMessage());
        }
        catchUp();
    }

    /** Routes by the last map the coordinator confirmed if it is newer than the view's. */
    private void catchUp()
    {
        final RegionMap latest = cluster.lastRegionMap();
        if (latest.epoch() > view.map().epoch())
        {
            attachJoined(latest);
            ClusterBootstrap.reroute(client, view, latest);
            lost = describeLost(latest, cluster.deadMemoryNodes());
            LOG.info("client {} caught up with region map epoch {}", cluster.clientId(), latest.epoch());
        }
    }

    /**
     * Learns the live nodes' current keys for the map the coordinator holds now. The keys go into the
     * view's routing only if the map did not change while they were learnt (read before and after the
     * hellos): a node re-keys a region when it applies a map, so a key learnt after a newer map was
     * published may belong to that map, and a routing by the older map must not carry it (its verbs
     * would land on a replica the newer map dropped). If the map moved, the view routes by the newer
     * one and the keys are learnt again. A map that cannot be read fails the refresh: keys are not
     * installed for a map the coordinator did not confirm.
     */
    @Override
    public void refresh()
    {
        for (int attempt = 1; ; attempt++)
        {
            final RegionMap before = confirmedMap();
            attachJoined(before);
            final Set<Integer> dead = cluster.deadMemoryNodes();
            final int rekeyed = client.refreshKeys(n -> !dead.contains(n));
            final RegionMap after = confirmedMap();
            if (after.epoch() == before.epoch())
            {
                ClusterBootstrap.rekeyed(client, view, before);
                LOG.info("re-read the cluster map (epoch {}) and learnt {} new region keys", before.epoch(), rekeyed);
                return;
            }
            if (attempt >= REFRESH_ATTEMPTS)
            {
                throw new StaleMapException("the region map moved on while region keys were learnt (epoch "
                    + before.epoch() + " -> " + after.epoch() + "), " + attempt + " times: try again");
            }
        }
    }

    /** Reads the region map from the coordinator, has the view route by it, and returns it. */
    private RegionMap confirmedMap()
    {
        cluster.refreshMap();
        catchUp();
        return view.map();
    }

    @Override
    public void reconfirm()
    {
        cluster.reconfirmMap();
    }

    @Override
    public long mapEpoch()
    {
        return view.map().epoch();
    }

    @Override
    public String lostRegions()
    {
        return lost;
    }

    /** Null, or a message naming the regions whose every replica is on a dead node. */
    static String describeLost(final RegionMap map, final Set<Integer> dead)
    {
        final List<Integer> regions = new ArrayList<>();
        for (int g = 0; g < map.regionCount(); g++)
        {
            boolean all = true;
            for (final int n : map.replicas(g))
            {
                all &= dead.contains(n);
            }
            if (all)
            {
                regions.add(g);
            }
        }
        return regions.isEmpty() ? null : "regions " + regions + " lost every replica (memory nodes " + dead
            + " are dead): their keys and values are gone";
    }
}
