package io.dmkv.computenode.proxy;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.HashMap;
import java.util.Map;

import org.agrona.concurrent.NanoClock;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClientSecurity;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.cluster.PeriodicStep;
import io.dmkv.computenode.proxy.cache.BatchHandler;
import io.dmkv.computenode.proxy.cache.CoherenceDirectory;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;

/**
 * This compute node as a proxy of a FlexKV cluster: serves the proxy RPCs of the partitions it
 * owns on its proxy port (a memory-node service with no regions, so the same hello and frames),
 * and follows the partition map through the hand-over steps of docs/flexkv.md §6:
 * <ul>
 * <li>a partition it owns whose previous owner is done ({@code from} settled) is loaded and served;</li>
 * <li>one taken from one-sided mode is loaded at once if no one-sided operation ever ran
 * ({@link PartitionMap#isFresh()}), else after the hand-over grace, which outlasts any
 * operation routed by the older map; then it marks the hand-over done;</li>
 * <li>one it serves but no longer owns is released (the writes in flight finish first) and the
 * hand-over is marked done, so the next owner may load it;</li>
 * <li>one taken from another proxy waits until that proxy marked it done (or the leader did,
 * after that proxy died).</li>
 * </ul>
 * The steps run on one thread, on every map change and every {@code period}.
 */
public final class PartitionProxy implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(PartitionProxy.class);
    private static final int RPC_THREADS = 8;

    private final ProxyIndex index;
    private final CoordinatedCluster cluster;
    private final String me;
    private final MemoryNodeService service;
    private final TcpVerbsServer server;
    private final String endpoint;
    private final PeriodicStep driver;
    private final NanoClock clock;
    private final long graceNs;
    private final Map<Integer, Long> oneSidedSince = new HashMap<>();
    private final CoherenceDirectory directory;
    private final BatchHandler batches;
    private final PeriodicStep leases;
    /** When this proxy first saw that it owns a partition whose previous owner was a proxy. */
    private final Map<Integer, Long> takenSince = new HashMap<>();
    private final ProxyFence fence;
    private final PeriodicStep fenceKeeper;
    private boolean withdrawn;

    private PartitionProxy(final ProxyIndex index, final CoordinatedCluster cluster, final String host,
        final int port, final String advertiseHost, final NanoClock clock, final long graceNs, final long periodMs,
        final ClientSecurity security, final CoherenceDirectory directory)
    {
        this.index = index;
        this.cluster = cluster;
        this.me = cluster.memberName();
        this.clock = clock;
        this.graceNs = graceNs;
        this.service = new MemoryNodeService("proxy-" + me, RegionTable.empty(), ProtocolVersion.DEFAULT_LAYOUT, RPC_THREADS)
            .secret(security.secret());
        service.handle(ProxyRpc.SEARCH, request ->
        {
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.SEARCH, request);
            return ProxyRpc.reply(index.search(r.key(), r.hash()));
        });
        service.handle(ProxyRpc.MUTATE, request ->
        {
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.MUTATE, request);
            return ProxyRpc.reply(index.mutate(r.mode(), r.key(), r.hash(), r.slot(), r.address()));
        });
        // First tries on the network thread, which answer from the copy or post the write-through
        // without a worker; what would wait goes on to the blocking handlers above.
        service.handleInline(ProxyRpc.SEARCH, request ->
        {
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.SEARCH, request);
            final long slot = index.trySearch(r.key(), r.hash());
            return slot == ProxyIndex.BUSY ? null : CompletableFuture.completedFuture(ProxyRpc.reply(
                slot == ProxyIndex.ABSENT ? ProxyRpc.Reply.of(ProxyRpc.NOT_FOUND, 0)
                    : ProxyRpc.Reply.of(ProxyRpc.FOUND, slot)));
        });
        service.handleInline(ProxyRpc.MUTATE, request ->
        {
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.MUTATE, request);
            final CompletableFuture<ByteBuffer> answer = new CompletableFuture<>();
            return index.tryMutate(r.mode(), r.key(), r.hash(), r.slot(), r.address(), ThreadCounters.current(),
                (reply, failure) ->
                {
                    if (failure == null)
                    {
                        answer.complete(ProxyRpc.reply(reply));
                    }
                    else
                    {
                        answer.completeExceptionally(failure);
                    }
                }) ? answer : null;
        });
        service.handle(ProxyRpc.QUERY, request ->
        {
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.QUERY, request);
            return ProxyRpc.reply(index.query(r.key(), r.hash(), r.address()));
        });
        this.directory = directory;
        this.fence = new ProxyFence(me, clock, fenceLeaseNs(cluster), () -> cluster.coordinator().sessionId(),
            () -> cluster.partitionMap().refresh());
        index.admission(fence::admits);
        cluster.coordinator().onConnectionStateChange(state ->
        {
            if (state == ConnectionState.SUSPENDED)
            {
                fence.suspended();
            }
            else if (state == ConnectionState.LOST)
            {
                fence.lost();
            }
        });
        this.fenceKeeper = new PeriodicStep("proxy-fence-" + me, Math.max(1, fence.leaseNs() / 4_000_000L),
            fence::keep);
        index.fence(directory::written);
        this.batches = new BatchHandler(index, directory, me);
        batches.register(service);
        this.leases = new PeriodicStep("proxy-leases-" + me, Math.max(1, directory.leaseNs() / 10_000_000L),
            directory::expire);
        TcpVerbsServer s = null;
        try
        {
            s = TcpVerbsServer.start(service, host, port, security.tls());
        }
        catch (final RuntimeException e)
        {
            fenceKeeper.close();
            leases.close();
            batches.close();
            service.close();
            throw e;
        }
        this.server = s;
        this.endpoint = advertiseHost + ":" + s.port();
        cluster.advertiseProxy(endpoint);
        this.driver = new PeriodicStep("proxy-" + me, periodMs, this::step);
        cluster.partitionMap().onChange(m -> kick());
        LOG.info("compute node {} proxies FlexKV partitions on {} (bound to {})", me, endpoint, host);
    }

    /**
     * Starts the proxy port on {@code host:port} (0: any free port), advertises
     * {@code advertiseHost:port} in the coordinator and starts following the partition map. With
     * a cluster secret in {@code security} every caller passes the same hello as at a memory node,
     * and with TLS the port serves it with the compute node's certificate. {@code directory} keeps
     * the values other compute nodes cache from its partitions coherent.
     */
    public static PartitionProxy start(final ProxyIndex index, final CoordinatedCluster cluster, final String host,
        final int port, final String advertiseHost, final NanoClock clock, final long graceNs,
        final ClientSecurity security, final CoherenceDirectory directory)
    {
        return new PartitionProxy(index, cluster, host, port, advertiseHost, clock, graceNs, 200, security, directory);
    }

    /** The coherence directory of the values cached from this proxy's partitions. */
    public CoherenceDirectory directory()
    {
        return directory;
    }

    public ProxyIndex index()
    {
        return index;
    }

    /** {@code host:port} other compute nodes dial. */
    public String endpoint()
    {
        return endpoint;
    }

    /** Runs the hand-over steps now (on the proxy's thread). */
    public void kick()
    {
        driver.kick();
    }

    /**
     * How long a confirmation of the partition map keeps the fence open: the map lease, which the
     * settings keep below the session timeout; if the coordinator negotiated a session no longer
     * than that, half the negotiated one (the margin the fence relies on).
     */
    private static long fenceLeaseNs(final CoordinatedCluster cluster)
    {
        final long lease = cluster.mapLease().toNanos();
        long session;
        try
        {
            session = cluster.coordinator().curator().getZookeeperClient().getZooKeeper().getSessionTimeout()
                * 1_000_000L;
        }
        catch (final Exception e)
        {
            session = 0;
        }
        // 0: not connected now; the configured session timeout, which the settings keep above the lease, holds.
        if (session <= 0 || session > lease)
        {
            return lease;
        }
        LOG.warn("the coordinator granted a session of {} ms, no longer than the map lease of {} ms: the proxy's"
            + " fence admits for {} ms after each confirmation", session / 1_000_000, lease / 1_000_000,
            session / 2_000_000);
        return session / 2;
    }

    /** This proxy's fence: whether it may serve its partitions now. */
    public ProxyFence fence()
    {
        return fence;
    }

    private void step()
    {
        if (fence.stale())
        {
            withdraw();
            return;
        }
        cluster.partitionMap().refresh();
        final PartitionMap m = cluster.partitions();
        final Map<Integer, String> loaded = new HashMap<>();
        final Map<Integer, String> released = new HashMap<>();
        final java.util.List<Integer> waiting = new java.util.ArrayList<>();
        final java.util.List<CompletableFuture<Void>> revoked = new java.util.ArrayList<>();
        for (int p = 0; p < m.partitions(); p++)
        {
            final String owner = m.owner(p);
            final boolean mine = me.equals(owner);
            if (index.serves(p) && !mine)
            {
                index.release(p);
                // The next owner must not write while a value this proxy leased may still be served.
                revoked.add(directory.revoke(p));
            }
            if (!mine)
            {
                oneSidedSince.remove(p);
                takenSince.remove(p);
                if (me.equals(m.from(p)) && !index.serves(p))
                {
                    released.put(p, me);
                }
                continue;
            }
            if (index.serves(p) || !fence.isOpen())
            {
                // Loading settles replicas (writes): only while this proxy may write back.
                continue;
            }
            final String from = m.from(p);
            if (m.settled(p) || me.equals(from))
            {
                if (leasesOver(p))
                {
                    index.load(p);
                    loaded.put(p, from);
                }
            }
            else if (PartitionMap.NONE.equals(from))
            {
                final long now = clock.nanoTime();
                if (!oneSidedSince.containsKey(p) && !m.isFresh())
                {
                    waiting.add(p);
                }
                final long since = oneSidedSince.computeIfAbsent(p, k -> now);
                if (m.isFresh() || now - since >= graceNs)
                {
                    index.load(p);
                    loaded.put(p, from);
                    oneSidedSince.remove(p);
                }
            }
            // else: another proxy still serves p; it (or the leader, if it died) marks it done.
        }
        if (!waiting.isEmpty())
        {
            LOG.info("proxy {} takes partitions {} from one-sided mode: it waits {} ms for one-sided operations routed"
                + " by the older map to end (dmkv.proxy.handoverGrace); operations on them wait meanwhile", me, waiting,
                graceNs / 1_000_000);
        }
        CompletableFuture.allOf(revoked.toArray(new CompletableFuture[0])).join();
        released.putAll(loaded);
        if (!released.isEmpty())
        {
            markDone(released);
        }
    }

    /**
     * True once a lease ({@code dmkv.proxy.cacheLease}) passed since this proxy first saw it owns
     * partition p, taken from a proxy: a previous owner that died (or was cut off) granted no
     * lease after that, so none is left when this proxy writes (docs/flexkv.md §11). A partition
     * from one-sided mode needs no wait: its last proxy revoked its leases, or died a session
     * timeout (longer than a lease) before.
     */
    private boolean leasesOver(final int p)
    {
        final long now = clock.nanoTime();
        final long since = takenSince.computeIfAbsent(p, k -> now);
        if (now - since < directory.leaseNs())
        {
            return false;
        }
        takenSince.remove(p);
        return true;
    }

    /**
     * After its session changed, this proxy's partitions may have been given to others and written
     * (docs/flexkv.md §11): it drops them unrevoked (every lease it granted ended before the
     * session did) and takes its endpoint out of its member record, so the partition manager moves
     * what the map still gives it and gives it nothing more. The store's own operations already
     * fail for good after a lost session; reopening the store makes a new proxy.
     */
    private void withdraw()
    {
        for (final int p : index.served())
        {
            index.release(p);
        }
        takenSince.clear();
        oneSidedSince.clear();
        if (!withdrawn)
        {
            cluster.advertiseProxy("");
            withdrawn = true;
            LOG.warn("proxy {} lost its coordinator session: it dropped its partitions and no longer proxies (reopen"
                + " the store to proxy again)", me);
        }
    }

    /** Marks the hand-overs of these partitions (from the owner named) done, unless the map moved on meanwhile. */
    private void markDone(final Map<Integer, String> done)
    {
        PartitionMapUpdate.apply(cluster.coordinator().maps(), null, m ->
        {
            PartitionMap next = m;
            for (final Map.Entry<Integer, String> e : done.entrySet())
            {
                if (e.getValue().equals(next.from(e.getKey())))
                {
                    next = next.withSettled(e.getKey());
                }
            }
            return next;
        });
    }

    /**
     * Waits until this proxy serves a share of a new cluster's partitions, so a store opened with
     * the cluster does not route its first keys one-sided (which would end the map's freshness
     * and make every later hand-over wait its grace). Returns early if the map is no longer fresh.
     */
    public void awaitFirstAssignment(final long timeoutNs)
    {
        final long deadline = clock.nanoTime() + timeoutNs;
        while (clock.nanoTime() < deadline)
        {
            final PartitionMap m = cluster.partitions();
            if (!m.isFresh() || !index.served().isEmpty())
            {
                return;
            }
            kick();
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            cluster.partitionMap().refresh();
        }
        LOG.warn("proxy {} was given no partition within {} ms of joining a new cluster", me, timeoutNs / 1_000_000);
    }

    /** Stops the proxy port and releases every partition (their writes in flight finish first). */
    @Override
    public void close()
    {
        driver.close();
        fenceKeeper.close();
        for (final int p : index.served())
        {
            index.release(p);
        }
        server.close();
        leases.close();
        batches.close();
        service.close();
    }
}
