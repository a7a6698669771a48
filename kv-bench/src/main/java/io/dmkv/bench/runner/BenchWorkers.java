package io.dmkv.bench.runner;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.DiscreteSampler;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.simple.RandomSource;

import io.dmkv.KvException;
import io.dmkv.KvStore;

/**
 * The threads of a {@link Workload} on one {@link KvStore}: loaders that insert the records, and
 * runners that draw operations from the workload's mix. Runners of one run phase may live in
 * several processes; each knows the global index of its first thread and the total, so inserted
 * keys never collide and every thread has its own random stream.
 *
 * <p>An operation that finds no key (a READ or UPDATE of an absent key, an INSERT of a present
 * one) is counted as a miss, not an error; errors are {@link KvException}s.
 */
public final class BenchWorkers
{
    /** Operation kinds of the load phase. */
    public static final List<String> LOAD_OPS = List.of("INSERT");
    /** Operation kinds of the run phase, in {@link OpStats} order. */
    public static final List<String> RUN_OPS = List.of("READ", "UPDATE", "INSERT", "RMW");

    private static final int READ = 0;
    private static final int UPDATE = 1;
    private static final int INSERT = 2;
    private static final int RMW = 3;

    private final KvStore kv;
    private final Workload workload;
    private final int totalThreads;
    private final int firstThread;
    private final long insertBase;
    private final long seed;
    /** Nanoseconds into a runner's run after which its zipfian hot set moves ({@link Workload#hotSetShift}). */
    private long shiftAfterNs = Long.MAX_VALUE;
    /** Misses by operation kind (the load's INSERTs count as kind 0). */
    private final LongAdder[] misses = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};

    /**
     * @param totalThreads run-phase threads over all processes.
     * @param firstThread  global index of this process's first thread.
     * @param run          number of the run phase (0, 1, ... in a thread sweep): where its inserts go.
     * @param seed         random seed; thread g uses {@code seed + g}.
     */
    public BenchWorkers(final KvStore kv, final Workload workload, final int totalThreads, final int firstThread,
        final int run, final long seed)
    {
        this.kv = kv;
        this.workload = workload;
        this.totalThreads = totalThreads;
        this.firstThread = firstThread;
        this.insertBase = Keys.insertBase(workload.records(), run);
        this.seed = seed;
    }

    /**
     * Sets the run phase's length, so runners created from now on move a shifting workload's hot
     * set after {@link Workload#hotSetShift} of it (each runner counts from its creation, which
     * {@link WorkloadRunner} does just before it starts the threads).
     */
    public BenchWorkers runLength(final Duration duration)
    {
        shiftAfterNs = workload.shifts() ? (long)(duration.toNanos() * workload.hotSetShift()) : Long.MAX_VALUE;
        return this;
    }

    /** Operations that found no key (or, when loading, a key already present). */
    public long misses()
    {
        long n = 0;
        for (final LongAdder m : misses)
        {
            n += m.sum();
        }
        return n;
    }

    /** Misses of each operation kind, in {@link #RUN_OPS} order (or {@link #LOAD_OPS} for the load). */
    public long[] missesByKind(final int kinds)
    {
        final long[] n = new long[kinds];
        for (int i = 0; i < kinds; i++)
        {
            n[i] = misses[i].sum();
        }
        return n;
    }

    /** Thread {@code index} of {@code threads} loads its contiguous share of the records, as {@link WorkloadRunner} splits them. */
    public WorkloadRunner.Worker loader(final int index, final int threads)
    {
        final int n = workload.records();
        final long first = (long)index * (n / threads) + Math.min(index, n % threads);
        final Values values = new Values(workload, random(index));
        return seq ->
        {
            try
            {
                if (!kv.insert(Keys.key(first + seq), values.next()))
                {
                    misses[0].increment();
                }
            }
            catch (final KvException e)
            {
                throw new WorkloadException(0, e);
            }
            return 0;
        };
    }

    /** Run-phase thread {@code localIndex} of this process. */
    public WorkloadRunner.Worker runner(final int localIndex)
    {
        final int g = firstThread + localIndex;
        final UniformRandomProvider rng = random(g);
        final Values values = new Values(workload, rng);
        final KeyChooser keys = new KeyChooser(workload, rng, g);
        final double read = workload.readProportion();
        final double update = read + workload.updateProportion();
        final double insert = update + workload.insertProportion();
        return seq ->
        {
            final double u = rng.nextDouble();
            final int op = u < read ? READ : u < update ? UPDATE : u < insert ? INSERT : RMW;
            try
            {
                switch (op)
                {
                    case READ:
                        if (kv.get(Keys.key(keys.next())) == null)
                        {
                            misses[op].increment();
                        }
                        break;
                    case UPDATE:
                        if (!kv.update(Keys.key(keys.next()), values.next()))
                        {
                            misses[op].increment();
                        }
                        break;
                    case INSERT:
                        if (!kv.insert(Keys.key(keys.nextInsert()), values.next()))
                        {
                            misses[op].increment();
                        }
                        break;
                    default:
                        final byte[] key = Keys.key(keys.next());
                        if (kv.get(key) == null || !kv.update(key, values.next()))
                        {
                            misses[op].increment();
                        }
                        break;
                }
            }
            catch (final KvException e)
            {
                throw new WorkloadException(op, e);
            }
            return op;
        };
    }

    private UniformRandomProvider random(final int thread)
    {
        return RandomSource.XO_RO_SHI_RO_128_PP.create(seed + thread * 0x9E3779B97F4A7C15L);
    }

    /**
     * Chooses key numbers for one thread. Inserts: the thread's k-th insert is key
     * {@code insertBase + k × totalThreads + g}. Latest: a zipfian rank back from the newest key
     * this thread knows to exist, through its own inserts (newest first) and then the loaded keys
     * (highest number first). YCSB counts back from the newest key of all threads; threads here
     * may run in other processes, so each counts back through what it inserted itself and never
     * reads a key that is not there yet.
     */
    private final class KeyChooser
    {
        private final Workload.Distribution distribution;
        private final UniformRandomProvider rng;
        private final DiscreteSampler zipf;
        private final int records;
        private final int thread;
        private final long shiftAt;
        private long inserted;
        private boolean shifted;

        KeyChooser(final Workload w, final UniformRandomProvider rng, final int thread)
        {
            this.distribution = w.distribution();
            this.rng = rng;
            this.records = w.records();
            this.thread = thread;
            this.zipf = distribution == Workload.Distribution.UNIFORM ? null
                : RejectionInversionZipfSampler.of(rng, records, w.zipfianConstant());
            this.shiftAt = shiftAfterNs == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + shiftAfterNs;
        }

        long next()
        {
            switch (distribution)
            {
                case UNIFORM:
                    return rng.nextInt(records);
                case ZIPFIAN:
                    if (!shifted && shiftAt != Long.MAX_VALUE && System.nanoTime() - shiftAt >= 0)
                    {
                        shifted = true;
                    }
                    return Keys.zipfianKey(zipf.sample() - 1, records, shifted);
                default:
                    final long rank = zipf.sample() - 1;
                    return rank < inserted ? insertBase + (inserted - 1 - rank) * totalThreads + thread
                        : Math.max(0, records - 1 - (rank - inserted));
            }
        }

        long nextInsert()
        {
            return insertBase + inserted++ * totalThreads + thread;
        }
    }

    /** Values for one thread: random bytes, a fresh array per write when sizes vary, else one reused array. */
    private static final class Values
    {
        private final UniformRandomProvider rng;
        private final int min;
        private final int max;
        private final byte[] random;
        private long stamp;

        Values(final Workload w, final UniformRandomProvider rng)
        {
            this.rng = rng;
            this.min = w.minValueSize();
            this.max = w.maxValueSize();
            this.random = new byte[max];
            rng.nextBytes(random);
        }

        byte[] next()
        {
            if (min == max)
            {
                // the store copies the value out before a write returns, so one array serves every write;
                // its first bytes change so each write stores a value of its own
                long s = ++stamp;
                for (int i = 0; i < Math.min(8, max); i++, s >>>= 8)
                {
                    random[i] = (byte)s;
                }
                return random;
            }
            final byte[] v = new byte[min + rng.nextInt(max - min + 1)];
            System.arraycopy(random, 0, v, 0, v.length);
            v[0] = (byte)++stamp;
            return v;
        }
    }
}
