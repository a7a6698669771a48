package io.dmkv.bench.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

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
import io.dmkv.KvStats;
import io.dmkv.KvStore;

/**
 * One application thread keeping a window of {@link Window#window} operations in flight with
 * {@code getAsync} / {@code updateAsync}, next to the same thread making blocking {@code get} /
 * {@code update} calls: how far the async-first client core carries one thread. The store runs
 * on {@link Store#daemons} memory-node daemons in processes of their own ({@link MemnodeDaemons},
 * started in the trial's setup on free loopback ports and stopped in its teardown), over
 * {@code tcp}, with r = {@link Store#r} and {@link Store#valueSize}-byte values on
 * {@link Store#keys} loaded keys picked uniformly at random.
 *
 * <p><b>The window.</b> An async invocation takes a free slot of the window (waiting while all
 * {@code window} slots are taken), starts one operation and returns; the operation's completion
 * checks its result and frees the slot. So at most {@code window} operations are in flight, the
 * thread starts a new one as soon as one ends, and the score (invocations per second) is the
 * rate at which operations start, which equals the rate at which they complete up to the at
 * most {@code window} operations still running when an iteration's time ends. Each iteration's
 * teardown waits for those (the next iteration starts with an empty window) and fails the run if
 * any operation failed, returned a wrong value, or did not complete.
 *
 * <p>{@link Tally} reports, from the public {@link KvStats}, round trips per completed operation
 * ({@code :rttPerOp}, store-wide, background reclaim included) and the most operations the
 * store had in flight at once ({@code :peakInFlight}). See docs/benchmarks-kv.md.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsPrepend = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class KvAsyncBenchmark
{
    /** Memory per daemon: the keys r times over, garbage awaiting reclaim, blocks of 16 MiB per size class. */
    static final long NODE_MEMORY = 128L << 20;
    static final long REGION_BYTES = 64L << 20;
    /** How long the daemons get to start. */
    static final Duration DAEMON_START = Duration.ofSeconds(60);

    /** Blocking: the value of a loaded key. */
    @Benchmark
    public byte[] get(final Store store, final KvOpsBenchmark.KeyPicker picker, final Tally tally)
    {
        return store.kv.get(store.key(picker.next(store.keys)));
    }

    /** Blocking: replaces the value of a loaded key (true: it was present). */
    @Benchmark
    public boolean update(final Store store, final KvOpsBenchmark.KeyPicker picker, final Tally tally)
    {
        return store.kv.update(store.key(picker.next(store.keys)), store.value);
    }

    /** Starts a get of a loaded key once the window has room; its completion checks the value. */
    @Benchmark
    public void getAsync(final Store store, final KvOpsBenchmark.KeyPicker picker, final Window window,
        final Tally tally) throws InterruptedException
    {
        window.take();
        store.kv.getAsync(store.key(picker.next(store.keys))).whenComplete(window.gotValue);
    }

    /** Starts an update of a loaded key once the window has room; its completion checks it found the key. */
    @Benchmark
    public void updateAsync(final Store store, final KvOpsBenchmark.KeyPicker picker, final Window window,
        final Tally tally) throws InterruptedException
    {
        window.take();
        store.kv.updateAsync(store.key(picker.next(store.keys)), store.value).whenComplete(window.updated);
    }

    /** The memory-node daemons and the store with its loaded keys, one for the benchmark. */
    @State(Scope.Benchmark)
    public static class Store
    {
        /** Memory-node daemons to start, each a JVM of its own. */
        @Param({"2"})
        public int daemons;

        /** Transport to the daemons. */
        @Param({"tcp"})
        public String transport;

        /** Replicas of every object and index slot (at most {@link #daemons}). */
        @Param({"2"})
        public int r;

        /** Keys loaded before measuring. */
        @Param({"10000"})
        public int keys;

        /** Bytes per value. */
        @Param({"1024"})
        public int valueSize;

        /** Memory per daemon (tests lower it). */
        long nodeMemory = NODE_MEMORY;
        /** Tests set these to run on memory nodes of their own instead of starting daemons. */
        List<String> endpoints;
        private MemnodeDaemons running;
        private KvStore kv;
        private byte[][] keyBytes;
        private byte[] value;

        /** Starts the daemons, opens the store and loads the keys. */
        @Setup(Level.Trial)
        public void start() throws IOException
        {
            if (r < 1 || r > daemons)
            {
                throw new IllegalArgumentException("r must be in 1.." + daemons + " (the daemons), got " + r);
            }
            value = new byte[valueSize];
            Arrays.fill(value, (byte)'v');
            keyBytes = new byte[keys][];
            for (int i = 0; i < keys; i++)
            {
                keyBytes[i] = String.format(Locale.ROOT, "async:%010d", i).getBytes(StandardCharsets.UTF_8);
            }
            List<String> nodes = endpoints;
            if (nodes == null)
            {
                running = MemnodeDaemons.start(daemons, nodeMemory, Math.min(nodeMemory, REGION_BYTES), DAEMON_START);
                nodes = running.endpoints();
            }
            try
            {
                kv = KvStore.open(KvConfig.builder().memnodes(nodes).transport(transport).replication(r).build());
                for (final byte[] k : keyBytes)
                {
                    if (!kv.insert(k, value))
                    {
                        throw new IllegalStateException("key " + new String(k, StandardCharsets.UTF_8)
                            + " was already present in a new cluster");
                    }
                }
            }
            catch (final RuntimeException e)
            {
                stop();
                throw e;
            }
        }

        /** Closes the store and stops the daemons. */
        @TearDown(Level.Trial)
        public void stop()
        {
            if (kv != null)
            {
                kv.close();
                kv = null;
            }
            if (running != null)
            {
                running.close();
            }
        }

        byte[] key(final int k)
        {
            return keyBytes[k];
        }

        byte[] value()
        {
            return value;
        }

        KvStore store()
        {
            return kv;
        }

        /** The daemons this state started (null when tests gave {@link #endpoints}). */
        MemnodeDaemons daemons()
        {
            return running;
        }
    }

    /**
     * The thread's window of operations in flight: a slot per operation, taken before it starts
     * and freed by its completion, which also checks its result.
     */
    @State(Scope.Thread)
    public static class Window
    {
        /** Operations the thread keeps in flight. */
        @Param({"1", "32"})
        public int window;

        /** Completion of a {@code getAsync}: the value must be the loaded one. */
        BiConsumer<byte[], Throwable> gotValue;
        /** Completion of an {@code updateAsync}: the key must have been found. */
        BiConsumer<Boolean, Throwable> updated;
        private Semaphore free;
        private long waitNs;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        /** Sizes the window and prepares the completions. */
        @Setup(Level.Trial)
        public void open(final Store store)
        {
            if (window < 1)
            {
                throw new IllegalArgumentException("window must be at least 1, got " + window);
            }
            free = new Semaphore(window);
            waitNs = 2 * store.kv.config().opTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
            final byte[] expected = store.value();
            gotValue = (v, e) -> done(e != null ? e : Arrays.equals(v, expected) ? null
                : new IllegalStateException("getAsync of a loaded key returned "
                    + (v == null ? "null" : v.length + " bytes that are not its value")));
            updated = (u, e) -> done(e != null ? e : Boolean.TRUE.equals(u) ? null
                : new IllegalStateException("updateAsync of a loaded key returned " + u));
        }

        /** Takes a slot, waiting while the window is full; fails if an operation failed or none completes. */
        void take() throws InterruptedException
        {
            check();
            if (!free.tryAcquire(waitNs, TimeUnit.NANOSECONDS))
            {
                throw new IllegalStateException("no async operation completed within "
                    + TimeUnit.NANOSECONDS.toMillis(waitNs) + " ms with " + window + " in flight");
            }
        }

        /** Waits until every operation started in this iteration completed, and checks them. */
        @TearDown(Level.Iteration)
        public void drain() throws InterruptedException
        {
            if (!free.tryAcquire(window, waitNs, TimeUnit.NANOSECONDS))
            {
                throw new IllegalStateException((window - free.availablePermits()) + " async operations did not"
                    + " complete within " + TimeUnit.NANOSECONDS.toMillis(waitNs) + " ms");
            }
            free.release(window);
            check();
        }

        private void done(final Throwable problem)
        {
            if (problem != null)
            {
                failure.compareAndSet(null, problem);
            }
            free.release();
        }

        private void check()
        {
            final Throwable f = failure.get();
            if (f != null)
            {
                throw new IllegalStateException("an async operation failed: " + f, f);
            }
        }
    }

    /**
     * Round trips per completed operation and the most operations in flight at once, from the
     * store's {@link KvStats} around each iteration: JMH prints them as {@code <benchmark>:rttPerOp}
     * and {@code :peakInFlight}. JMH sums {@code EVENTS} counters over all measurement iterations
     * of all forks, so each iteration reports its value divided by their number: the printed sum
     * is the mean over iterations.
     */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Tally
    {
        private double share = 1;
        private KvStats before;
        private double rttPerOp;
        private double peakInFlight;

        /** Learns how many measurement iterations JMH will add up. */
        @Setup(Level.Trial)
        public void iterations(final BenchmarkParams params)
        {
            share = KvOpsBenchmark.OpCosts.share(params);
        }

        /** Takes the stats at the start of an iteration. */
        @Setup(Level.Iteration)
        public void begin(final Store store)
        {
            before = store.kv.stats();
        }

        /** Takes them at its end (before the trial's teardown closes the store). */
        @TearDown(Level.Iteration)
        public void end(final Store store)
        {
            final KvStats after = store.kv.stats();
            final long ops = after.operations().completed() - before.operations().completed();
            final long rtt = after.verbs().roundTrips() - before.verbs().roundTrips();
            rttPerOp = ops == 0 ? 0 : share * rtt / ops;
            peakInFlight = share * after.operations().peakInFlight();
        }

        /** Round trips per completed operation (store-wide). */
        public double rttPerOp()
        {
            return rttPerOp;
        }

        /** The most operations the store had in flight at once so far. */
        public double peakInFlight()
        {
            return peakInFlight;
        }
    }
}
