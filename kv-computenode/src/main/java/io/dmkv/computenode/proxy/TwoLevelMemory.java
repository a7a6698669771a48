package io.dmkv.computenode.proxy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.ValueSink;

/**
 * A proxy's two-level memory (docs/flexkv.md §8) under a byte budget ({@code dmkv.proxy.memoryBudget}):
 * every partition it proxies keeps its index copy (level 2: slots and learnt keys; values are
 * READ from the memory nodes), and the hottest ones (level 1) also keep the values read through
 * them, so a local read of a level-1 key the proxy has seen answers with no round trip.
 *
 * <p><b>Coherence.</b> Only this proxy changes a proxied partition's slots. Every write it
 * decides drops the key's value and bumps the partition's generation, under the key's stripe
 * locks and before the write is acknowledged ({@link #invalidate}); a read fills the value only
 * if the generation it read before looking the slot up is unchanged ({@link #read}), and a hit
 * also needs the slot the copy holds now: two guards, the generation covering an object address
 * reused for the same key with the same slot word. A partition loaded or released starts empty.
 *
 * <p><b>Accounting.</b> Accounted bytes = the index copies of the partitions served (8 per slot
 * word, 8 per key reference, each learnt key's length plus {@value #ARRAY_HEADER}) as measured
 * at the last period, plus per cached value its key and value lengths plus {@value #ENTRY_OVERHEAD}
 * (the map node, entry, boxed hash and array headers). A fill that would pass the budget demotes
 * the coldest level-1 partition colder than its own (dropping its values), or is not made. At
 * each period the partitions are ranked by this node's hotness: level 1 is the hottest prefix
 * that fits, counting a level-2 partition at the bytes it held when it was last demoted (so a
 * partition is not promoted each period only to be demoted again), and the rest are demoted. The index copies are not evicted: a proxy whose copies alone
 * pass the budget caches no values (and logs so at each period).
 */
public final class TwoLevelMemory
{
    /** Bytes counted per cached value beyond its key and value. */
    public static final int ENTRY_OVERHEAD = 96;
    /** Bytes counted per learnt key beyond its length. */
    public static final int ARRAY_HEADER = 16;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TwoLevelMemory.class);

    private final long budget;
    private final LongSupplier indexBytes;
    private final IntPredicate served;
    private final Level[] parts;
    private final AtomicLong valueBytes = new AtomicLong();
    private final LongAdder hits = new LongAdder();
    private final LongAdder fills = new LongAdder();
    private final LongAdder demotions = new LongAdder();
    private volatile long index;
    private volatile long peak;

    /** One partition's level-1 state. */
    private static final class Level
    {
        final Map<Long, Entry> values = new ConcurrentHashMap<>();
        volatile boolean levelOne;
        volatile double hotness;
        long generation;
        long bytes;
        /** Bytes it held when last demoted: what it would take again in level 1. */
        volatile long demand;
    }

    private record Entry(byte[] key, long slot, byte[] value)
    {
        long cost()
        {
            return (long)key.length + value.length + ENTRY_OVERHEAD;
        }
    }

    /**
     * @param indexBytes the accounted bytes of the index copies now (measured once a period).
     * @param served     whether a partition is served by this proxy now.
     */
    TwoLevelMemory(final int partitions, final long budget, final LongSupplier indexBytes, final IntPredicate served)
    {
        this.budget = budget;
        this.indexBytes = indexBytes;
        this.served = served;
        this.parts = new Level[partitions];
        for (int p = 0; p < partitions; p++)
        {
            parts[p] = new Level();
        }
    }

    /** The partition's generation: read it before looking a key's slot up, and hand it to {@link #read}. */
    long generation(final int p)
    {
        synchronized (parts[p])
        {
            return parts[p].generation;
        }
    }

    /**
     * Completes a local read whose slot the copy gave: from level 1 with no round trip, or through
     * {@code readObject} (one READ), filling level 1 with what it read when the partition is there.
     *
     * @param generation {@link #generation} read before the slot was looked up.
     */
    void read(final int p, final long hash, final byte[] key, final long slot, final long generation,
        final OpCompletion<byte[]> done, final Consumer<OpCompletion<byte[]>> readObject)
    {
        if (!parts[p].levelOne)
        {
            readObject.accept(done);
            return;
        }
        final byte[] kept = value(p, hash, key, slot);
        if (kept != null)
        {
            // The caller owns what it gets: the kept value is never handed out itself.
            deliver(done instanceof ValueSink ? kept : kept.clone(), done);
            return;
        }
        readObject.accept((value, failure) ->
        {
            if (failure == null && value != null)
            {
                fill(p, hash, key, slot, generation, value.clone());
            }
            deliver(value, failure, done);
        });
    }

    private static void deliver(final byte[] value, final OpCompletion<byte[]> done)
    {
        deliver(value, null, done);
    }

    private static void deliver(final byte[] value, final Throwable failure, final OpCompletion<byte[]> done)
    {
        if (failure == null && value != null && done instanceof ValueSink sink)
        {
            sink.value(new UnsafeBuffer(value), 0, value.length);
            done.complete(ValueSink.DELIVERED, null);
        }
        else
        {
            done.complete(value, failure);
        }
    }

    /**
     * The value level 1 holds for {@code key} at {@code slot} (the slot the copy holds now), or
     * null: what a read of this proxy would answer with, without its READ. Not to be modified.
     */
    byte[] value(final int p, final long hash, final byte[] key, final long slot)
    {
        final Level l = parts[p];
        if (!l.levelOne)
        {
            return null;
        }
        final Entry e = l.values.get(hash);
        if (e != null && e.slot == slot && Arrays.equals(e.key, key))
        {
            hits.increment();
            return e.value;
        }
        return null;
    }

    /** Keeps {@code value} in level 1 unless a write came since {@code generation} or it does not fit. */
    void fill(final int p, final long hash, final byte[] key, final long slot, final long generation,
        final byte[] value)
    {
        final Level l = parts[p];
        final Entry e = new Entry(key.clone(), slot, value);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            final long delta;
            synchronized (l)
            {
                if (!l.levelOne || l.generation != generation)
                {
                    return;
                }
                final Entry old = l.values.get(hash);
                delta = e.cost() - (old == null ? 0 : old.cost());
                if (reserve(delta))
                {
                    l.values.put(hash, e);
                    l.bytes += delta;
                    fills.increment();
                    return;
                }
            }
            // Outside p's lock: demoting takes the other partition's.
            if (!makeRoom(p))
            {
                return;
            }
        }
    }

    /** A write of {@code hash} in partition p is decided: its value goes, fills in flight are refused. */
    void invalidate(final int p, final long hash)
    {
        final Level l = parts[p];
        synchronized (l)
        {
            l.generation++;
            final Entry old = l.values.remove(hash);
            if (old != null)
            {
                l.bytes -= old.cost();
                valueBytes.addAndGet(-old.cost());
            }
        }
    }

    /** Partition p was loaded or released: it starts again with no values. */
    void drop(final int p)
    {
        final Level l = parts[p];
        synchronized (l)
        {
            l.generation++;
            l.values.clear();
            valueBytes.addAndGet(-l.bytes);
            l.bytes = 0;
        }
    }

    private boolean reserve(final long delta)
    {
        while (true)
        {
            final long v = valueBytes.get();
            if (delta > 0 && index + v + delta > budget)
            {
                return false;
            }
            if (valueBytes.compareAndSet(v, v + delta))
            {
                peak = Math.max(peak, index + v + delta);
                return true;
            }
        }
    }

    /** Demotes the coldest level-1 partition colder than p that holds values; false if there is none. */
    private boolean makeRoom(final int p)
    {
        int coldest = -1;
        for (int q = 0; q < parts.length; q++)
        {
            if (q != p && parts[q].levelOne && parts[q].bytes > 0 && parts[q].hotness < parts[p].hotness
                && (coldest < 0 || parts[q].hotness < parts[coldest].hotness))
            {
                coldest = q;
            }
        }
        if (coldest < 0)
        {
            return false;
        }
        demote(coldest);
        return true;
    }

    private void demote(final int q)
    {
        parts[q].levelOne = false;
        synchronized (parts[q])
        {
            parts[q].demand = Math.max(parts[q].demand, parts[q].bytes);
        }
        drop(q);
        demotions.increment();
    }

    /**
     * A period ended: this node's hotness by partition. Measures the index copies, ranks the
     * served partitions by hotness, keeps the hottest prefix that fits in level 1 and demotes
     * the rest.
     */
    void period(final double[] hotness)
    {
        index = indexBytes.getAsLong();
        final List<Integer> order = new ArrayList<>();
        for (int p = 0; p < parts.length; p++)
        {
            parts[p].hotness = hotness[p];
            if (served.test(p) && hotness[p] > 0)
            {
                order.add(p);
            }
            else if (parts[p].levelOne)
            {
                demote(p);
            }
        }
        order.sort((a, b) -> Double.compare(hotness[b], hotness[a]));
        long used = index;
        for (final int p : order)
        {
            final long bytes;
            synchronized (parts[p])
            {
                bytes = parts[p].levelOne ? parts[p].bytes : parts[p].demand;
            }
            if (used + bytes <= budget)
            {
                used += bytes;
                parts[p].levelOne = true;
            }
            else if (parts[p].levelOne)
            {
                demote(p);
            }
        }
        peak = Math.max(peak, accounted());
        if (index > budget)
        {
            LOG.warn("proxy index copies take {} bytes, over dmkv.proxy.memoryBudget {}: no values are cached", index,
                budget);
        }
    }

    /** True when partition p is in level 1 (its values are kept). */
    public boolean levelOne(final int p)
    {
        return parts[p].levelOne;
    }

    /** Accounted bytes now: index copies (as last measured) and level-1 values. */
    public long accounted()
    {
        return index + valueBytes.get();
    }

    /** The most accounted bytes a fill reached. */
    public long peak()
    {
        return peak;
    }

    public long budget()
    {
        return budget;
    }

    /** What level 1 did: reads answered from it, values kept, partitions demoted. */
    public record Stats(long hits, long fills, long demotions, long valueBytes, long indexBytes)
    {
    }

    public Stats stats()
    {
        return new Stats(hits.sum(), fills.sum(), demotions.sum(), valueBytes.get(), index);
    }
}
