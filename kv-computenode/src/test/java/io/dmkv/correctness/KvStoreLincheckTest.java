package io.dmkv.correctness;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.stress.StressOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Lincheck (stress mode) drives get/put/insert/update/delete on three hot keys of the public API
 * from several threads, each thread on its own {@link KvStore} client (own index cache, own
 * allocator), and checks every outcome against {@link SequentialMap}, a HashMap: each parallel
 * execution must be explainable by some order of its operations that keeps each thread's program
 * order.
 *
 * <p>Lincheck builds a new {@link Target} for every invocation and has no per-invocation
 * teardown, so one small cluster (2 memory nodes, r = 2, over {@code local}) and its clients live
 * for the whole test; each new {@link Target} deletes the hot keys first, so every invocation
 * starts from the empty map the spec starts from. (The stale index-cache entries the clients
 * keep from the previous invocations are part of what is tested.)
 *
 * <p>Stress mode: the operations run on the real {@code local} transport, unscheduled. Lincheck
 * 2.34 attaches its instrumentation agent itself (ByteBuddy, dynamic attach); on JDK 17 stress
 * mode needs no extra JVM flags (the JVM notes once that class sharing is limited because the
 * bootstrap class path was appended). {@code -Ddmkv.lincheck.iterations} and
 * {@code -Ddmkv.lincheck.invocations} make a longer run.
 */
@Timeout(180)
class KvStoreLincheckTest
{
    /** Scenarios. */
    private static final int ITERATIONS = Integer.getInteger("dmkv.lincheck.iterations", 30);
    /** Runs of each scenario. */
    private static final int INVOCATIONS = Integer.getInteger("dmkv.lincheck.invocations", 300);
    private static final int THREADS = 3;

    private static EmbeddedCluster cluster;
    private static final List<KvStore> STORES = new ArrayList<>();
    private static final AtomicInteger NEXT_STORE = new AtomicInteger();
    private static final ThreadLocal<KvStore> STORE = ThreadLocal.withInitial(
        () -> STORES.get(NEXT_STORE.getAndIncrement() % STORES.size()));

    @BeforeAll
    static void startCluster()
    {
        cluster = Fixtures.cluster(2, 16L << 20, 4L << 20, "local");
        for (int i = 0; i < THREADS; i++)
        {
            STORES.add(KvStore.open(Fixtures.small(cluster, 2).build()));
        }
    }

    @AfterAll
    static void stopCluster()
    {
        STORES.forEach(KvStore::close);
        STORES.clear();
        if (cluster != null)
        {
            cluster.close();
        }
    }

    @Test
    void hotKeysStayLinearizableUnderStress()
    {
        final StressOptions options = new StressOptions()
            .iterations(ITERATIONS)
            .invocationsPerIteration(INVOCATIONS)
            .threads(THREADS)
            .actorsPerThread(3)
            .actorsBefore(2)
            .actorsAfter(2)
            .sequentialSpecification(SequentialMap.class);
        LinChecker.check(Target.class, options);
    }

    private static String key(final int k)
    {
        return "hot" + k;
    }

    private static String value(final int v)
    {
        return "v" + v;
    }

    /** The system under test, as Lincheck sees it: one instance per invocation. */
    @Param(name = "key", gen = IntGen.class, conf = "1:3")
    @Param(name = "value", gen = IntGen.class, conf = "1:4")
    public static class Target
    {
        public Target()
        {
            final KvStore reset = STORES.get(0);
            for (int k = 1; k <= 3; k++)
            {
                reset.delete(key(k));
            }
        }

        @Operation
        public String get(@Param(name = "key") final int k)
        {
            return STORE.get().get(key(k));
        }

        @Operation
        public void put(@Param(name = "key") final int k, @Param(name = "value") final int v)
        {
            STORE.get().put(key(k), value(v));
        }

        @Operation
        public boolean insert(@Param(name = "key") final int k, @Param(name = "value") final int v)
        {
            return STORE.get().insert(Fixtures.utf8(key(k)), Fixtures.utf8(value(v)));
        }

        @Operation
        public boolean update(@Param(name = "key") final int k, @Param(name = "value") final int v)
        {
            return STORE.get().update(Fixtures.utf8(key(k)), Fixtures.utf8(value(v)));
        }

        @Operation
        public boolean delete(@Param(name = "key") final int k)
        {
            return STORE.get().delete(key(k));
        }
    }

    /** The sequential specification: a HashMap with the store's semantics. */
    public static class SequentialMap
    {
        private final Map<String, String> map = new HashMap<>();

        public String get(final int k)
        {
            return map.get(key(k));
        }

        public void put(final int k, final int v)
        {
            map.put(key(k), value(v));
        }

        public boolean insert(final int k, final int v)
        {
            return map.putIfAbsent(key(k), value(v)) == null;
        }

        public boolean update(final int k, final int v)
        {
            return map.replace(key(k), value(v)) != null;
        }

        public boolean delete(final int k)
        {
            return map.remove(key(k)) != null;
        }
    }
}
