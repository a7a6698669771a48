package io.dmkv.bench.cli;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.dmkv.KvStore;
import io.dmkv.core.layout.SizeClasses;

/**
 * The soak's mix, run by every thread on one shared store: gets (each value checked to be a
 * whole value of its own key), puts whose values grow or shrink by half each time, deletes,
 * inserts and updates, on uniformly chosen keys. Every write moves a key to another object and
 * often another size class, and every delete frees one, so memory that is not given back shows
 * as growth over the run.
 *
 * <p>It keeps an estimate of the live object bytes (each key's object size times r, as the
 * last write a thread saw left it): concurrent writes of one key may be counted in another
 * order than the store applied them, so it is a figure to compare with, not a check.
 */
final class SoakWorkload
{
    /** Operations of the mix and their shares, in percent. */
    enum Op
    {
        GET(35), PUT(30), DELETE(15), INSERT(10), UPDATE(10);

        final int percent;

        Op(final int percent)
        {
            this.percent = percent;
        }
    }

    private final KvStore kv;
    private final int keys;
    private final int maxValue;
    private final int replication;
    /** Per key: the value length last written, 0 when absent. */
    private final AtomicIntegerArray lengths;
    private final AtomicLong tickets = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final LongAdder[] done = new LongAdder[Op.values().length];
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, String> errorExamples = new ConcurrentHashMap<>();
    private final AtomicLong wrong = new AtomicLong();
    private final ConcurrentLinkedQueue<String> firstWrong = new ConcurrentLinkedQueue<>();

    SoakWorkload(final KvStore kv, final int keys, final int maxValue, final int replication)
    {
        this.kv = kv;
        this.keys = keys;
        this.maxValue = maxValue;
        this.replication = replication;
        this.lengths = new AtomicIntegerArray(keys);
        for (int i = 0; i < done.length; i++)
        {
            done[i] = new LongAdder();
        }
    }

    /** Runs one operation of the mix. */
    void step()
    {
        final ThreadLocalRandom rng = ThreadLocalRandom.current();
        final int key = rng.nextInt(keys);
        final Op op = pick(rng.nextInt(100));
        try
        {
            switch (op)
            {
                case GET -> check(key, kv.get(DemoValue.key(key)));
                case PUT ->
                {
                    final int length = nextLength(key, rng.nextBoolean());
                    kv.put(DemoValue.key(key), value(key, length));
                    written(key, length);
                }
                case DELETE ->
                {
                    if (kv.delete(DemoValue.key(key)))
                    {
                        written(key, 0);
                    }
                }
                case INSERT ->
                {
                    final int length = nextLength(key, rng.nextBoolean());
                    if (kv.insert(DemoValue.key(key), value(key, length)))
                    {
                        written(key, length);
                    }
                }
                default ->
                {
                    final int length = nextLength(key, rng.nextBoolean());
                    if (kv.update(DemoValue.key(key), value(key, length)))
                    {
                        written(key, length);
                    }
                }
            }
            done[op.ordinal()].increment();
        }
        catch (final RuntimeException e)
        {
            final String kind = e.getClass().getSimpleName();
            errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
            errorExamples.putIfAbsent(kind, String.valueOf(e.getMessage()));
        }
    }

    /** Reads every key back and checks what it holds; returns how many were wrong. */
    long checkAll()
    {
        final long before = wrong.get();
        for (int key = 0; key < keys; key++)
        {
            check(key, kv.get(DemoValue.key(key)));
        }
        return wrong.get() - before;
    }

    private static Op pick(final int percent)
    {
        int sum = 0;
        for (final Op op : Op.values())
        {
            sum += op.percent;
            if (percent < sum)
            {
                return op;
            }
        }
        return Op.GET;
    }

    /** Twice or half the key's last length (a fresh key starts at a random one), within bounds. */
    private int nextLength(final int key, final boolean grow)
    {
        final int last = lengths.get(key);
        if (last == 0)
        {
            // log-uniform, as the halving and doubling spread sizes
            final double span = Math.log((double)maxValue / DemoValue.HEADER_LENGTH);
            return (int)Math.min(maxValue, DemoValue.HEADER_LENGTH * Math.exp(ThreadLocalRandom.current().nextDouble() * span));
        }
        return Math.max(DemoValue.HEADER_LENGTH, Math.min(maxValue, grow ? last * 2 : last / 2));
    }

    private byte[] value(final int key, final int length)
    {
        return DemoValue.encode(key, tickets.incrementAndGet(), length);
    }

    private void written(final int key, final int length)
    {
        final int old = lengths.getAndSet(key, length);
        liveBytes.addAndGet(replication * (objectBytes(length) - objectBytes(old)));
    }

    /** The mean object size over the value sizes the mix visits (16 B doubling up to the largest). */
    static long meanObjectBytes(final int maxValue)
    {
        long sum = 0;
        int n = 0;
        for (int length = DemoValue.HEADER_LENGTH; length <= maxValue; length *= 2)
        {
            sum += objectBytes(length);
            n++;
        }
        return sum / n;
    }

    private static long objectBytes(final int length)
    {
        return length == 0 ? 0 : SizeClasses.objectSize(SizeClasses.sizeClassFor(DemoValue.KEY_LENGTH, length));
    }

    private void check(final int key, final byte[] value)
    {
        if (value == null)
        {
            return;
        }
        try
        {
            DemoValue.check(key, value, value.length);
        }
        catch (final RuntimeException e)
        {
            if (wrong.incrementAndGet() <= 5)
            {
                firstWrong.add(e.getMessage());
            }
        }
    }

    /** Operations of {@code op} done so far. */
    long done(final Op op)
    {
        return done[op.ordinal()].sum();
    }

    /** All operations done so far. */
    long done()
    {
        long n = 0;
        for (final LongAdder a : done)
        {
            n += a.sum();
        }
        return n;
    }

    /** Estimated bytes of the live objects on the memory nodes, all replicas. */
    long liveBytes()
    {
        return liveBytes.get();
    }

    /** Failed operations by exception type. */
    Map<String, Long> errors()
    {
        final Map<String, Long> m = new java.util.TreeMap<>();
        errors.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** The first message seen of each kind of failure. */
    Map<String, String> errorExamples()
    {
        return new java.util.TreeMap<>(errorExamples);
    }

    long wrong()
    {
        return wrong.get();
    }

    Iterable<String> firstWrong()
    {
        return firstWrong;
    }
}
