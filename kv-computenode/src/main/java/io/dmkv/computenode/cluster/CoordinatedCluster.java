// Over 500 lines: a client's one membership in a coordinated cluster (format claim, layout and
// maps, client id, lease, the nodes that join later); its parts share the layout it follows.
package io.dmkv.computenode.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Set;
import java.util.function.Consumer;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.agrona.concurrent.NanoClock;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.CachedMap;
import io.dmkv.core.cluster.ClusterMaps;
import io.dmkv.core.cluster.ClusterMode;
import io.dmkv.core.cluster.CoordinationException;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.LeaderElection;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.core.cluster.MapName;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.ClusterModeException;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.core.cluster.Membership;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.rdma.FailedNodeChannel;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.security.ClusterSecret;

/**
 * A client's membership in a coordinated cluster (docs/coordination.md): connects to the
 * coordinator, finds the memory nodes there (in the cluster's node order once it is formatted,
 * by name when this client formats it), formats a new cluster when it wins the format claim and
 * publishes its maps, claims a client id, registers the compute node and watches the region map
 * under its lease. {@link #checkLease()} is what every operation asks before it routes a key.
 */
public final class CoordinatedCluster implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatedCluster.class);
    /** The layout map's field holding the cluster descriptor (hex), published by the formatter. */
    static final String DESCRIPTOR = "descriptor";

    private final Coordinator coordinator;
    private final String owner;
    private ClusterMaps.FormatRole role;
    private volatile List<String> nodeNames;
    private volatile List<Long> incarnations;
    private CachedMap regions;
    private CachedMap partitionMap;
    private Membership.Registration registration;
    private String proxyEndpoint = "";
    private java.util.List<Long> hotness = java.util.List.of();
    private LeaderElection election;
    private int clientId;
    private volatile boolean sessionLost;

    private CoordinatedCluster(final Coordinator coordinator, final String owner)
    {
        this.coordinator = coordinator;
        this.owner = owner;
    }

    /**
     * Connects to the coordinator of {@code settings}.
     *
     * @throws CoordinationException if it cannot be reached in time.
     */
    public static CoordinatedCluster connect(final String connect, final String cluster, final Duration sessionTimeout,
        final Duration connectionTimeout, final Duration mapLease, final int maxClients, final NanoClock clock)
    {
        return connect(connect, cluster, sessionTimeout, connectionTimeout, mapLease, maxClients, clock, null);
    }

    /** As above, authenticated with {@code secret} (null: none). */
    public static CoordinatedCluster connect(final String connect, final String cluster, final Duration sessionTimeout,
        final Duration connectionTimeout, final Duration mapLease, final int maxClients, final NanoClock clock,
        final ClusterSecret secret)
    {
        final CoordinatorSettings settings = new CoordinatorSettings(connect, cluster, sessionTimeout,
            connectionTimeout, mapLease, maxClients, clock, secret);
        final Coordinator c = Coordinator.open(settings);
        return new CoordinatedCluster(c, "cn-" + UUID.randomUUID().toString().substring(0, 8));
    }

    /**
     * The memory nodes' endpoints in the cluster's node order. Decides who formats: if this
     * client wins the claim on a new cluster, the alive memory nodes ordered by name become the
     * cluster; otherwise it waits for the formatter and takes the order it published.
     */
    public List<String> memoryNodes(final Duration formatTimeout)
    {
        coordinator.maps().requireMode(ClusterMode.COORDINATED);
        role = coordinator.maps().claimFormat(owner);
        if (role == ClusterMaps.FormatRole.OTHER_FORMATTING && !coordinator.maps().awaitFormatted(formatTimeout))
        {
            throw new CoordinationException("cluster " + coordinator.settings().cluster() + " at "
                + coordinator.settings().connectString() + " has been being formatted by another client for "
                + formatTimeout + "; if it crashed, its claim goes with its session: retry");
        }
        final Map<String, MemberInfo> alive = new LinkedHashMap<>();
        for (final MemberInfo m : coordinator.members().alive(MemberInfo.Kind.MEMORY_NODE))
        {
            alive.put(m.name(), m);
        }
        if (role == ClusterMaps.FormatRole.FORMATTER)
        {
            final List<String> names = new ArrayList<>(alive.keySet());
            names.sort(Comparator.naturalOrder());
            if (names.isEmpty())
            {
                throw new CoordinationException("no memory node is registered with the coordinator at "
                    + coordinator.settings().connectString() + " (cluster " + coordinator.settings().cluster()
                    + "): start memory nodes with --coordinator");
            }
            nodeNames = names;
            incarnations = names.stream().map(n -> alive.get(n).incarnation()).toList();
        }
        else
        {
            final VersionedMap layout = coordinator.maps().read(MapName.LAYOUT).orElseThrow(
                () -> new CoordinationException("cluster " + coordinator.settings().cluster() + " has no layout map"));
            final ClusterLayout l = ClusterLayout.decode(layout.payload());
            nodeNames = l.memoryNodes();
            incarnations = l.incarnations();
        }
        final RegionMap published = role == ClusterMaps.FormatRole.FORMATTER ? null
            : RegionMap.fromBytes(readRegionMap().payload());
        final Set<Integer> dead = ClusterLayout.deadNodes(nodeNames, incarnations, List.copyOf(alive.values()));
        final List<String> endpoints = new ArrayList<>(nodeNames.size());
        for (int n = 0; n < nodeNames.size(); n++)
        {
            final String name = nodeNames.get(n);
            final MemberInfo member = alive.get(name);
            final String endpoint = dead.contains(n) ? null : member.endpoint();
            if (member != null && endpoint == null)
            {
                LOG.warn("memory node {} is alive but restarted (incarnation {}, the cluster knows {}): it lost the"
                    + " cluster's data and is not taken for the node it was", name, Long.toHexString(member.incarnation()),
                    Long.toHexString(incarnations.get(n)));
            }
            if (endpoint == null && (published == null || holdsLiveRegion(published, n)))
            {
                throw new CoordinationException("memory node " + name + " of cluster "
                    + coordinator.settings().cluster() + " is not alive in the coordinator (its session expired or it"
                    + " never registered)" + (published == null ? "" : " and the cluster has not failed it over yet:"
                    + " retry once its session has expired and the fail-over has run (seconds)"));
            }
            if (endpoint == null)
            {
                LOG.warn("memory node {} of cluster {} has failed and was failed over: joining without it", name,
                    coordinator.settings().cluster());
            }
            endpoints.add(endpoint);
        }
        return endpoints;
    }

    /** True if some region names node {@code n} and another replica besides: the fail-over has not removed it yet. */
    private static boolean holdsLiveRegion(final RegionMap map, final int n)
    {
        for (final int g : map.regionsOn(n))
        {
            if (map.replicaCount(g) > 1)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Joins (or, as the formatter, formats and publishes) the cluster over {@code client}, which is
     * connected to {@link #memoryNodes} in that order, and starts watching the region map.
     */
    public ClusterView join(final VerbsClient client, final ClusterSettings settings)
    {
        return join(client, settings, "", 0);
    }

    /**
     * As {@link #join(VerbsClient, ClusterSettings)}, with the index mode asked for: a formatter
     * creates the cluster in {@code mode} ({@code flexkv}: {@code partitions} partitions, the index
     * formatted at their depth, docs/flexkv.md; empty or {@code fusee}: FUSEE); a joiner is refused
     * if it asks for another mode than the cluster's.
     */
    public ClusterView join(final VerbsClient client, final ClusterSettings settings, final String mode,
        final int partitions)
    {
        final ClusterView view;
        if (role == ClusterMaps.FormatRole.FORMATTER)
        {
            final boolean flexkv = PartitionMap.FLEXKV.equals(mode);
            final PartitionMap pm = flexkv ? PartitionMap.flexkv(partitions) : PartitionMap.fusee();
            view = ClusterBootstrap.join(client, flexkv ? settings.forPartitions(partitions) : settings,
                ClusterMode.COORDINATED);
            final ClusterLayout layout = new ClusterLayout(nodeNames,
                Map.of("clusterId", Long.toHexString(view.descriptor().clusterId()), DESCRIPTOR,
                    HexFormat.of().formatHex(ClusterBootstrap.encodeDescriptor(view.descriptor())),
                    ClusterLayout.INCARNATIONS, ClusterLayout.incarnationsField(incarnations)));
            coordinator.maps().publish(layout.encode(), Math.max(1, view.map().epoch()),
                view.map().toBytes(), pm.encode());
            LOG.info("formatted coordinated {} cluster {} on memory nodes {}", pm.mode(),
                coordinator.settings().cluster(), nodeNames);
        }
        else
        {
            final RegionMap published = RegionMap.fromBytes(readRegionMap().payload());
            final ClusterLayout layout = ClusterLayout.decode(coordinator.maps().read(MapName.LAYOUT).orElseThrow(
                () -> new CoordinationException("cluster " + coordinator.settings().cluster() + " has no layout map"))
                .payload());
            final String descriptor = layout.properties().get(DESCRIPTOR);
            // The descriptor from the coordinator, so memory node 0 may be down; clusters formatted
            // before it was published there are joined through node 0.
            view = descriptor != null ? ClusterBootstrap.joinPublished(client, settings,
                ClusterBootstrap.decodeDescriptor(HexFormat.of().parseHex(descriptor)), published)
                : ClusterBootstrap.view(client, ClusterBootstrap.join(client, settings, ClusterMode.COORDINATED)
                    .descriptor(), published);
        }
        regions = coordinator.watch(MapName.REGIONS);
        partitionMap = coordinator.watch(MapName.PARTITIONS);
        final String created = partitions().mode();
        if (!mode.isEmpty() && !mode.equals(created))
        {
            throw new ClusterModeException("cluster " + coordinator.settings().cluster() + " was created in " + created
                + " mode; this client asks for " + mode + " mode (dmkv.mode): the index mode is fixed when a cluster is"
                + " created; leave dmkv.mode out to take the cluster's, or create a new cluster");
        }
        return view;
    }

    /** The partition map as last confirmed (the index mode, and in a FlexKV cluster who proxies what). */
    public PartitionMap partitions()
    {
        return PartitionMap.decode(partitionMap.lastSeen().payload());
    }

    /** The watched partition map (its lease, its listeners). */
    public CachedMap partitionMap()
    {
        return partitionMap;
    }

    /** The coordinator this cluster lives in. */
    public Coordinator coordinator()
    {
        return coordinator;
    }

    /** This compute node's member name (what the partition map calls it). */
    public String memberName()
    {
        return owner + "-" + clientId;
    }

    /** Advertises this compute node's proxy port: it becomes a proxy candidate of a FlexKV cluster. */
    public synchronized void advertiseProxy(final String endpoint)
    {
        proxyEndpoint = endpoint;
        registration.update(MemberInfo.computeNode(memberName(), endpoint, hotness));
    }

    /**
     * Publishes this compute node's smoothed per-partition hotness in its member record, where the
     * partition manager reads it with the members it lists anyway (docs/flexkv.md §7).
     */
    public synchronized void publishHotness(final java.util.List<Long> perPartition)
    {
        hotness = java.util.List.copyOf(perPartition);
        registration.update(MemberInfo.computeNode(memberName(), proxyEndpoint, hotness));
    }

    /** The leader election this client takes part in (the leader manages the partition map). */
    public LeaderElection election()
    {
        return election;
    }

    /** Claims a client id: {@code wanted} back (a restarted client), or the lowest free one when 0. */
    public int claimClientId(final int wanted)
    {
        clientId = wanted != 0 ? coordinator.clientIds().reclaim(wanted, owner) : coordinator.clientIds().claim(owner);
        registration = coordinator.members().register(MemberInfo.computeNode(memberName(), ""));
        election = coordinator.election(memberName());
        coordinator.onConnectionStateChange(state ->
        {
            if (state == ConnectionState.LOST)
            {
                // The cluster saw this client die: its id may be recovered and handed to another.
                sessionLost = true;
                LOG.warn("coordinator session of client {} lost: no more operations on this store; reopen it", clientId);
            }
        });
        return clientId;
    }

    /**
     * Fails unless the coordinator confirmed the region map within the map lease: a client cut off
     * from the coordinator must not go on routing by a map the cluster may have replaced.
     */
    public void checkLease()
    {
        if (sessionLost)
        {
            throw new MapLeaseExpiredException("the coordinator session of client " + clientId + " expired: the cluster"
                + " counts it dead and may recover its log and take its id over; close this store and open a new one");
        }
        regions.current();
    }

    /** Ids of live clients, in order. */
    public List<Integer> liveClientIds()
    {
        return coordinator.clientIds().live();
    }

    /** Ids of clients whose session ended without releasing their id: recovery's work list. */
    public List<Integer> deadClientIds()
    {
        return coordinator.clientIds().dead();
    }

    /** Frees a recovered client's id for reuse. */
    public void releaseClientId(final int id)
    {
        coordinator.clientIds().release(id);
    }

    /** This client's id (0 before {@link #claimClientId}). */
    public int clientId()
    {
        return clientId;
    }

    /** Re-reads the region map now (after a refusal that suggests it moved on). */
    public void refreshMap()
    {
        regions.refresh();
    }

    /**
     * Has the coordinator confirm the region map again if its lease lapsed and the session lives
     * (blocking: one coordinator read, none when the coordinator is not connected).
     */
    public void reconfirmMap()
    {
        if (!sessionLost)
        {
            regions.reconfirm();
        }
    }

    /** The region map as last confirmed (no coordinator read). */
    public RegionMap lastRegionMap()
    {
        return RegionMap.fromBytes(regions.lastSeen().payload());
    }

    /** The region map's epoch as last confirmed. */
    public long regionsEpoch()
    {
        return regions.lastSeen().epoch();
    }

    /** The region map as the coordinator holds it now (read, not cached): what a repair replaces. */
    public VersionedMap readRegionMap()
    {
        return coordinator.maps().read(MapName.REGIONS).orElseThrow(
            () -> new CoordinationException("cluster " + coordinator.settings().cluster() + " has no region map"));
    }

    /**
     * Publishes {@code next} in place of {@code expected}; of two repairers that read the same
     * map, one succeeds and the other gets {@code StaleMapException}.
     */
    public VersionedMap publishRegionMap(final VersionedMap expected, final RegionMap next)
    {
        return coordinator.maps().write(expected, next.epoch(), next.toBytes());
    }

    /** Calls {@code listener} with every newer region map the coordinator publishes. */
    public void onRegionMap(final Consumer<RegionMap> listener)
    {
        regions.onChange(m -> listener.accept(RegionMap.fromBytes(m.payload())));
    }

    /** The layout map as the coordinator holds it now (read, not cached). */
    public VersionedMap readLayout()
    {
        return coordinator.maps().read(MapName.LAYOUT).orElseThrow(
            () -> new CoordinationException("cluster " + coordinator.settings().cluster() + " has no layout map"));
    }

    /**
     * Publishes {@code next} in place of {@code expected} (a node admitted, a decommission asked for)
     * and takes its node list; {@code StaleMapException} if the layout changed meanwhile.
     */
    public VersionedMap publishLayout(final VersionedMap expected, final ClusterLayout next)
    {
        final VersionedMap written = coordinator.maps().write(expected, expected.epoch() + 1, next.encode());
        adoptLayout(next);
        return written;
    }

    /** Re-reads the layout (nodes that joined since) and returns it. */
    public ClusterLayout refreshLayout()
    {
        final ClusterLayout layout = ClusterLayout.decode(readLayout().payload());
        adoptLayout(layout);
        return layout;
    }

    private synchronized void adoptLayout(final ClusterLayout layout)
    {
        if (nodeNames == null || layout.memoryNodes().size() >= nodeNames.size())
        {
            incarnations = layout.incarnations();
            nodeNames = layout.memoryNodes();
        }
    }

    /** The memory nodes alive in the coordinator now. */
    public List<MemberInfo> aliveMemoryNodes()
    {
        return coordinator.members().alive(MemberInfo.Kind.MEMORY_NODE);
    }

    /** Endpoint of layout node {@code n} if it is alive as the incarnation the layout names, else null. */
    public String endpointOf(final int n)
    {
        final List<String> names = nodeNames;
        final List<Long> incs = incarnations;
        if (n >= names.size())
        {
            return null;
        }
        for (final MemberInfo m : aliveMemoryNodes())
        {
            if (m.name().equals(names.get(n)) && (incs.get(n) == 0 || m.incarnation() == incs.get(n)))
            {
                return m.endpoint();
            }
        }
        return null;
    }

    /**
     * Connects {@code client} to memory nodes that joined the cluster after it opened, before anyone
     * routes by {@code map}: with {@code all}, every live node of the map (the replication agent and
     * the administration need them all); without, only the nodes the map names as full replicas
     * (a router's need: it never reads or writes a joining replica), so the map follower, which runs
     * on the map's refresher thread, does not wait on a node that is still starting. A node not
     * connected now stands as a {@link FailedNodeChannel}, replaced by a later call once it is
     * wanted and answers. One call at a time per client.
     */
    public void attachJoined(final VerbsClient client, final RegionMap map, final boolean all)
    {
        synchronized (client)
        {
            boolean read = false;
            for (int n = 0; n < map.memoryNodeCount(); n++)
            {
                final boolean missing = n >= client.nodeCount();
                if (!missing && !(client.channel(n) instanceof FailedNodeChannel))
                {
                    continue;
                }
                if (!all && !holdsReplica(map, n))
                {
                    if (missing)
                    {
                        client.attach(n, null);
                    }
                    continue;
                }
                if (!read)
                {
                    refreshLayout();
                    read = true;
                }
                final String endpoint = endpointOf(n);
                try
                {
                    if (endpoint != null || missing)
                    {
                        client.attach(n, endpoint);
                        LOG.info("client {} connected to memory node {} ({}), which joined the cluster", clientId, n,
                            endpoint == null ? "not alive" : endpoint);
                    }
                }
                catch (final RuntimeException e)
                {
                    LOG.warn("client {} cannot connect to memory node {} ({}) yet: {}", clientId, n, endpoint,
                        e.getMessage());
                    if (missing)
                    {
                        client.attach(n, null);
                    }
                }
            }
        }
    }

    private static boolean holdsReplica(final RegionMap map, final int n)
    {
        for (int g = 0; g < map.regionCount(); g++)
        {
            if (map.hasReplicaOn(g, n))
            {
                return true;
            }
        }
        return false;
    }

    /** Memory nodes in the layout now. */
    public int memoryNodeCount()
    {
        return nodeNames.size();
    }

    /** Map indexes of the cluster's memory nodes whose coordinator session is not alive now. */
    public Set<Integer> deadMemoryNodes()
    {
        return ClusterLayout.deadNodes(nodeNames, incarnations, coordinator.members().alive(MemberInfo.Kind.MEMORY_NODE));
    }

    /** The name of memory node {@code n} of the layout. */
    public String memoryNodeName(final int n)
    {
        return nodeNames.get(n);
    }

    /** The map lease: a repair waits one more lease after a death, so no client still routes by its map. */
    public Duration mapLease()
    {
        return coordinator.settings().mapLease();
    }

    /** Releases the client id (this client's log holds nothing left to recover), deregisters and disconnects. */
    @Override
    public void close()
    {
        try
        {
            if (regions != null)
            {
                regions.close();
            }
            if (partitionMap != null)
            {
                partitionMap.close();
            }
            if (election != null)
            {
                election.close();
            }
            if (registration != null)
            {
                registration.close();
            }
            if (clientId != 0 && !sessionLost)
            {
                coordinator.clientIds().release(clientId);
            }
        }
        catch (final RuntimeException e)
        {
            LOG.warn("leaving the coordinator: {}", e.getMessage());
        }
        finally
        {
            coordinator.close();
        }
    }
}
