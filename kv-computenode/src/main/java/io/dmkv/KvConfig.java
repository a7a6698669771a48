// Over 500 lines: the one table of every dmkv.* property (name, concern, default, parser,
// check), plus a typed accessor and a builder setter for each; split, the table would be
// scattered again over the files it was gathered from.
package io.dmkv;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

import io.dmkv.KvProperty.Check;
import io.dmkv.KvProperty.Group;
import io.dmkv.core.config.Endpoints;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.core.metrics.MetricsExport;
import io.dmkv.rdma.security.ClusterSecret;

/**
 * Everything a {@link KvStore} needs, with defaults. Build it in code ({@link #builder()}) or
 * from properties ({@link #fromProperties}); every field is checked when built, and a bad one is
 * reported by its property name with the accepted values.
 *
 * <p>The properties are one table ({@link #properties()}): name, concern, default, parser and
 * check, grouped by {@link KvProperty.Group}. The cluster layout fields (block size, index
 * shape, max clients) only matter to the client that bootstraps an empty cluster; clients that
 * join take the cluster's stored layout. The replication factor must match the cluster's.
 */
public final class KvConfig
{
    /** Property names, as in a properties file. */
    public static final String MEMNODES = "dmkv.memnodes";
    public static final String TRANSPORT = "dmkv.transport";
    public static final String REPLICATION = "dmkv.replication";
    public static final String OP_TIMEOUT = "dmkv.timeout";
    public static final String REQUEST_TIMEOUT = "dmkv.requestTimeout";
    public static final String CONNECT_TIMEOUT = "dmkv.connectTimeout";
    public static final String MAX_IN_FLIGHT = "dmkv.maxInFlight";
    public static final String ASYNC_THREADS = "dmkv.asyncThreads";
    public static final String INSERT_LOCK_LEASE = "dmkv.insertLockLease";
    public static final String SNAPSHOT_HELP_DELAY = "dmkv.snapshotHelpDelay";
    public static final String RECOVERY_GRACE = "dmkv.recoveryGrace";
    public static final String HEARTBEAT_PERIOD = "dmkv.heartbeatPeriod";
    public static final String RECOVERY_CHECK_PERIOD = "dmkv.recoveryCheckPeriod";
    public static final String CACHE_ENTRIES = "dmkv.cache.entries";
    public static final String CACHE_BYPASS = "dmkv.cache.bypassMissRate";
    public static final String BLOCK_SIZE = "dmkv.alloc.blockSize";
    public static final String RECLAIM_PERIOD = "dmkv.alloc.reclaimPeriod";
    public static final String BUCKET_GROUPS = "dmkv.index.bucketGroups";
    public static final String INITIAL_DEPTH = "dmkv.index.initialDepth";
    public static final String MAX_DEPTH = "dmkv.index.maxDepth";
    public static final String INDEX_AREA = "dmkv.index.areaBytes";
    public static final String MAX_CLIENTS = "dmkv.maxClients";
    public static final String CLIENT_ID = "dmkv.clientId";
    public static final String COORDINATOR = "dmkv.coordinator";
    public static final String CLUSTER = "dmkv.cluster";
    public static final String SESSION_TIMEOUT = "dmkv.coordinator.sessionTimeout";
    public static final String COORDINATOR_CONNECT_TIMEOUT = "dmkv.coordinator.connectionTimeout";
    public static final String MAP_LEASE = "dmkv.mapLease";
    public static final String MODE = "dmkv.mode";
    public static final String PARTITIONS = "dmkv.partitions";
    public static final String PROXY_ENABLED = "dmkv.proxy.enabled";
    public static final String PROXY_HOST = "dmkv.proxy.host";
    public static final String PROXY_PORT = "dmkv.proxy.port";
    public static final String PROXY_ADVERTISE_HOST = "dmkv.proxy.advertiseHost";
    public static final String PROXY_HANDOVER_GRACE = "dmkv.proxy.handoverGrace";
    public static final String PROXY_PERIOD = "dmkv.proxy.period";
    public static final String PROXY_EWMA = "dmkv.proxy.ewma";
    public static final String PROXY_IMBALANCE_THRESHOLD = "dmkv.proxy.imbalanceThreshold";
    public static final String PROXY_HYSTERESIS = "dmkv.proxy.hysteresis";
    public static final String PROXY_MEMORY_BUDGET = "dmkv.proxy.memoryBudget";
    public static final String PROXY_CACHE_BYTES = "dmkv.proxy.cacheBytes";
    public static final String PROXY_CACHE_LEASE = "dmkv.proxy.cacheLease";
    public static final String PROXY_CACHE_LEASE_MARGIN = "dmkv.proxy.cacheLeaseMargin";
    public static final String PROXY_DIRECTORY_ENTRIES = "dmkv.proxy.directoryEntries";
    public static final String PROXY_WRITE_HOT_WRITES = "dmkv.proxy.writeHotWrites";
    public static final String PROXY_WRITE_HOT_LOOKUPS = "dmkv.proxy.writeHotLookups";
    public static final String PROXY_FRAMES_IN_FLIGHT = "dmkv.proxy.framesInFlight";
    public static final String SECRET_FILE = "dmkv.secretFile";
    public static final String TLS_CERT = "dmkv.tls.cert";
    public static final String TLS_KEY = "dmkv.tls.key";
    public static final String TLS_CA = "dmkv.tls.ca";
    public static final String MIN_LIVE_REPLICAS = "dmkv.minLiveReplicas";
    public static final String METRICS = "dmkv.metrics";
    public static final String METRICS_PORT = "dmkv.metricsPort";

    private static final List<KvProperty<?>> TABLE = new ArrayList<>();

    static final KvProperty<List<String>> P_MEMNODES = add(MEMNODES, Group.CLUSTER, null, KvProperty::parseList,
        KvConfig::checkMemnodes, "memory nodes, comma-separated, in the cluster's order: HOST:PORT, or mem:NAME for a"
            + " node in this JVM (a static cluster; with a coordinator, leave it out)");
    static final KvProperty<String> P_TRANSPORT = add(TRANSPORT, Group.TRANSPORT, "tcp",
        v -> v.toLowerCase(Locale.ROOT), v -> List.of("local", "tcp", "rdma").contains(v) ? null
            : "must be local, tcp or rdma, got '" + v + "'", "local, tcp or rdma");
    static final KvProperty<Integer> P_REPLICATION = add(REPLICATION, Group.CLUSTER, 1, KvProperty::parseInt,
        KvProperty.range(1, 5), "r: replicas of every object and index slot, 1..5 and at most the node count");
    static final KvProperty<Duration> P_OP_TIMEOUT = add(OP_TIMEOUT, Group.OPERATIONS, Duration.ofSeconds(10),
        KvProperty::parseDuration, KvProperty.positive(), "an operation, retries included, fails with"
            + " KvTimeoutException after this; also the longest wait for an in-flight slot");
    static final KvProperty<Duration> P_REQUEST_TIMEOUT = add(REQUEST_TIMEOUT, Group.TRANSPORT,
        Duration.ofSeconds(10), KvProperty::parseDuration, KvProperty.positive(), "one batch of verbs or one RPC");
    static final KvProperty<Duration> P_CONNECT_TIMEOUT = add(CONNECT_TIMEOUT, Group.TRANSPORT,
        Duration.ofSeconds(5), KvProperty::parseDuration, KvProperty.positive(), "connecting to a node plus the hello; refused"
            + " connections are retried until then (a starting node listens once its memory is zeroed)");
    static final KvProperty<Integer> P_MAX_IN_FLIGHT = add(MAX_IN_FLIGHT, Group.OPERATIONS, 256, KvProperty::parseInt,
        KvProperty.range(1, 65_536), "operations in flight per store; a call beyond waits up to dmkv.timeout");
    static final KvProperty<Integer> P_ASYNC_THREADS = add(ASYNC_THREADS, Group.OPERATIONS,
        Math.max(2, Runtime.getRuntime().availableProcessors()), KvProperty::parseInt, KvProperty.range(1, 1024),
        "threads that complete the futures of the *Async calls");
    static final KvProperty<Duration> P_INSERT_LOCK_LEASE = add(INSERT_LOCK_LEASE, Group.OPERATIONS,
        Duration.ofSeconds(1), KvProperty::parseDuration, KvProperty.positive(), "an insert lock unchanged for this"
            + " long is taken over by a waiting inserter (a slow holder's commit is then fenced off)");
    static final KvProperty<Duration> P_SNAPSHOT_HELP_DELAY = add(SNAPSHOT_HELP_DELAY, Group.OPERATIONS,
        Duration.ofMillis(500), KvProperty::parseDuration, KvProperty.positive(), "a SNAPSHOT loser waits this long"
            + " for the winner's primary CAS before completing it itself");
    static final KvProperty<Duration> P_RECOVERY_GRACE = add(RECOVERY_GRACE, Group.OPERATIONS,
        Duration.ofMillis(400), KvProperty::parseDuration, KvProperty.positive(), "client recovery waits this long"
            + " after finding a crashed client's live objects before freeing the others, so frees live clients"
            + " already released land first (longer than their reclaim period)");
    static final KvProperty<Duration> P_HEARTBEAT_PERIOD = add(HEARTBEAT_PERIOD, Group.OPERATIONS,
        Duration.ofMillis(200), KvProperty::parseDuration, KvProperty.positive(), "a client raises its heartbeat on the"
            + " memory nodes this often; recovery refuses a client whose heartbeat moves within 3 periods (same value"
            + " on every client)");
    static final KvProperty<Duration> P_RECOVERY_CHECK_PERIOD = add(RECOVERY_CHECK_PERIOD, Group.OPERATIONS,
        Duration.ofSeconds(1), KvProperty::parseDuration, KvProperty.positive(), "coordinated mode: how often the"
            + " live client with the lowest id looks for clients whose session expired, to recover them");
    static final KvProperty<Integer> P_MIN_LIVE_REPLICAS = add(MIN_LIVE_REPLICAS, Group.OPERATIONS, 1,
        KvProperty::parseInt, KvProperty.range(1, 5), "coordinated mode: writes go on while every region keeps at"
            + " least this many live replicas after memory nodes failed over, and fail with a message otherwise"
            + " (reads go on while one lives); 1 keeps writing on the last replica, r refuses writes on any loss");
    static final KvProperty<Integer> P_CACHE_ENTRIES = add(CACHE_ENTRIES, Group.CACHE, 1 << 16, KvProperty::parseInt,
        KvProperty.range(0, 1 << 26), "entries of the index cache (slot address and value per key hash); also sizes the"
            + " copies of subtables that guess a new key's slot (64 B per entry); 0 turns both off");
    static final KvProperty<Double> P_CACHE_BYPASS = add(CACHE_BYPASS, Group.CACHE, 0.1, KvProperty::parseDouble,
        v -> v >= 0 && v <= 1 ? null : "must be in 0..1, got " + v,
        "keys whose cached slot is stale more often than this bypass the cache");
    static final KvProperty<Long> P_BLOCK_SIZE = add(BLOCK_SIZE, Group.ALLOCATION,
        0L, KvProperty::parseSize, v -> v == 0 || v >= BlockHeader.MIN_BLOCK_SIZE
            && v <= BlockHeader.MAX_BLOCK_SIZE && Long.bitCount(v) == 1 ? null
            : "must be 0 (automatic) or a power of two in 4K..64M, got " + v,
        "bytes of a block a client takes from a memory node (power of two, 4K..64M); 0: min(16M, region / 64) *");
    static final KvProperty<Duration> P_RECLAIM_PERIOD = add(RECLAIM_PERIOD, Group.ALLOCATION,
        Duration.ofMillis(200), KvProperty::parseDuration, KvProperty.positive(),
        "how often a client takes back the objects others freed in its blocks");
    static final KvProperty<Integer> P_BUCKET_GROUPS = add(BUCKET_GROUPS, Group.INDEX,
        Subtable.DEFAULT_BUCKET_GROUPS, KvProperty::parseInt,
        KvProperty.range(Subtable.MIN_BUCKET_GROUPS, Subtable.MAX_BUCKET_GROUPS),
        "bucket groups per index subtable *");
    static final KvProperty<Integer> P_INITIAL_DEPTH = add(INITIAL_DEPTH, Group.INDEX,
        IndexRoot.DEFAULT_INITIAL_GLOBAL_DEPTH, KvProperty::parseInt, KvProperty.range(0, Slot.SUFFIX_BITS),
        "the index starts with 2^d subtables *");
    static final KvProperty<Integer> P_MAX_DEPTH = add(MAX_DEPTH, Group.INDEX, Slot.SUFFIX_BITS,
        KvProperty::parseInt, KvProperty.range(0, Slot.SUFFIX_BITS),
        "the index grows by splits to at most 2^d subtables *");
    static final KvProperty<Long> P_INDEX_AREA = add(INDEX_AREA, Group.INDEX, 0L, KvProperty::parseSize,
        KvProperty.rangeLong(0, 1L << 30, "0..1G (0: a quarter of the first region)"),
        "bytes kept for the index in each of the first regions (one per memory node); 0: a quarter of the region *");
    static final KvProperty<Integer> P_MAX_CLIENTS = add(MAX_CLIENTS, Group.CLUSTER,
        ClientLogHeads.DEFAULT_MAX_CLIENTS, KvProperty::parseInt, KvProperty.range(1, 65_535),
        "client ids the cluster has log heads for *");
    static final KvProperty<Integer> P_CLIENT_ID = add(CLIENT_ID, Group.CLUSTER, 0, KvProperty::parseInt,
        KvProperty.range(0, 65_535), "this client's id, 1..maxClients; 0 takes the next one from the cluster");

    static final KvProperty<String> P_COORDINATOR = add(COORDINATOR, Group.COORDINATION, "", String::trim,
        KvProperty.any(), "ZooKeeper's connect string HOST:PORT[,HOST:PORT...][/chroot]: the client finds the memory"
            + " nodes there; empty: a static cluster on dmkv.memnodes");
    static final KvProperty<String> P_CLUSTER = add(CLUSTER, Group.COORDINATION, "default", String::trim,
        v -> v.matches("[A-Za-z0-9._-]{1,64}") ? null : "must be 1..64 letters, digits, '.', '_' or '-', got '" + v
            + "'", "the cluster's name in the coordinator (znodes under /dmkv/NAME)");
    static final KvProperty<Duration> P_SESSION_TIMEOUT = add(SESSION_TIMEOUT, Group.COORDINATION,
        Duration.ofSeconds(4), KvProperty::parseDuration, KvProperty.positive(),
        "a member silent this long is dead to the cluster (ZooKeeper keeps it within 2..20 ticks)");
    static final KvProperty<Duration> P_COORDINATOR_CONNECT_TIMEOUT = add(COORDINATOR_CONNECT_TIMEOUT,
        Group.COORDINATION, Duration.ofSeconds(3), KvProperty::parseDuration, KvProperty.positive(),
        "how long to wait for the coordinator before failing");
    static final KvProperty<Duration> P_MAP_LEASE = add(MAP_LEASE, Group.COORDINATION, Duration.ofSeconds(2),
        KvProperty::parseDuration, KvProperty.positive(), "the cluster map is used only this long after the"
            + " coordinator last confirmed it (reads included); below the session timeout");

    static final KvProperty<String> P_MODE = add(MODE, Group.FLEXKV, "", v -> v.trim().toLowerCase(Locale.ROOT),
        v -> List.of("", "fusee", "flexkv").contains(v) ? null : "must be fusee or flexkv, got '" + v + "'",
        "the cluster's index mode, fixed when it is created: fusee (one-sided, SNAPSHOT) or flexkv (partitions proxied"
            + " by compute nodes; needs dmkv.coordinator); empty: the cluster's mode, fusee when creating");
    static final KvProperty<Integer> P_PARTITIONS = add(PARTITIONS, Group.FLEXKV, 64, KvProperty::parseInt,
        v -> v >= 1 && v <= (1 << Slot.SUFFIX_BITS) && Integer.bitCount(v) == 1 ? null
            : "must be a power of two in 1..256, got " + v,
        "FlexKV partitions P, a power of two; the index starts with P subtables (used when creating a flexkv cluster)");
    static final KvProperty<Boolean> P_PROXY_ENABLED = add(PROXY_ENABLED, Group.FLEXKV, false,
        KvProperty::parseBoolean, KvProperty.any(), "this compute node may proxy partitions of a flexkv cluster (off for"
            + " short-lived clients, so they never cause migrations)");
    static final KvProperty<String> P_PROXY_HOST = add(PROXY_HOST, Group.FLEXKV, "127.0.0.1", String::trim,
        v -> v.isEmpty() ? "must name an interface to bind" : null, "the address the proxy port binds");
    static final KvProperty<Integer> P_PROXY_PORT = add(PROXY_PORT, Group.FLEXKV, 0, KvProperty::parseInt,
        KvProperty.range(0, 65_535), "the proxy port other compute nodes call (0: any free port)");
    static final KvProperty<String> P_PROXY_ADVERTISE_HOST = add(PROXY_ADVERTISE_HOST, Group.FLEXKV, "", String::trim,
        KvProperty.any(), "the host other compute nodes dial for this proxy; empty: dmkv.proxy.host");
    static final KvProperty<Duration> P_PROXY_HANDOVER_GRACE = add(PROXY_HANDOVER_GRACE, Group.FLEXKV, Duration.ZERO,
        KvProperty::parseDuration, v -> v.isNegative() ? "must not be negative" : null, "a proxy taking a partition"
            + " from one-sided mode waits this long before loading it, so one-sided operations routed by the old map"
            + " end first; 0: dmkv.mapLease + dmkv.timeout");
    static final KvProperty<Duration> P_PROXY_PERIOD = add(PROXY_PERIOD, Group.FLEXKV, Duration.ofSeconds(1),
        KvProperty::parseDuration, KvProperty.positive(), "the hotness period: each compute node smooths its"
            + " per-partition operation counts once a period and publishes them; the partition manager decides a"
            + " rebalance at most once a period");
    static final KvProperty<Double> P_PROXY_EWMA = add(PROXY_EWMA, Group.FLEXKV, 0.5, KvProperty::parseDouble,
        v -> v > 0 && v <= 1 ? null : "must be in (0, 1], got " + v,
        "weight of the last period in a partition's hotness (EWMA; 1: the last period alone)");
    static final KvProperty<Double> P_PROXY_IMBALANCE_THRESHOLD = add(PROXY_IMBALANCE_THRESHOLD, Group.FLEXKV, 1.25,
        KvProperty::parseDouble, v -> v >= 1 ? null : "must be at least 1, got " + v,
        "the partition manager rebalances by hotness when the busiest proxy's load passes this multiple of the mean");
    static final KvProperty<Double> P_PROXY_HYSTERESIS = add(PROXY_HYSTERESIS, Group.FLEXKV, 0.1,
        KvProperty::parseDouble, v -> v >= 0 ? null : "must not be negative, got " + v,
        "a rebalance is made only if it lowers max/mean load by more than this, and at most once every 2 periods");
    static final KvProperty<Long> P_PROXY_MEMORY_BUDGET = add(PROXY_MEMORY_BUDGET, Group.FLEXKV, 64L << 20,
        KvProperty::parseSize, v -> v >= 0 ? null : "must not be negative, got " + v,
        "bytes a proxy keeps for its partitions' index copies and the values of its hottest ones (level 1); 0: no"
            + " values");
    static final KvProperty<Long> P_PROXY_CACHE_BYTES = add(PROXY_CACHE_BYTES, Group.FLEXKV, 32L << 20,
        KvProperty::parseSize, v -> v < 0 ? "must not be negative" : null, "bytes of values this compute node caches"
            + " from partitions other compute nodes proxy, kept coherent by their proxies (0: no cache)");
    static final KvProperty<Duration> P_PROXY_CACHE_LEASE = add(PROXY_CACHE_LEASE, Group.FLEXKV,
        Duration.ofMillis(200), KvProperty::parseDuration, KvProperty.positive(), "how long a proxy lets a compute"
            + " node serve a cached value without hearing from it; a write waits at most this for a silent cacher,"
            + " and a proxy waits this long after it is given a partition before it serves it");
    static final KvProperty<Duration> P_PROXY_CACHE_LEASE_MARGIN = add(PROXY_CACHE_LEASE_MARGIN, Group.FLEXKV,
        Duration.ofMillis(20), KvProperty::parseDuration, v -> v.isNegative() ? "must not be negative" : null,
        "a cacher ends each lease this much early, measured on its own clock from when it sent the request: the"
            + " clock drift a lease tolerates (below dmkv.proxy.cacheLease)");
    static final KvProperty<Integer> P_PROXY_DIRECTORY_ENTRIES = add(PROXY_DIRECTORY_ENTRIES, Group.FLEXKV, 262_144,
        KvProperty::parseInt, KvProperty.range(0, 1 << 26), "keys a proxy tracks as cached by other compute nodes;"
            + " past it, reads are answered without a lease");
    static final KvProperty<Integer> P_PROXY_WRITE_HOT_WRITES = add(PROXY_WRITE_HOT_WRITES, Group.FLEXKV, 4,
        KvProperty::parseInt, KvProperty.range(0, 1 << 20), "writes of a key within one dmkv.proxy.cacheLease that"
            + " make its proxy stop leasing it (its readers ask the proxy each time, its writes wait for no cache)"
            + " until a lease passes with fewer than half as many; 0: lease every key");
    static final KvProperty<Integer> P_PROXY_WRITE_HOT_LOOKUPS = add(PROXY_WRITE_HOT_LOOKUPS, Group.FLEXKV, 2,
        KvProperty::parseInt, KvProperty.range(1, 1 << 30), "leased lookups of a key per write (over the last two"
            + " leases) at which its proxy keeps leasing it however often it is written: its readers come back"
            + " between writes often enough for the cache to pay");
    static final KvProperty<Integer> P_PROXY_FRAMES_IN_FLIGHT = add(PROXY_FRAMES_IN_FLIGHT, Group.FLEXKV, 1,
        KvProperty::parseInt, KvProperty.range(1, 64), "batch frames of requests in flight to one proxy; requests"
            + " made meanwhile leave together in the next frame");
    static final KvProperty<String> P_METRICS = add(METRICS, Group.OPERATIONS, "jmx", v -> v.trim().toLowerCase(Locale.ROOT),
        v -> List.of("jmx", "jmx-eager", "prometheus", "none").contains(v) ? null
            : "must be " + MetricsExport.Kind.NAMES + ", got '" + v + "'",
        "where the store's meters go (docs/reliability.md): jmx (the platform MBean server once the JVM has one),"
            + " jmx-eager (creates it at open), prometheus (an endpoint on loopback) or none");
    static final KvProperty<Integer> P_METRICS_PORT = add(METRICS_PORT, Group.OPERATIONS, 0, KvProperty::parseInt,
        KvProperty.range(0, 65_535), "the loopback port of the Prometheus endpoint (dmkv.metrics=prometheus); 0: any"
            + " free port, logged");

    static final KvProperty<String> P_SECRET_FILE = add(SECRET_FILE, Group.SECURITY, "", String::trim,
        KvConfig::checkSecretFile, "file holding the cluster secret (at least 16 bytes): the client proves it to every"
            + " memory node, requires them to prove it back, and authenticates to the coordinator with it; empty: none"
            + " (such a client reaches only nodes without a secret)");
    static final KvProperty<String> P_TLS_CERT = add(TLS_CERT, Group.SECURITY, "", String::trim, KvConfig::checkFile,
        "PEM certificate this client presents over TLS (nodes started with --tls-ca require one); with " + TLS_KEY);
    static final KvProperty<String> P_TLS_KEY = add(TLS_KEY, Group.SECURITY, "", String::trim, KvConfig::checkFile,
        "PEM PKCS#8 private key of " + TLS_CERT);
    static final KvProperty<String> P_TLS_CA = add(TLS_CA, Group.SECURITY, "", String::trim, KvConfig::checkFile,
        "PEM certificate of the CA that signed the memory nodes' certificates: set, the client talks TLS (tcp, and"
            + " the control channel of local and rdma) and checks each node's certificate and host name");

    private final Object[] values;

    private static <T> KvProperty<T> add(final String name, final Group group, final T defaultValue,
        final Function<String, T> parser, final Check<T> check, final String meaning)
    {
        final KvProperty<T> p = new KvProperty<>(TABLE.size(), name, group, defaultValue, parser,
            KvProperty.notNull(check), meaning);
        TABLE.add(p);
        return p;
    }

    private static String checkFile(final String path)
    {
        return path.isEmpty() || Files.isReadable(Path.of(path)) ? null
            : "names " + path + ", which does not exist or cannot be read";
    }

    private static String checkSecretFile(final String path)
    {
        if (path.isEmpty())
        {
            return null;
        }
        try
        {
            ClusterSecret.fromFile(Path.of(path));
            return null;
        }
        catch (final IllegalArgumentException e)
        {
            return "is unusable: " + e.getMessage();
        }
    }

    private static String checkMemnodes(final List<String> nodes)
    {
        if (nodes.isEmpty())
        {
            return "is required: a comma-separated list of memory nodes (HOST:PORT, or mem:NAME in-JVM)";
        }
        for (final String m : nodes)
        {
            if (m == null || m.isBlank())
            {
                return "has an empty entry: " + nodes;
            }
            final String problem = Endpoints.problem(m);
            if (problem != null)
            {
                return "has " + problem;
            }
        }
        return null;
    }

    private KvConfig(final Builder b)
    {
        values = b.values.clone();
        final boolean coordinated = !get(P_COORDINATOR).isEmpty();
        if (coordinated && values[P_MEMNODES.index()] != null && !((List<?>)values[P_MEMNODES.index()]).isEmpty())
        {
            throw new KvConfigException("give either " + MEMNODES + " (a static cluster) or " + COORDINATOR
                + " (the memory nodes come from the coordinator), not both");
        }
        for (final KvProperty<?> p : TABLE)
        {
            if (values[p.index()] == null && p == P_MEMNODES && !coordinated)
            {
                throw new KvConfigException(MEMNODES + " is required: a comma-separated list of memory nodes"
                    + " (HOST:PORT, or mem:NAME in-JVM), or " + COORDINATOR + " to find them through a coordinator");
            }
            if (p != P_MEMNODES || !coordinated)
            {
                checkOne(p);
            }
        }
        if (get(P_MAP_LEASE).compareTo(get(P_SESSION_TIMEOUT)) >= 0)
        {
            throw new KvConfigException(MAP_LEASE + " (" + get(P_MAP_LEASE) + ") must be below " + SESSION_TIMEOUT
                + " (" + get(P_SESSION_TIMEOUT) + "): a client cut off from the coordinator must stop using its map"
                + " before the cluster can move on without it");
        }
        final int nodes = memnodes().size();
        if (!coordinated && replication() > nodes)
        {
            throw new KvConfigException(REPLICATION + " is " + replication() + " but only " + nodes
                + " memory node(s) are configured");
        }
        if (initialDepth() > maxDepth())
        {
            throw new KvConfigException(INITIAL_DEPTH + " must be in 0.." + maxDepth() + " (" + MAX_DEPTH + "), got "
                + initialDepth());
        }
        if (clientId() > maxClients())
        {
            throw new KvConfigException(CLIENT_ID + " must be in 0.." + maxClients() + " (" + MAX_CLIENTS + "), got "
                + clientId());
        }
        belowTimeout(P_INSERT_LOCK_LEASE);
        belowTimeout(P_SNAPSHOT_HELP_DELAY);
        if (proxyCacheLeaseMargin().compareTo(proxyCacheLease()) >= 0)
        {
            throw new KvConfigException(PROXY_CACHE_LEASE_MARGIN + " (" + proxyCacheLeaseMargin() + ") must be below "
                + PROXY_CACHE_LEASE + " (" + proxyCacheLease() + "): a cacher ends its lease that much early");
        }
        if (proxyCacheLease().compareTo(get(P_SESSION_TIMEOUT).minus(get(P_MAP_LEASE))) >= 0)
        {
            throw new KvConfigException(PROXY_CACHE_LEASE + " (" + proxyCacheLease() + ") must be below "
                + SESSION_TIMEOUT + " (" + get(P_SESSION_TIMEOUT) + ") less " + MAP_LEASE + " (" + get(P_MAP_LEASE)
                + "): a proxy cut off from the coordinator stops leasing up to a map lease before its session"
                + " expires, and its partitions may go one-sided then, when every lease it granted must have ended");
        }
        if ("flexkv".equals(mode()) && !coordinated)
        {
            throw new KvConfigException(MODE + "=flexkv needs " + COORDINATOR + ": the partition map and the proxies'"
                + " membership live in the coordinator (a static cluster is FUSEE mode only)");
        }
        if (get(P_TLS_CERT).isEmpty() != get(P_TLS_KEY).isEmpty())
        {
            throw new KvConfigException(TLS_CERT + " and " + TLS_KEY + " go together: give both or neither");
        }
        if (!get(P_TLS_CERT).isEmpty() && get(P_TLS_CA).isEmpty())
        {
            throw new KvConfigException(TLS_CERT + " is set but " + TLS_CA + " is not: TLS needs the CA certificate the"
                + " memory nodes' certificates are checked with");
        }
        if (proxyEnabled() && !get(P_TLS_CA).isEmpty() && get(P_TLS_CERT).isEmpty())
        {
            throw new KvConfigException(PROXY_ENABLED + " with TLS (" + TLS_CA + ") needs " + TLS_CERT + " and " + TLS_KEY
                + ": the proxy port serves TLS with them");
        }
    }

    @SuppressWarnings("unchecked")
    private <T> void checkOne(final KvProperty<T> p)
    {
        p.check((T)values[p.index()]);
    }

    private void belowTimeout(final KvProperty<Duration> p)
    {
        if (get(p).compareTo(opTimeout()) >= 0)
        {
            throw new KvConfigException(p.name() + " (" + get(p) + ") must be below " + OP_TIMEOUT + " ("
                + opTimeout() + ")");
        }
    }

    /** The configuration table: every {@code dmkv.*} property, in the reference's order. */
    public static List<KvProperty<?>> properties()
    {
        return List.copyOf(TABLE);
    }

    /** The value of {@code p} in this config. */
    @SuppressWarnings("unchecked")
    public <T> T get(final KvProperty<T> p)
    {
        return (T)values[p.index()];
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /** A builder preset with this config's values. */
    public Builder toBuilder()
    {
        final Builder b = new Builder();
        System.arraycopy(values, 0, b.values, 0, values.length);
        return b;
    }

    /**
     * This config as {@code dmkv.*} properties, which {@link #fromProperties} reads back into an
     * equal config (for handing a config to another process).
     */
    @SuppressWarnings("unchecked")
    public Properties toProperties()
    {
        final Properties p = new Properties();
        for (final KvProperty<?> k : TABLE)
        {
            final Object v = values[k.index()];
            if (v == null || v instanceof List<?> l && l.isEmpty())
            {
                continue;
            }
            p.setProperty(k.name(), v instanceof List<?> ? String.join(",", (List<String>)v) : String.valueOf(v));
        }
        return p;
    }

    /** Reads a properties file; see {@link #properties()}. */
    public static KvConfig fromFile(final Path file)
    {
        final Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file))
        {
            p.load(in);
        }
        catch (final IOException e)
        {
            throw new KvConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        return fromProperties(p);
    }

    /**
     * Reads {@code dmkv.*} properties; other keys are ignored, unknown {@code dmkv.*} keys are an
     * error (so a typo does not silently fall back to a default).
     */
    public static KvConfig fromProperties(final Properties p)
    {
        final Map<String, KvProperty<?>> byName = new LinkedHashMap<>();
        TABLE.forEach(t -> byName.put(t.name(), t));
        final Builder b = builder();
        for (final String key : p.stringPropertyNames())
        {
            if (!key.startsWith("dmkv."))
            {
                continue;
            }
            final KvProperty<?> property = byName.get(key);
            if (property == null)
            {
                throw new KvConfigException("unknown property " + key + "; known: " + byName.keySet());
            }
            b.parse(property, p.getProperty(key));
        }
        return b.build();
    }

    /** The static list of memory nodes; empty for a coordinated client. */
    public List<String> memnodes()
    {
        final List<String> m = get(P_MEMNODES);
        return m == null ? List.of() : m;
    }

    public String transport()
    {
        return get(P_TRANSPORT);
    }

    public int replication()
    {
        return get(P_REPLICATION);
    }

    public Duration opTimeout()
    {
        return get(P_OP_TIMEOUT);
    }

    public Duration requestTimeout()
    {
        return get(P_REQUEST_TIMEOUT);
    }

    public Duration connectTimeout()
    {
        return get(P_CONNECT_TIMEOUT);
    }

    public int maxInFlight()
    {
        return get(P_MAX_IN_FLIGHT);
    }

    public int asyncThreads()
    {
        return get(P_ASYNC_THREADS);
    }

    /** How long an insert lock may sit unchanged before a waiting inserter takes it over. */
    public Duration insertLockLease()
    {
        return get(P_INSERT_LOCK_LEASE);
    }

    /** How long a SNAPSHOT loser waits for the winner's primary CAS before completing it. */
    public Duration snapshotHelpDelay()
    {
        return get(P_SNAPSHOT_HELP_DELAY);
    }

    public Duration recoveryGrace()
    {
        return get(P_RECOVERY_GRACE);
    }

    public Duration heartbeatPeriod()
    {
        return get(P_HEARTBEAT_PERIOD);
    }

    /** Fewest live replicas every region must keep for writes to go on (coordinated mode). */
    public int minLiveReplicas()
    {
        return get(P_MIN_LIVE_REPLICAS);
    }

    public Duration recoveryCheckPeriod()
    {
        return get(P_RECOVERY_CHECK_PERIOD);
    }

    public int cacheEntries()
    {
        return get(P_CACHE_ENTRIES);
    }

    public double cacheBypassMissRate()
    {
        return get(P_CACHE_BYPASS);
    }

    public int blockSize()
    {
        return get(P_BLOCK_SIZE).intValue();
    }

    public Duration reclaimPeriod()
    {
        return get(P_RECLAIM_PERIOD);
    }

    public int bucketGroups()
    {
        return get(P_BUCKET_GROUPS);
    }

    public int initialDepth()
    {
        return get(P_INITIAL_DEPTH);
    }

    public int maxDepth()
    {
        return get(P_MAX_DEPTH);
    }

    public long indexAreaBytes()
    {
        return get(P_INDEX_AREA);
    }

    public int maxClients()
    {
        return get(P_MAX_CLIENTS);
    }

    /** ZooKeeper's connect string, or empty for a static cluster on {@link #memnodes()}. */
    public String coordinator()
    {
        return get(P_COORDINATOR);
    }

    /** True when the memory nodes come from a coordinator. */
    public boolean coordinated()
    {
        return !get(P_COORDINATOR).isEmpty();
    }

    /** The cluster's name in the coordinator. */
    public String cluster()
    {
        return get(P_CLUSTER);
    }

    public Duration sessionTimeout()
    {
        return get(P_SESSION_TIMEOUT);
    }

    public Duration coordinatorConnectTimeout()
    {
        return get(P_COORDINATOR_CONNECT_TIMEOUT);
    }

    /** Where the store's meters go: jmx, jmx-eager, prometheus or none. */
    public String metrics()
    {
        return get(P_METRICS);
    }

    /** The Prometheus endpoint's loopback port (0: any free one). */
    public int metricsPort()
    {
        return get(P_METRICS_PORT);
    }

    /** How long a cluster map may be used after the coordinator last confirmed it. */
    public Duration mapLease()
    {
        return get(P_MAP_LEASE);
    }

    /** The index mode asked for: fusee, flexkv, or empty (the cluster's). */
    public String mode()
    {
        return get(P_MODE);
    }

    /** FlexKV partitions when creating a flexkv cluster. */
    public int partitions()
    {
        return get(P_PARTITIONS);
    }

    public boolean proxyEnabled()
    {
        return get(P_PROXY_ENABLED);
    }

    public String proxyHost()
    {
        return get(P_PROXY_HOST);
    }

    public int proxyPort()
    {
        return get(P_PROXY_PORT);
    }

    /** What other compute nodes dial for this proxy. */
    public String proxyAdvertiseHost()
    {
        final String a = get(P_PROXY_ADVERTISE_HOST);
        return a.isEmpty() ? proxyHost() : a;
    }

    /** How long a proxy taking a partition from one-sided mode waits before loading it. */
    public Duration proxyHandoverGrace()
    {
        final Duration d = get(P_PROXY_HANDOVER_GRACE);
        return d.isZero() ? mapLease().plus(opTimeout()) : d;
    }

    /** The hotness period (docs/flexkv.md §7). */
    public Duration proxyPeriod()
    {
        return get(P_PROXY_PERIOD);
    }

    /** Weight of the last period in a partition's smoothed hotness. */
    public double proxyEwma()
    {
        return get(P_PROXY_EWMA);
    }

    /** Max proxy load over mean proxy load above which the manager rebalances. */
    public double proxyImbalanceThreshold()
    {
        return get(P_PROXY_IMBALANCE_THRESHOLD);
    }

    /** How much a rebalance must lower max/mean load to be made. */
    public double proxyHysteresis()
    {
        return get(P_PROXY_HYSTERESIS);
    }

    /** Bytes a proxy keeps for index copies and level-1 values. */
    public long proxyMemoryBudget()
    {
        return get(P_PROXY_MEMORY_BUDGET);
    }

    /** Bytes of values cached from other proxies' partitions (0: none). */
    public long proxyCacheBytes()
    {
        return get(P_PROXY_CACHE_BYTES);
    }

    /** The cache lease a proxy grants. */
    public Duration proxyCacheLease()
    {
        return get(P_PROXY_CACHE_LEASE);
    }

    /** How much earlier than the proxy a cacher ends a lease. */
    public Duration proxyCacheLeaseMargin()
    {
        return get(P_PROXY_CACHE_LEASE_MARGIN);
    }

    /** Keys a proxy's coherence directory tracks at most. */
    public int proxyDirectoryEntries()
    {
        return get(P_PROXY_DIRECTORY_ENTRIES);
    }

    /** Writes of a key within one cache lease that stop its leases (0: never). */
    public int proxyWriteHotWrites()
    {
        return get(P_PROXY_WRITE_HOT_WRITES);
    }

    /** Leased lookups per write that keep a frequently written key leased. */
    public int proxyWriteHotLookups()
    {
        return get(P_PROXY_WRITE_HOT_LOOKUPS);
    }

    /** Batch frames in flight to one proxy. */
    public int proxyFramesInFlight()
    {
        return get(P_PROXY_FRAMES_IN_FLIGHT);
    }

    /** The file holding the cluster secret, or empty for none. */
    public String secretFile()
    {
        return get(P_SECRET_FILE);
    }

    /** The client's TLS certificate file, or empty. */
    public String tlsCert()
    {
        return get(P_TLS_CERT);
    }

    /** The key of {@link #tlsCert()}, or empty. */
    public String tlsKey()
    {
        return get(P_TLS_KEY);
    }

    /** The CA certificate file memory nodes are checked with; empty: no TLS. */
    public String tlsCa()
    {
        return get(P_TLS_CA);
    }

    /** The configured client id, or 0 to take one from the memory nodes. */
    public int clientId()
    {
        return get(P_CLIENT_ID);
    }

    @Override
    public String toString()
    {
        final StringBuilder s = new StringBuilder("KvConfig{");
        for (final KvProperty<?> p : TABLE)
        {
            if (!java.util.Objects.equals(values[p.index()], p.defaultValue()) || p == P_MEMNODES)
            {
                s.append(s.length() > 9 ? ", " : "").append(p.name()).append('=').append(values[p.index()]);
            }
        }
        return s.append('}').toString();
    }

    /** Builder with defaults; {@link #build()} validates. */
    public static final class Builder
    {
        private final Object[] values = new Object[TABLE.size()];

        private Builder()
        {
            for (final KvProperty<?> p : TABLE)
            {
                values[p.index()] = p.defaultValue();
            }
        }

        /** Sets any property of the table. */
        public <T> Builder set(final KvProperty<T> p, final T value)
        {
            values[p.index()] = value;
            return this;
        }

        /** Sets a property from its text form, as a properties file gives it. */
        public Builder parse(final KvProperty<?> p, final String text)
        {
            values[p.index()] = p.parse(text == null ? "" : text);
            return this;
        }

        public Builder memnodes(final List<String> v)
        {
            // Not List.copyOf: a null entry must reach the check and be reported by name.
            return set(P_MEMNODES, v == null ? null : java.util.Collections.unmodifiableList(new ArrayList<>(v)));
        }

        public Builder memnodes(final String... v)
        {
            return memnodes(Arrays.asList(v));
        }

        public Builder transport(final String v)
        {
            return set(P_TRANSPORT, v == null ? "" : v.trim().toLowerCase(Locale.ROOT));
        }

        public Builder replication(final int v)
        {
            return set(P_REPLICATION, v);
        }

        /** jmx, jmx-eager, prometheus or none ({@value KvConfig#METRICS}). */
        public Builder metrics(final String v)
        {
            return set(P_METRICS, v == null ? "" : v.trim().toLowerCase(Locale.ROOT));
        }

        public Builder metricsPort(final int v)
        {
            return set(P_METRICS_PORT, v);
        }

        public Builder opTimeout(final Duration v)
        {
            return set(P_OP_TIMEOUT, v);
        }

        public Builder requestTimeout(final Duration v)
        {
            return set(P_REQUEST_TIMEOUT, v);
        }

        public Builder connectTimeout(final Duration v)
        {
            return set(P_CONNECT_TIMEOUT, v);
        }

        public Builder maxInFlight(final int v)
        {
            return set(P_MAX_IN_FLIGHT, v);
        }

        public Builder asyncThreads(final int v)
        {
            return set(P_ASYNC_THREADS, v);
        }

        public Builder insertLockLease(final Duration v)
        {
            return set(P_INSERT_LOCK_LEASE, v);
        }

        public Builder snapshotHelpDelay(final Duration v)
        {
            return set(P_SNAPSHOT_HELP_DELAY, v);
        }

        public Builder recoveryGrace(final Duration v)
        {
            return set(P_RECOVERY_GRACE, v);
        }

        public Builder heartbeatPeriod(final Duration v)
        {
            return set(P_HEARTBEAT_PERIOD, v);
        }

        public Builder minLiveReplicas(final int v)
        {
            return set(P_MIN_LIVE_REPLICAS, v);
        }

        public Builder recoveryCheckPeriod(final Duration v)
        {
            return set(P_RECOVERY_CHECK_PERIOD, v);
        }

        public Builder cacheEntries(final int v)
        {
            return set(P_CACHE_ENTRIES, v);
        }

        public Builder cacheBypassMissRate(final double v)
        {
            return set(P_CACHE_BYPASS, v);
        }

        public Builder blockSize(final int v)
        {
            return set(P_BLOCK_SIZE, (long)v);
        }

        public Builder reclaimPeriod(final Duration v)
        {
            return set(P_RECLAIM_PERIOD, v);
        }

        public Builder bucketGroups(final int v)
        {
            return set(P_BUCKET_GROUPS, v);
        }

        public Builder initialDepth(final int v)
        {
            return set(P_INITIAL_DEPTH, v);
        }

        public Builder maxDepth(final int v)
        {
            return set(P_MAX_DEPTH, v);
        }

        public Builder indexAreaBytes(final long v)
        {
            return set(P_INDEX_AREA, v);
        }

        public Builder maxClients(final int v)
        {
            return set(P_MAX_CLIENTS, v);
        }

        public Builder clientId(final int v)
        {
            return set(P_CLIENT_ID, v);
        }

        /** Finds the memory nodes through ZooKeeper at {@code connect} instead of a static list. */
        public Builder coordinator(final String connect)
        {
            return set(P_COORDINATOR, connect == null ? "" : connect.trim());
        }

        public Builder cluster(final String name)
        {
            return set(P_CLUSTER, name);
        }

        public Builder sessionTimeout(final Duration v)
        {
            return set(P_SESSION_TIMEOUT, v);
        }

        public Builder mapLease(final Duration v)
        {
            return set(P_MAP_LEASE, v);
        }

        /** The index mode: fusee or flexkv (fixed when the cluster is created). */
        public Builder mode(final String v)
        {
            return set(P_MODE, v == null ? "" : v.trim().toLowerCase(Locale.ROOT));
        }

        public Builder partitions(final int v)
        {
            return set(P_PARTITIONS, v);
        }

        public Builder proxyEnabled(final boolean v)
        {
            return set(P_PROXY_ENABLED, v);
        }

        public Builder proxyHandoverGrace(final Duration v)
        {
            return set(P_PROXY_HANDOVER_GRACE, v);
        }

        public Builder proxyPeriod(final Duration v)
        {
            return set(P_PROXY_PERIOD, v);
        }

        public Builder proxyMemoryBudget(final long bytes)
        {
            return set(P_PROXY_MEMORY_BUDGET, bytes);
        }

        public Builder proxyCacheBytes(final long v)
        {
            return set(P_PROXY_CACHE_BYTES, v);
        }

        public Builder proxyCacheLease(final Duration v)
        {
            return set(P_PROXY_CACHE_LEASE, v);
        }

        /** Writes of a key within one cache lease that stop its leases (0: lease every key). */
        public Builder proxyWriteHotWrites(final int v)
        {
            return set(P_PROXY_WRITE_HOT_WRITES, v);
        }

        /** Leased lookups per write at which a frequently written key stays leased. */
        public Builder proxyWriteHotLookups(final int v)
        {
            return set(P_PROXY_WRITE_HOT_LOOKUPS, v);
        }

        /** The file holding the cluster secret (null or empty: none). */
        public Builder secretFile(final String path)
        {
            return set(P_SECRET_FILE, path == null ? "" : path.trim());
        }

        /**
         * TLS to the memory nodes: {@code ca} checks their certificates; {@code cert} and {@code key}
         * (both or neither) are this client's own. Null or empty leaves a field unset.
         */
        public Builder tls(final String cert, final String key, final String ca)
        {
            set(P_TLS_CERT, cert == null ? "" : cert.trim());
            set(P_TLS_KEY, key == null ? "" : key.trim());
            return set(P_TLS_CA, ca == null ? "" : ca.trim());
        }

        public KvConfig build()
        {
            return new KvConfig(this);
        }
    }
}
