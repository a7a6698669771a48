package io.dmkv.bench.jmh;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ThreadCounters;

/**
 * The four operations of the public API — {@code get}, {@code update} (a put of a present key),
 * {@code insert} and {@code delete} — one blocking call per invocation on a store of
 * {@link Store#keys} keys with {@link Store#valueSize}-byte values, next to the same calls on a
 * {@link ConcurrentHashMap} of the same keys and values: the in-JVM ceiling that a
 * disaggregated store pays round trips, replication and copies to remote memory against.
 *
 * <p>{@code r = 1} and {@code r = 3} run dmkv on an embedded cluster of three memory nodes in the
 * benchmark's JVM ({@link Store#transport}, {@code local} by default: no network, so the score is
 * the protocol's own cost); {@code r = 0} runs the map instead. {@code get} and {@code update} pick
 * loaded keys uniformly at random. {@code insert} inserts a fresh key and {@code delete} deletes
 * one inserted just before it; the other half of that pair (the delete after an insert, the
 * insert before a delete) runs in an untimed {@code Level.Invocation} hook, so the store keeps
 * its size. Those hooks cost a few timer reads per invocation, which is noise against dmkv's
 * microseconds but visible against the map's nanoseconds.
 *
 * <p>Beside the ops/s score, {@link OpCosts} reports round trips, verbs and bytes per measured
 * operation as {@code <benchmark>:rttPerOp} etc., from the thread's {@link ThreadCounters}.
 * See docs/benchmarks-kv.md for the command and the numbers.
 *
 * <p>The store lives in its own state, {@link Store}, that the measured methods and the hooks'
 * states all take: JMH gives every consumer of one state class the same instance, whereas a
 * benchmark class injected into another state's hook is a second instance (a second cluster).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsPrepend = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class KvOpsBenchmark
{
    /** Memory nodes of the dmkv runs. */
    static final int NODES = 3;
    /** Memory per node: the keys, garbage awaiting reclaim, and blocks of 16 MiB per size class. */
    static final long NODE_MEMORY = 128L << 20;
    static final long REGION_BYTES = 64L << 20;

    /** The value of a loaded key. */
    @Benchmark
    public byte[] get(final Store store, final KeyPicker picker, final OpCosts costs)
    {
        final int k = picker.next(store.keys);
        costs.begin();
        final byte[] v = store.get(k);
        costs.end();
        return v;
    }

    /** The value of a loaded key, read into the thread's own buffer ({@code KvStore.get(key, destination)}). */
    @Benchmark
    public int getInto(final Store store, final KeyPicker picker, final Destination destination, final OpCosts costs)
    {
        final int k = picker.next(store.keys);
        destination.buffer.clear();
        costs.begin();
        final int length = store.getInto(k, destination.buffer);
        costs.end();
        return length;
    }

    /** Replaces the value of a loaded key (true: it was present). */
    @Benchmark
    public boolean update(final Store store, final KeyPicker picker, final OpCosts costs)
    {
        final int k = picker.next(store.keys);
        costs.begin();
        final boolean updated = store.update(k);
        costs.end();
        return updated;
    }

    /** Inserts a key that is absent (true: inserted); the hook deletes it afterwards, untimed. */
    @Benchmark
    public boolean insert(final Store store, final FreshKey key, final OpCosts costs)
    {
        costs.begin();
        final boolean inserted = store.insert(key.bytes, key.string);
        costs.end();
        return inserted;
    }

    /** Deletes a key the hook inserted just before, untimed (true: it was present). */
    @Benchmark
    public boolean delete(final Store store, final PresentKey key, final OpCosts costs)
    {
        costs.begin();
        key.deleted = store.delete(key.bytes, key.string);
        costs.end();
        return key.deleted;
    }

    /**
     * The store under test (or the map) with its loaded keys, one for all benchmark threads.
     * Benchmark-scoped because JMH 1.37 gives a thread-scoped state injected into another
     * state's hook an instance of its own, not the one the measured method gets.
     */
    @State(Scope.Benchmark)
    public static class Store
    {
        /** Replicas of every object and index slot; 0: no dmkv, the same calls on a ConcurrentHashMap. */
        @Param({"1", "3", "0"})
        public int r;

        /** Transport of the embedded cluster: local (in-JVM memory) or tcp (loopback). */
        @Param({"local"})
        public String transport;

        /** Keys loaded before measuring. */
        @Param({"10000"})
        public int keys;

        /** Bytes per value. */
        @Param({"1024"})
        public int valueSize;

        /** Memory per node (tests lower it: memory nodes zero all of it at start). */
        long nodeMemory = NODE_MEMORY;
        private EmbeddedCluster cluster;
        private KvStore kv;
        private ConcurrentHashMap<String, byte[]> map;
        private byte[][] keyBytes;
        private String[] keyStrings;
        private byte[] value;
        private final AtomicLong freshKeys = new AtomicLong();

        /** Starts the cluster and store (or the map) and loads the keys. */
        @Setup(Level.Trial)
        public void start()
        {
            if (r < 0 || r > NODES)
            {
                throw new IllegalArgumentException("r must be 0 (the map) or 1.." + NODES + ", got " + r);
            }
            value = new byte[valueSize];
            for (int i = 0; i < valueSize; i++)
            {
                value[i] = (byte)(i * 31 + 7);
            }
            keyBytes = new byte[keys][];
            keyStrings = new String[keys];
            for (int i = 0; i < keys; i++)
            {
                keyStrings[i] = String.format(Locale.ROOT, "key:%010d", i);
                keyBytes[i] = keyStrings[i].getBytes(StandardCharsets.UTF_8);
            }
            if (r == 0)
            {
                map = new ConcurrentHashMap<>(keys * 2);
                for (int i = 0; i < keys; i++)
                {
                    map.put(keyStrings[i], value.clone());
                }
                return;
            }
            cluster = EmbeddedCluster.start(NODES, nodeMemory, Math.min(nodeMemory, REGION_BYTES), transport, false);
            kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).transport(cluster.transport())
                .replication(r).build());
            for (int i = 0; i < keys; i++)
            {
                if (!kv.insert(keyBytes[i], value))
                {
                    throw new IllegalStateException("key " + keyStrings[i] + " was already present in a new cluster");
                }
            }
        }

        /** Closes the store and stops the cluster. */
        @TearDown(Level.Trial)
        public void stop()
        {
            if (kv != null)
            {
                kv.close();
                kv = null;
            }
            if (cluster != null)
            {
                cluster.close();
                cluster = null;
            }
            map = null;
        }

        byte[] get(final int k)
        {
            return kv != null ? kv.get(keyBytes[k]) : map.get(keyStrings[k]);
        }

        int getInto(final int k, final ByteBuffer destination)
        {
            if (kv != null)
            {
                return kv.get(keyBytes[k], destination);
            }
            final byte[] v = map.get(keyStrings[k]);
            destination.put(v);
            return v.length;
        }

        boolean update(final int k)
        {
            return kv != null ? kv.update(keyBytes[k], value) : map.replace(keyStrings[k], value) != null;
        }

        boolean insert(final byte[] key, final String keyString)
        {
            return kv != null ? kv.insert(key, value) : map.putIfAbsent(keyString, value) == null;
        }

        boolean delete(final byte[] key, final String keyString)
        {
            return kv != null ? kv.delete(key) : map.remove(keyString) != null;
        }

        String freshKey()
        {
            return String.format(Locale.ROOT, "new:%012d", freshKeys.getAndIncrement());
        }

        byte[] value()
        {
            return value;
        }

        KvStore store()
        {
            return kv;
        }

        ConcurrentHashMap<String, byte[]> map()
        {
            return map;
        }
    }

    /** A thread's buffer for {@link #getInto}: one value's worth, reused. */
    @State(Scope.Thread)
    public static class Destination
    {
        final ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
    }

    /** A thread's uniformly random choice of loaded keys (xorshift; no allocation, nothing shared). */
    @State(Scope.Thread)
    public static class KeyPicker
    {
        private long random = 0x9E3779B97F4A7C15L;

        /** Seeds each thread differently. */
        @Setup(Level.Trial)
        public void seed()
        {
            random ^= Thread.currentThread().getId() * 0xC2B2AE3D27D4EB4FL;
        }

        int next(final int keys)
        {
            long x = random;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            random = x;
            return (int)Math.floorMod(x, (long)keys);
        }
    }

    /** A fresh key for {@link #insert}: absent before the call, deleted after it (untimed). */
    @State(Scope.Thread)
    public static class FreshKey
    {
        byte[] bytes;
        String string;
        private Store store;

        /** Picks the next fresh key. */
        @Setup(Level.Invocation)
        public void pick(final Store s)
        {
            store = s;
            string = s.freshKey();
            bytes = string.getBytes(StandardCharsets.UTF_8);
        }

        /** Deletes what the invocation inserted, so the store keeps its size. */
        @TearDown(Level.Invocation)
        public void remove()
        {
            if (!store.delete(bytes, string))
            {
                throw new IllegalStateException("the measured insert of " + string + " did not store it");
            }
        }
    }

    /** A present key for {@link #delete}: inserted (untimed) just before the call, checked gone after it. */
    @State(Scope.Thread)
    public static class PresentKey
    {
        byte[] bytes;
        String string;
        boolean deleted;

        /** Inserts the next fresh key. */
        @Setup(Level.Invocation)
        public void insert(final Store s)
        {
            string = s.freshKey();
            bytes = string.getBytes(StandardCharsets.UTF_8);
            deleted = false;
            if (!s.insert(bytes, string))
            {
                throw new IllegalStateException("fresh key " + string + " was already present");
            }
        }

        /** Fails the run if the measured delete did not find the key it was given. */
        @TearDown(Level.Invocation)
        public void check()
        {
            if (!deleted)
            {
                throw new IllegalStateException("the measured delete of " + string + " found no key");
            }
        }
    }

    /**
     * Round trips, verbs and bytes of the measured calls only (not of the untimed hooks), per
     * call: JMH prints them as {@code <benchmark>:rttPerOp}, {@code :verbsPerOp},
     * {@code :bytesOutPerOp} and {@code :bytesInPerOp}.
     *
     * <p>JMH sums {@code EVENTS} counters over all measurement iterations of all forks, so each
     * iteration reports its own average divided by their number: the printed sum is then the mean
     * of the iterations' averages.
     */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class OpCosts
    {
        private ThreadCounters counters;
        private double share = 1;
        private long ops;
        private long roundTrips;
        private long verbs;
        private long bytesOut;
        private long bytesIn;
        private long rt0;
        private long verbs0;
        private long out0;
        private long in0;

        /** Learns how many measurement iterations JMH will add up. */
        @Setup(Level.Trial)
        public void iterations(final BenchmarkParams params)
        {
            share = share(params);
        }

        /** 1 / the measurement iterations of all forks, which JMH adds up for an {@code EVENTS} counter. */
        static double share(final BenchmarkParams params)
        {
            return 1.0 / Math.max(1, params.getMeasurement().getCount() * Math.max(1, params.getForks()));
        }

        /** Starts counting for this iteration (on the benchmark thread, whose counters these are). */
        @Setup(Level.Iteration)
        public void clear()
        {
            counters = ThreadCounters.current();
            ops = 0;
            roundTrips = 0;
            verbs = 0;
            bytesOut = 0;
            bytesIn = 0;
        }

        void begin()
        {
            rt0 = counters.roundTrips;
            verbs0 = counters.verbs;
            out0 = counters.bytesOut;
            in0 = counters.bytesIn;
        }

        void end()
        {
            ops++;
            roundTrips += counters.roundTrips - rt0;
            verbs += counters.verbs - verbs0;
            bytesOut += counters.bytesOut - out0;
            bytesIn += counters.bytesIn - in0;
        }

        /** Round trips per measured call. */
        public double rttPerOp()
        {
            return perOp(roundTrips);
        }

        /** Verbs per measured call. */
        public double verbsPerOp()
        {
            return perOp(verbs);
        }

        /** Bytes sent (WRITE payloads, atomics' operands) per measured call. */
        public double bytesOutPerOp()
        {
            return perOp(bytesOut);
        }

        /** Bytes received (READ payloads, atomics' old values) per measured call. */
        public double bytesInPerOp()
        {
            return perOp(bytesIn);
        }

        private double perOp(final long total)
        {
            return ops == 0 ? 0 : share * total / ops;
        }
    }
}
