package io.dmkv.computenode.proxy;

import org.agrona.concurrent.NanoClock;

import io.dmkv.KvConfig;
import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cluster.ClientSecurity;
import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.ops.KeyIndex;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.computenode.proxy.cache.CoherenceDirectory;
import io.dmkv.computenode.proxy.cache.ProxyClient;

/**
 * A compute node's FlexKV parts, assembled in one place: the partition router every key goes
 * through, the local proxy index, the proxy port when {@code dmkv.proxy.enabled}, and the
 * partition manager (active while this node leads the coordinator's election).
 */
public final class FlexKv implements AutoCloseable
{
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FlexKv.class);
    /** How many proxied operations a store runs at once. */
    private static final int ROUTER_THREADS = 16;
    private static final long MANAGER_PERIOD_MS = 500;

    private final ProxyIndex index;
    private final PartitionRouter router;
    private final PartitionProxy proxy;
    private final PartitionManager manager;
    private final HotnessDetector hotness;
    private final TwoLevelMemory memory;
    private final RankAwareAssignment policy;
    private final ProxyClient client;

    private FlexKv(final ProxyIndex index, final PartitionRouter router, final PartitionProxy proxy,
        final PartitionManager manager, final HotnessDetector hotness, final TwoLevelMemory memory,
        final RankAwareAssignment policy, final ProxyClient client)
    {
        this.client = client;
        this.index = index;
        this.router = router;
        this.proxy = proxy;
        this.manager = manager;
        this.hotness = hotness;
        this.memory = memory;
        this.policy = policy;
    }

    public static FlexKv start(final KvConfig config, final CoordinatedCluster cluster, final ClusterView view,
        final VerbsClient verbs, final IndexDirectory directory, final SubtableSplitter splitter,
        final ObjectAllocator allocator, final EmbeddedLogWriter writer, final KeyIndex oneSided, final NanoClock clock)
    {
        final ProxyIndex index = new ProxyIndex(view, verbs, directory, splitter, allocator,
            cluster.partitions().partitionBits());
        final ClientSecurity security = ClientSecurity.of(config);
        final ProxyCalls calls = new ProxyCalls(security.apply(ClientOptions.builder()
            .requestTimeout(config.requestTimeout()).connectTimeout(config.connectTimeout())).build());
        PartitionRouter router = null;
        PartitionProxy proxy = null;
        HotnessDetector hotness = null;
        try
        {
            final ProxiedOperation.Context context = new ProxiedOperation.Context(view, verbs, writer,
                config.proxyEnabled() ? index : null, calls, clock, config.opTimeout().toNanos(),
                config.proxyHandoverGrace().toNanos());
            final long leaseNs = config.proxyCacheLease().toNanos();
            // A poll waits at most a lease at the proxy, and well inside the request timeout.
            final int parkMs = (int)Math.max(1, Math.min(leaseNs / 1_000_000L, config.requestTimeout().toMillis() / 2));
            context.client(new ProxyClient(cluster.memberName(), calls::open, clock, config.proxyCacheBytes(),
                config.proxyCacheLeaseMargin().toNanos(), config.proxyFramesInFlight(), parkMs));
            router = new PartitionRouter(oneSided, cluster, context, ROUTER_THREADS);
            final TwoLevelMemory memory = new TwoLevelMemory(cluster.partitions().partitions(),
                config.proxyEnabled() ? config.proxyMemoryBudget() : 0, index::indexBytes, index::serves);
            index.memory(memory);
            if (config.proxyEnabled())
            {
                router.levels(memory);
            }
            hotness = new HotnessDetector(router.hotness(), config.proxyEwma(), config.proxyPeriod().toMillis(), clock,
                cluster::publishHotness);
            hotness.onPeriod(memory::period);
            proxy = config.proxyEnabled() ? PartitionProxy.start(index, cluster, config.proxyHost(),
                config.proxyPort(), config.proxyAdvertiseHost(), clock, config.proxyHandoverGrace().toNanos(), security,
                new CoherenceDirectory(clock, leaseNs, config.proxyDirectoryEntries(),
                    cluster.partitions().partitionBits(), config.proxyWriteHotWrites(),
                    config.proxyWriteHotLookups())) : null;
            final RankAwareAssignment policy = new RankAwareAssignment(config.proxyImbalanceThreshold(),
                config.proxyHysteresis());
            final PartitionManager manager = new PartitionManager(cluster, index, policy, MANAGER_PERIOD_MS,
                config.proxyPeriod().toNanos(), clock);
            if (proxy != null)
            {
                proxy.awaitFirstAssignment(config.opTimeout().toNanos());
            }
            return new FlexKv(index, router, proxy, manager, hotness, memory, policy, context.client());
        }
        catch (final RuntimeException e)
        {
            ClusterConnection.closeQuietly(hotness, proxy, router, calls);
            throw e;
        }
    }

    /**
     * Whether the partition of a subtable (by its hash suffix) is proxied or being handed over,
     * by the partition map as last seen: what client recovery must not CAS.
     */
    public static java.util.function.IntPredicate proxiedBySuffix(final CoordinatedCluster cluster)
    {
        return suffix ->
        {
            final PartitionMap m = cluster.partitions();
            if (!m.isFlexKv())
            {
                return false;
            }
            final int p = suffix & (m.partitions() - 1);
            return !PartitionMap.NONE.equals(m.owner(p)) || !m.settled(p);
        };
    }

    /** Where the store sends every key. */
    public PartitionRouter router()
    {
        return router;
    }

    /** This node's proxy, or null when it is not proxy-enabled. */
    public PartitionProxy proxy()
    {
        return proxy;
    }

    public ProxyIndex index()
    {
        return index;
    }

    public PartitionManager manager()
    {
        return manager;
    }

    /** This node's per-partition hotness, smoothed and published once a period. */
    public HotnessDetector hotness()
    {
        return hotness;
    }

    /** This node's two-level proxy memory (no values unless it is proxy-enabled). */
    public TwoLevelMemory memory()
    {
        return memory;
    }

    /** The manager's assignment policy (when this node leads, the one deciding). */
    public RankAwareAssignment policy()
    {
        return policy;
    }

    /** Requests batched to other proxies and values cached from them. */
    public ProxyClient client()
    {
        return client;
    }

    /** This node's caching figures: as a cacher, and as a proxy when it is one. */
    public io.dmkv.KvStats.FlexKv stats()
    {
        final io.dmkv.computenode.proxy.cache.ValueCache.Stats c = client.cacheStats();
        final ProxyClient.Stats b = client.stats();
        final io.dmkv.computenode.proxy.cache.CoherenceDirectory.Stats d = proxy == null ? null
            : proxy.directory().stats();
        return new io.dmkv.KvStats.FlexKv(c == null ? 0 : c.hits(), c == null ? 0 : c.misses(),
            c == null ? 0 : c.staleFills(), c == null ? 0 : c.invalidated(), c == null ? 0 : c.bytes(), b.frames(),
            b.requests(), d == null ? 0 : d.grants(), d == null ? 0 : d.refused(), d == null ? 0 : d.writeHot(),
            d == null ? 0 : d.invalidations(), d == null ? 0 : d.waits(), d == null ? 0 : d.expiredWaits(),
            d == null ? 0 : d.entries(), proxy == null ? 0 : proxy.fence().refused());
    }

    /** Stops managing and measuring, then proxying (partitions released), then routing. */
    @Override
    public void close()
    {
        LOG.info("FlexKV compute node: batched calls {}, cache {}{}", client.stats(), client.cacheStats(),
            proxy == null ? "" : ", directory " + proxy.directory().stats());
        ClusterConnection.closeQuietly(manager, hotness, proxy, router, index);
    }
}
