package io.dmkv.computenode;

import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.KvConfig;
import io.dmkv.KvStats;
import io.dmkv.computenode.alloc.SlabAllocator;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.RaceSplitter;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.computenode.ops.CoordinatedIndex;
import io.dmkv.computenode.ops.OpRuntime;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.computenode.replication.SnapshotStats;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;

/**
 * The client's parts, assembled from a {@link KvConfig} in one place: transport and verbs client,
 * the cluster view, the allocator, the index directory and cache, SNAPSHOT, the splitter, the
 * FUSEE operations, and the {@link KeyIndex} the store routes every key through. Closes them in
 * reverse order; a failure while assembling closes what was opened.
 */
public final class ClientCore implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientCore.class);

    private final VerbsTransport transport;
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
    private final CoordinatedCluster coordination;

    private ClientCore(final KvConfig config)
    {
        VerbsTransport t = null;
        VerbsClient v = null;
        SlabAllocator s = null;
        OpRuntime o = null;
        CoordinatedCluster c = null;
        try
        {
            final NanoClock clock = SystemNanoClock.INSTANCE;
            final ClusterSettings settings = new ClusterSettings(config.replication(), config.blockSize(),
                config.bucketGroups(), config.initialDepth(), config.maxDepth(), config.maxClients(),
                config.indexAreaBytes(), config.opTimeout().plusSeconds(20));
            List<String> endpoints = config.memnodes();
            if (config.coordinated())
            {
                c = CoordinatedCluster.connect(config.coordinator(), config.cluster(), config.sessionTimeout(),
                    config.coordinatorConnectTimeout(), config.mapLease(), config.maxClients(), clock);
                endpoints = c.memoryNodes(settings.formatTimeout());
            }
            else
            {
                LOG.info("static mode: memory nodes {} from the configuration, no coordinator (no fail-over, no"
                    + " proxying); set {} to run coordinated", endpoints, KvConfig.COORDINATOR);
            }
            t = VerbsTransports.create(config.transport());
            v = VerbsClient.connect(t, endpoints, ClientOptions.builder().requestTimeout(config.requestTimeout())
                .connectTimeout(config.connectTimeout()).build());
            if (c != null)
            {
                view = c.join(v, settings);
                clientId = c.claimClientId(config.clientId());
            }
            else
            {
                view = ClusterBootstrap.join(v, settings);
                clientId = config.clientId() != 0 ? config.clientId() : ClusterBootstrap.allocateClientId(v, view);
            }
            s = SlabAllocator.open(view, v, clientId, new SlabAllocator.Settings(config.reclaimPeriod()));
            final long opNs = config.opTimeout().toNanos();
            final IndexDirectory directory = new IndexDirectory(view, v);
            snapshot = new SnapshotReplicator(view, clock, config.snapshotHelpDelay().toNanos(), opNs);
            splitter = new RaceSplitter(view, v, directory, snapshot, clock, opNs);
            cache = new IndexCache(config.cacheEntries(), config.cacheBypassMissRate());
            o = new OpRuntime(v, clock);
            fusee = new FuseeIndex(view, o, directory, cache, snapshot, new EmbeddedLogWriter(view, s, clientId),
                splitter, clientId, config.maxInFlight(), opNs, config.insertLockLease().toNanos());
            final VerbsClient connected = v;
            final CoordinatedCluster member = c;
            index = c != null ? new CoordinatedIndex(fusee, c::checkLease, () ->
            {
                member.refreshMap();
                final int rekeyed = connected.refreshKeys();
                LOG.info("memory nodes refused a key: re-read the cluster map and learnt {} new region keys", rekeyed);
            }, o::offload) : fusee;
        }
        catch (final RuntimeException e)
        {
            closeQuietly(o, s, v, t, c);
            throw e;
        }
        coordination = c;
        runtime = o;
        transport = t;
        verbs = v;
        slab = s;
    }

    /** Connects to the cluster of {@code config} (bootstrapping it if empty) and assembles the client. */
    public static ClientCore assemble(final KvConfig config)
    {
        return new ClientCore(config);
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
            operations, perNode());
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

    /** Posts deferred frees, hands this client's blocks over for later clients, and disconnects. */
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
        closeQuietly(runtime, slab, verbs, transport, coordination);
    }

    private static void closeQuietly(final AutoCloseable... parts)
    {
        for (final AutoCloseable p : parts)
        {
            if (p == null)
            {
                continue;
            }
            try
            {
                p.close();
            }
            catch (final Exception e)
            {
                LOG.warn("could not close {}: {}", p.getClass().getSimpleName(), e.getMessage());
            }
        }
    }
}
