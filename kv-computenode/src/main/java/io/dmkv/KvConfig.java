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

import io.dmkv.core.config.Durations;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;

/**
 * Everything a {@link KvStore} needs, with defaults. Build it in code ({@link #builder()}) or
 * from properties ({@link #fromProperties}); every field is checked when built, and a bad one is
 * reported by its property name with the accepted values.
 *
 * <p>The cluster layout fields (block size, index shape, max clients) only matter to the client
 * that bootstraps an empty cluster; clients that join take the cluster's stored layout. The
 * replication factor must match the cluster's.
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

    private final List<String> memnodes;
    private final String transport;
    private final int replication;
    private final Duration opTimeout;
    private final Duration requestTimeout;
    private final Duration connectTimeout;
    private final int maxInFlight;
    private final int asyncThreads;
    private final int cacheEntries;
    private final double cacheBypassMissRate;
    private final int blockSize;
    private final Duration reclaimPeriod;
    private final int bucketGroups;
    private final int initialDepth;
    private final int maxDepth;
    private final long indexAreaBytes;
    private final int maxClients;
    private final int clientId;

    private KvConfig(final Builder b)
    {
        if (b.memnodes == null || b.memnodes.isEmpty())
        {
            throw bad(MEMNODES, "is required: a comma-separated list of memory nodes (HOST:PORT, or mem:NAME in-JVM)");
        }
        for (final String m : b.memnodes)
        {
            if (m == null || m.isBlank())
            {
                throw bad(MEMNODES, "has an empty entry: " + b.memnodes);
            }
        }
        final String t = b.transport == null ? "" : b.transport.trim().toLowerCase(Locale.ROOT);
        if (!List.of("local", "tcp", "rdma").contains(t))
        {
            throw bad(TRANSPORT, "must be local, tcp or rdma, got '" + b.transport + "'");
        }
        final int nodes = b.memnodes.size();
        if (b.replication < 1 || b.replication > 5)
        {
            throw bad(REPLICATION, "must be in 1..5, got " + b.replication);
        }
        if (b.replication > nodes)
        {
            throw bad(REPLICATION, "is " + b.replication + " but only " + nodes + " memory node(s) are configured");
        }
        positive(OP_TIMEOUT, b.opTimeout);
        positive(REQUEST_TIMEOUT, b.requestTimeout);
        positive(CONNECT_TIMEOUT, b.connectTimeout);
        range(MAX_IN_FLIGHT, b.maxInFlight, 1, 65_536);
        range(ASYNC_THREADS, b.asyncThreads, 1, 1024);
        range(CACHE_ENTRIES, b.cacheEntries, 0, 1 << 26);
        if (b.cacheBypassMissRate < 0 || b.cacheBypassMissRate > 1)
        {
            throw bad(CACHE_BYPASS, "must be in 0..1, got " + b.cacheBypassMissRate);
        }
        if (b.blockSize < BlockHeader.MIN_BLOCK_SIZE || b.blockSize > BlockHeader.MAX_BLOCK_SIZE
            || Integer.bitCount(b.blockSize) != 1)
        {
            throw bad(BLOCK_SIZE, "must be a power of two in 4K..64M, got " + b.blockSize);
        }
        positive(RECLAIM_PERIOD, b.reclaimPeriod);
        range(BUCKET_GROUPS, b.bucketGroups, Subtable.MIN_BUCKET_GROUPS, Subtable.MAX_BUCKET_GROUPS);
        range(MAX_DEPTH, b.maxDepth, 0, Slot.SUFFIX_BITS);
        range(INITIAL_DEPTH, b.initialDepth, 0, b.maxDepth);
        if (b.indexAreaBytes < 0 || b.indexAreaBytes > (1L << 30))
        {
            throw bad(INDEX_AREA, "must be in 0..1G (0: a quarter of the first region), got " + b.indexAreaBytes);
        }
        range(MAX_CLIENTS, b.maxClients, 1, 65_535);
        range(CLIENT_ID, b.clientId, 0, b.maxClients);
        this.memnodes = List.copyOf(b.memnodes);
        this.transport = t;
        this.replication = b.replication;
        this.opTimeout = b.opTimeout;
        this.requestTimeout = b.requestTimeout;
        this.connectTimeout = b.connectTimeout;
        this.maxInFlight = b.maxInFlight;
        this.asyncThreads = b.asyncThreads;
        this.cacheEntries = b.cacheEntries;
        this.cacheBypassMissRate = b.cacheBypassMissRate;
        this.blockSize = b.blockSize;
        this.reclaimPeriod = b.reclaimPeriod;
        this.bucketGroups = b.bucketGroups;
        this.initialDepth = b.initialDepth;
        this.maxDepth = b.maxDepth;
        this.indexAreaBytes = b.indexAreaBytes;
        this.maxClients = b.maxClients;
        this.clientId = b.clientId;
    }

    private static KvConfigException bad(final String field, final String why)
    {
        return new KvConfigException(field + " " + why);
    }

    private static void positive(final String field, final Duration d)
    {
        if (d == null || d.isNegative() || d.isZero())
        {
            throw bad(field, "must be a positive duration (e.g. 500ms, 10s), got " + d);
        }
    }

    private static void range(final String field, final long v, final long min, final long max)
    {
        if (v < min || v > max)
        {
            throw bad(field, "must be in " + min + ".." + max + ", got " + v);
        }
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /** A builder preset with this config's values. */
    public Builder toBuilder()
    {
        final Builder b = new Builder();
        b.memnodes = new ArrayList<>(memnodes);
        b.transport = transport;
        b.replication = replication;
        b.opTimeout = opTimeout;
        b.requestTimeout = requestTimeout;
        b.connectTimeout = connectTimeout;
        b.maxInFlight = maxInFlight;
        b.asyncThreads = asyncThreads;
        b.cacheEntries = cacheEntries;
        b.cacheBypassMissRate = cacheBypassMissRate;
        b.blockSize = blockSize;
        b.reclaimPeriod = reclaimPeriod;
        b.bucketGroups = bucketGroups;
        b.initialDepth = initialDepth;
        b.maxDepth = maxDepth;
        b.indexAreaBytes = indexAreaBytes;
        b.maxClients = maxClients;
        b.clientId = clientId;
        return b;
    }

    /** Reads a properties file; see the property names above. */
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
        final Builder b = builder();
        final Map<String, Function<String, Builder>> setters = new LinkedHashMap<>();
        setters.put(MEMNODES, v -> b.memnodes(Arrays.stream(v.split(",")).map(String::trim).toList()));
        setters.put(TRANSPORT, b::transport);
        setters.put(REPLICATION, v -> b.replication(integer(REPLICATION, v)));
        setters.put(OP_TIMEOUT, v -> b.opTimeout(duration(OP_TIMEOUT, v)));
        setters.put(REQUEST_TIMEOUT, v -> b.requestTimeout(duration(REQUEST_TIMEOUT, v)));
        setters.put(CONNECT_TIMEOUT, v -> b.connectTimeout(duration(CONNECT_TIMEOUT, v)));
        setters.put(MAX_IN_FLIGHT, v -> b.maxInFlight(integer(MAX_IN_FLIGHT, v)));
        setters.put(ASYNC_THREADS, v -> b.asyncThreads(integer(ASYNC_THREADS, v)));
        setters.put(CACHE_ENTRIES, v -> b.cacheEntries(integer(CACHE_ENTRIES, v)));
        setters.put(CACHE_BYPASS, v -> b.cacheBypassMissRate(decimal(CACHE_BYPASS, v)));
        setters.put(BLOCK_SIZE, v -> b.blockSize((int)Math.min(Integer.MAX_VALUE, size(BLOCK_SIZE, v))));
        setters.put(RECLAIM_PERIOD, v -> b.reclaimPeriod(duration(RECLAIM_PERIOD, v)));
        setters.put(BUCKET_GROUPS, v -> b.bucketGroups(integer(BUCKET_GROUPS, v)));
        setters.put(INITIAL_DEPTH, v -> b.initialDepth(integer(INITIAL_DEPTH, v)));
        setters.put(MAX_DEPTH, v -> b.maxDepth(integer(MAX_DEPTH, v)));
        setters.put(INDEX_AREA, v -> b.indexAreaBytes(size(INDEX_AREA, v)));
        setters.put(MAX_CLIENTS, v -> b.maxClients(integer(MAX_CLIENTS, v)));
        setters.put(CLIENT_ID, v -> b.clientId(integer(CLIENT_ID, v)));
        for (final String key : p.stringPropertyNames())
        {
            if (!key.startsWith("dmkv."))
            {
                continue;
            }
            final Function<String, Builder> setter = setters.get(key);
            if (setter == null)
            {
                throw new KvConfigException("unknown property " + key + "; known: " + setters.keySet());
            }
            setter.apply(p.getProperty(key).trim());
        }
        return b.build();
    }

    private static int integer(final String field, final String v)
    {
        try
        {
            return Integer.parseInt(v);
        }
        catch (final NumberFormatException e)
        {
            throw bad(field, "must be a whole number, got '" + v + "'");
        }
    }

    private static double decimal(final String field, final String v)
    {
        try
        {
            return Double.parseDouble(v);
        }
        catch (final NumberFormatException e)
        {
            throw bad(field, "must be a number, got '" + v + "'");
        }
    }

    private static Duration duration(final String field, final String v)
    {
        try
        {
            return Durations.parse(v);
        }
        catch (final IllegalArgumentException e)
        {
            throw bad(field, e.getMessage());
        }
    }

    private static long size(final String field, final String v)
    {
        try
        {
            return Sizes.parse(v);
        }
        catch (final IllegalArgumentException e)
        {
            throw bad(field, e.getMessage());
        }
    }

    public List<String> memnodes()
    {
        return memnodes;
    }

    public String transport()
    {
        return transport;
    }

    public int replication()
    {
        return replication;
    }

    public Duration opTimeout()
    {
        return opTimeout;
    }

    public Duration requestTimeout()
    {
        return requestTimeout;
    }

    public Duration connectTimeout()
    {
        return connectTimeout;
    }

    public int maxInFlight()
    {
        return maxInFlight;
    }

    public int asyncThreads()
    {
        return asyncThreads;
    }

    public int cacheEntries()
    {
        return cacheEntries;
    }

    public double cacheBypassMissRate()
    {
        return cacheBypassMissRate;
    }

    public int blockSize()
    {
        return blockSize;
    }

    public Duration reclaimPeriod()
    {
        return reclaimPeriod;
    }

    public int bucketGroups()
    {
        return bucketGroups;
    }

    public int initialDepth()
    {
        return initialDepth;
    }

    public int maxDepth()
    {
        return maxDepth;
    }

    public long indexAreaBytes()
    {
        return indexAreaBytes;
    }

    public int maxClients()
    {
        return maxClients;
    }

    /** The configured client id, or 0 to take one from the memory nodes. */
    public int clientId()
    {
        return clientId;
    }

    @Override
    public String toString()
    {
        return "KvConfig{memnodes=" + memnodes + ", transport=" + transport + ", r=" + replication + ", timeout="
            + opTimeout + ", cache=" + cacheEntries + ", blockSize=" + blockSize + "}";
    }

    /** Builder with defaults; {@link #build()} validates. */
    public static final class Builder
    {
        private List<String> memnodes;
        private String transport = "tcp";
        private int replication = 1;
        private Duration opTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private int maxInFlight = 256;
        private int asyncThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int cacheEntries = 1 << 16;
        private double cacheBypassMissRate = 0.1;
        private int blockSize = BlockHeader.DEFAULT_BLOCK_SIZE;
        private Duration reclaimPeriod = Duration.ofMillis(200);
        private int bucketGroups = Subtable.DEFAULT_BUCKET_GROUPS;
        private int initialDepth = IndexRoot.DEFAULT_INITIAL_GLOBAL_DEPTH;
        private int maxDepth = Slot.SUFFIX_BITS;
        private long indexAreaBytes;
        private int maxClients = ClientLogHeads.DEFAULT_MAX_CLIENTS;
        private int clientId;

        public Builder memnodes(final List<String> v)
        {
            memnodes = v == null ? null : new ArrayList<>(v);
            return this;
        }

        public Builder memnodes(final String... v)
        {
            return memnodes(Arrays.asList(v));
        }

        public Builder transport(final String v)
        {
            transport = v;
            return this;
        }

        public Builder replication(final int v)
        {
            replication = v;
            return this;
        }

        public Builder opTimeout(final Duration v)
        {
            opTimeout = v;
            return this;
        }

        public Builder requestTimeout(final Duration v)
        {
            requestTimeout = v;
            return this;
        }

        public Builder connectTimeout(final Duration v)
        {
            connectTimeout = v;
            return this;
        }

        public Builder maxInFlight(final int v)
        {
            maxInFlight = v;
            return this;
        }

        public Builder asyncThreads(final int v)
        {
            asyncThreads = v;
            return this;
        }

        public Builder cacheEntries(final int v)
        {
            cacheEntries = v;
            return this;
        }

        public Builder cacheBypassMissRate(final double v)
        {
            cacheBypassMissRate = v;
            return this;
        }

        public Builder blockSize(final int v)
        {
            blockSize = v;
            return this;
        }

        public Builder reclaimPeriod(final Duration v)
        {
            reclaimPeriod = v;
            return this;
        }

        public Builder bucketGroups(final int v)
        {
            bucketGroups = v;
            return this;
        }

        public Builder initialDepth(final int v)
        {
            initialDepth = v;
            return this;
        }

        public Builder maxDepth(final int v)
        {
            maxDepth = v;
            return this;
        }

        public Builder indexAreaBytes(final long v)
        {
            indexAreaBytes = v;
            return this;
        }

        public Builder maxClients(final int v)
        {
            maxClients = v;
            return this;
        }

        public Builder clientId(final int v)
        {
            clientId = v;
            return this;
        }

        public KvConfig build()
        {
            return new KvConfig(this);
        }
    }
}
