package io.dmkv.computenode;

import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStats;
import io.dmkv.computenode.alloc.SlabAllocator;
import io.dmkv.computenode.cache.BucketSnapshot;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.CoordinatedRouting;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.RaceSplitter;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.CoordinatedIndex;
import io.dmkv.computenode.ops.OpRuntime;
import io.dmkv.computenode.proxy.FlexKv;
import io.dmkv.computenode.recovery.ClientAliveException;
import io.dmkv.computenode.recovery.ClientRecovery;
import io.dmkv.computenode.recovery.Heartbeat;
import io.dmkv.computenode.log.LogWalk;
import io.dmkv.computenode.recovery.FailoverAgent;
import io.dmkv.computenode.recovery.MemoryNodeFailover;
import io.dmkv.computenode.recovery.RecoveryAgent;
import io.dmkv.computenode.rereplication.ReplicationAgent;
import io.dmkv.computenode.replication.SnapshotSettleRule;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.computenode.replication.SnapshotStats;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsClient;

/**
 * The client's parts, assembled from a {@link KvConfig} in one place: transport and verbs client,
 * the cluster view, the allocator, the index directory and cache, SNAPSHOT, the splitter, the
 * FUSEE operations, and the {@link KeyIndex} the store routes every key through. Closes them in
 * reverse order; a failure while assembling closes what was opened.
 */
public final class ClientCore implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientCore.class);
    /** Attempts to open while regions are re-keyed or sealed: pauses of 0.1, 0.2, ... 0.8 s between them. */
    static final int OPEN_ATTEMPTS = 9;

    private final ClusterConnection connection;
    private final VerbsClient verbs;
    private final ClusterView view;
    private final SlabAllocator slab;
    private final IndexCache cache;
    private final SnapshotReplicator snapshot;
    private final RaceSplitter splitter;
    private final OpRuntime runtime;
    private final FuseeIndex fusee;
    private final KeyIndex index;
    private final int clientId;
    private final RecoveryAgent recoveryAgent;
    private final FailoverAgent failoverAgent;
    private final ReplicationAgent replicationAgent;
    private final Heartbeat heartbeat;
    /** FlexKV's router, proxy and partition manager (null in a FUSEE cluster). */
    private FlexKv flexkv;

    private ClientCore(final KvConfig config)
    {
        final NanoClock clock = SystemNanoClock.INSTANCE;
        final ClusterConnection conn = ClusterConnection.open(config, clock);
        SlabAllocator s = null;
        OpRuntime o = null;
        RecoveryAgent a = null;
        FailoverAgent f = null;
        ReplicationAgent ra = null;
        Heartbeat h = null;
        try
        {
            final CoordinatedCluster c = conn.coordination();
            final VerbsClient v = conn.verbs();
            view = conn.view();
            clientId = c != null ? c.claimClientId(config.clientId())
                : config.clientId() != 0 ? config.clientId() : ClusterBootstrap.allocateClientId(v, view);
            final IndexDirectory directory = new IndexDirectory(view, v);
            final ClientRecovery recovery = new ClientRecovery(view, v, directory, config.recoveryGrace().toMillis(),
                config.heartbeatPeriod());
            if (LogWalk.hasHeads(view, v, clientId))
            {
                LOG.info("client id {} was left by a client that did not close: recovering it first", clientId);
                try
                {
                    recovery.recover(clientId);
                }
                catch (final ClientAliveException e)
                {
                    throw new IllegalStateException("client id " + clientId + " is held by a running client (ids"
                        + " wrap after " + KvConfig.MAX_CLIENTS + " = " + config.maxClients() + " clients in static"
                        + " mode): " + e.getMessage(), e);
                }
            }
            s = SlabAllocator.open(view, v, clientId, new SlabAllocator.Settings(config.reclaimPeriod()));
            final long opNs = config.opTimeout().toNanos();
            snapshot = new SnapshotReplicator(view, clock, config.snapshotHelpDelay().toNanos(), opNs);
            splitter = new RaceSplitter(view, v, directory, snapshot, clock, opNs);
            cache = new IndexCache(config.cacheEntries(), config.cacheBypassMissRate());
            o = new OpRuntime(v, clock);
            final EmbeddedLogWriter logWriter = new EmbeddedLogWriter(view, s, clientId);
            final BucketSnapshot buckets = new BucketSnapshot(view, v, o::offload,
                (long)config.cacheEntries() * BucketSnapshot.BYTES_PER_CACHE_ENTRY);
            fusee = new FuseeIndex(view, o, directory, cache, buckets, snapshot, logWriter,
                splitter, clientId, config.maxInFlight(), opNs, config.insertLockLease().toNanos());
            KeyIndex routed = fusee;
            if (c != null && c.partitions().isFlexKv())
            {
                final FlexKv fx = FlexKv.start(config, c, view, v, directory, splitter, s, logWriter, fusee, clock);
                flexkv = fx;
                routed = fx.router();
                recovery.proxiedPartitions(FlexKv.proxiedBySuffix(c));
            }
            index = c != null ? coordinatedIndex(config, c, v, o, routed) : fusee;
            h = Heartbeat.start(view, v, clientId, config.heartbeatPeriod(), logWriter::oldestInFlight);
            a = c != null ? new RecoveryAgent(c, view, recovery, config.recoveryCheckPeriod(), config.opTimeout(), clock)
                : null;
            final MemoryNodeFailover failover = new MemoryNodeFailover(view, v, SnapshotSettleRule.INSTANCE);
            f = c != null ? new FailoverAgent(c, failover, config.recoveryCheckPeriod(), c.mapLease(), clock) : null;
            ra = c != null ? new ReplicationAgent(c, view, v, config.recoveryCheckPeriod(),
                config.recoveryGrace()) : null;
        }
        catch (final RuntimeException e)
        {
            ClusterConnection.closeQuietly(flexkv, ra, f, a, o, s, h, conn);
            throw e;
        }
        connection = conn;
        recoveryAgent = a;
        failoverAgent = f;
        replicationAgent = ra;
        heartbeat = h;
        runtime = o;
        verbs = conn.verbs();
        slab = s;
    }

    /**
     * The coordinated client's index: it follows the region map (a fail-over reroutes the view and
     * wakes the operations waiting for it) and waits for a fail-over up to the operation timeout
     * plus the time the cluster takes to declare a node dead (session timeout and map lease).
     */
    private KeyIndex coordinatedIndex(final KvConfig config, final CoordinatedCluster c, final VerbsClient v,
        final OpRuntime o, final KeyIndex routed)
    {
        final CoordinatedRouting routing = new CoordinatedRouting(c, view, v, config.minLiveReplicas());
        final CoordinatedIndex coordinated = new CoordinatedIndex(routed, routing, o,
            config.opTimeout().plus(config.sessionTimeout()).plus(config.mapLease()).toNanos());
        routing.follow(() ->
        {
            coordinated.mapChanged();
            fusee.insertLocks().mapChanged();
        });
        return coordinated;
    }

    /**
     * Connects to the cluster of {@code config} (bootstrapping it if empty) and assembles the client.
     * In coordinated mode an open cut by a re-key (a fail-over, or a copy sealing or promoting a
     * region, moved the map while this client read the regions, or a sealed region refused its
     * writes) is tried again after a growing pause, up to {@value #OPEN_ATTEMPTS} times (about 4.5 s,
     * longer than a copy's seal): the next attempt reads the new map and keys.
     */
    public static ClientCore assemble(final KvConfig config)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return new ClientCore(config);
            }
            catch (final RuntimeException e)
            {
                if (!config.coordinated() || attempt >= OPEN_ATTEMPTS || !RefusedKeys.refusedKey(e))
                {
                    throw e;
                }
                LOG.info("opening the store met a region re-keyed meanwhile ({}); opening again", e.getMessage());
                pause(100L * attempt);
            }
        }
    }

    private static void pause(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new KvException("interrupted while opening the store", e);
        }
    }

    /** Where the store sends every key. */
    public KeyIndex index()
    {
        return index;
    }

    public int clientId()
    {
        return clientId;
    }

    /** FlexKV's parts of this client, or null in a FUSEE cluster. */
    public FlexKv flexkv()
    {
        return flexkv;
    }

    public ClusterView view()
    {
        return view;
    }

    public VerbCounters.Snapshot counters()
    {
        return verbs.counters();
    }

    /** The parts' counters as one public snapshot; {@code operations} comes from the store. */
    public KvStats stats(final KvStats.Operations operations)
    {
        final SnapshotStats s = snapshot.stats();
        final SlabAllocator.Stats a = slab.stats();
        final VerbCounters.Snapshot c = verbs.counters();
        return new KvStats(
            new KvStats.Snapshot(s.rule1(), s.rule2(), s.rule3(), s.primaryOnly(), s.losses(), s.helps(), s.fenced(),
                s.withdrawn()),
            new KvStats.Index(splitter.splits(), fusee.retries(), fusee.candidateReads(), cache.hits(), cache.misses(),
                fusee.lockTakeovers(), fusee.locksLost()),
            new KvStats.Allocator(a.blocksOwned(), a.blocksClaimed(), a.blocksAdopted(), a.blocksHandedOver(),
                a.blocksReleased(), a.objectsReclaimed()),
            new KvStats.Verbs(c.reads(), c.writes(), c.cas(), c.faa(), c.rpcs(), c.bytesOut(), c.bytesIn(),
                c.roundTrips()),
            operations, perNode(), flexkv == null ? KvStats.FlexKv.NONE : flexkv.stats());
    }

    private List<KvStats.Verbs> perNode()
    {
        final List<KvStats.Verbs> nodes = new java.util.ArrayList<>(verbs.nodeCount());
        for (int n = 0; n < verbs.nodeCount(); n++)
        {
            final VerbCounters.Snapshot c = verbs.channel(n).counters().snapshot();
            nodes.add(new KvStats.Verbs(c.reads(), c.writes(), c.cas(), c.faa(), c.rpcs(), c.bytesOut(), c.bytesIn(),
                c.roundTrips()));
        }
        return List.copyOf(nodes);
    }

    /**
     * Posts deferred frees, hands this client's blocks over for later clients, clears its log
     * heads (nothing is left to recover) and disconnects.
     */
    @Override
    public void close()
    {
        try
        {
            index.flush();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("could not post pending frees on close: {}", e.getMessage());
        }
        ClusterConnection.closeQuietly(flexkv, replicationAgent, failoverAgent, recoveryAgent, runtime, slab, heartbeat);
        try
        {
            LogWalk.clearHeads(view, verbs, clientId);
        }
        catch (final RuntimeException e)
        {
            LOG.warn("could not clear the log heads of client {} on close (a later client recovers it): {}", clientId,
                e.getMessage());
        }
        connection.close();
    }
}
