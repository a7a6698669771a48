package io.dmkv.computenode.cache;

import java.util.concurrent.atomic.LongAdder;

/**
 * FUSEE's adaptive index cache: key hash → (slot address, slot value last seen). A hit lets a
 * SEARCH read the object in the same round trip as the buckets, and an UPDATE skip the
 * candidate READ. Keys whose cached value is stale more often than the threshold (FUSEE: 0.1)
 * bypass the cache, since for them the speculative READ only costs bandwidth.
 *
 * <p>Two-way set-associative, lock-free and allocation-free. A direct-mapped cache of 65,536
 * entries holding 10,000 keys puts about one key in seven in an entry another key also wants,
 * and two such keys evict each other on every look-up (each one a cache miss: a guess from
 * {@link BucketSnapshot} or a second round trip); with two ways per set, three keys must meet in
 * one set for that to happen. An entry is four words in one array — hash, slot address, slot
 * value, hit and miss counts — so a look-up touches the one or two memory lines of its set, not
 * five arrays.
 *
 * <p>Entries are plain longs written racily. A torn or stale entry can only cause a mismatch that
 * the protocol detects (the slot value is checked against the bucket READ, the object's key
 * against the key), never a wrong answer.
 */
public final class IndexCache
{
    private static final int MIN_SAMPLES = 10;
    private static final int WAYS = 2;
    private static final int WORDS = 4;
    private static final int HASH = 0;
    private static final int ADDRESS = 1;
    private static final int VALUE = 2;
    /** Hits in the high 32 bits, misses in the low 32. */
    private static final int COUNTS = 3;
    private static final long MAX_COUNT = Integer.MAX_VALUE / 2;

    private final int setMask;
    private final long[] entries;
    private final double bypassMissRate;
    private final boolean enabled;
    private final LongAdder totalHits = new LongAdder();
    private final LongAdder totalMisses = new LongAdder();

    /**
     * @param capacity       entries (rounded up to a power of two, at least two: one set); 0
     *                       disables the cache.
     * @param bypassMissRate miss rate above which a key bypasses the cache.
     */
    public IndexCache(final int capacity, final double bypassMissRate)
    {
        if (capacity < 0 || capacity > (1 << 26))
        {
            throw new IllegalArgumentException("cache capacity must be in 0.." + (1 << 26) + ", got " + capacity);
        }
        if (bypassMissRate < 0 || bypassMissRate > 1)
        {
            throw new IllegalArgumentException("cache bypass miss rate must be in 0..1, got " + bypassMissRate);
        }
        this.enabled = capacity > 0;
        final int size = enabled ? Integer.highestOneBit(Math.max(1, capacity - 1)) << 1 : WAYS;
        this.setMask = size / WAYS - 1;
        this.entries = new long[size * WORDS];
        this.bypassMissRate = bypassMissRate;
    }

    /** Where the entry of {@code hash} starts in {@link #entries}, or -1 if no way of its set holds it. */
    private int entry(final long hash)
    {
        final int set = ((int)(hash ^ (hash >>> 29)) & setMask) * WAYS * WORDS;
        if (entries[set + HASH] == hash)
        {
            return set;
        }
        return entries[set + WORDS + HASH] == hash ? set + WORDS : -1;
    }

    /** The cached slot address for {@code hash}, or 0 when none (or the key bypasses the cache). */
    public long slotAddress(final long hash)
    {
        if (!enabled)
        {
            return 0;
        }
        final int e = entry(hash);
        if (e < 0 || bypassed(e))
        {
            return 0;
        }
        return entries[e + ADDRESS];
    }

    /** The cached slot value for {@code hash} (valid only right after a non-zero {@link #slotAddress}). */
    public long slotValue(final long hash)
    {
        final int e = entry(hash);
        return e < 0 ? 0 : entries[e + VALUE];
    }

    private boolean bypassed(final int e)
    {
        final long counts = entries[e + COUNTS];
        final long h = counts >>> 32;
        final long m = counts & 0xFFFF_FFFFL;
        return h + m >= MIN_SAMPLES && m > bypassMissRate * (h + m);
    }

    /** Records where the key is now. */
    public void put(final long hash, final long slotAddress, final long slotValue)
    {
        if (!enabled)
        {
            return;
        }
        int e = entry(hash);
        if (e < 0)
        {
            e = victim(((int)(hash ^ (hash >>> 29)) & setMask) * WAYS * WORDS, hash);
            entries[e + COUNTS] = 0;
        }
        entries[e + ADDRESS] = slotAddress;
        entries[e + VALUE] = slotValue;
        entries[e + HASH] = hash;
    }

    /**
     * The way of the set at {@code set} a new key takes: an unused or removed one, else the one with
     * fewer hits; between two with as many, a bit of the new key's hash chooses, so that neither way
     * keeps an entry for good while the other takes every new key.
     */
    private int victim(final int set, final long hash)
    {
        final int other = set + WORDS;
        if (entries[set + ADDRESS] == 0)
        {
            return set;
        }
        if (entries[other + ADDRESS] == 0)
        {
            return other;
        }
        final long hits = entries[set + COUNTS] >>> 32;
        final long otherHits = entries[other + COUNTS] >>> 32;
        if (hits != otherHits)
        {
            return hits < otherHits ? set : other;
        }
        return (hash & (1L << 40)) == 0 ? set : other;
    }

    /** The cached value was right. */
    public void hit(final long hash)
    {
        totalHits.increment();
        final int e = entry(hash);
        if (enabled && e >= 0 && entries[e + COUNTS] >>> 32 < MAX_COUNT)
        {
            entries[e + COUNTS] += 1L << 32;
        }
    }

    /** The cached value was stale. */
    public void miss(final long hash)
    {
        totalMisses.increment();
        final int e = entry(hash);
        if (enabled && e >= 0 && (entries[e + COUNTS] & 0xFFFF_FFFFL) < MAX_COUNT)
        {
            entries[e + COUNTS]++;
        }
    }

    /** Forgets the key (after a delete). */
    public void remove(final long hash)
    {
        if (enabled)
        {
            final int e = entry(hash);
            if (e >= 0)
            {
                entries[e + ADDRESS] = 0;
                entries[e + VALUE] = 0;
            }
        }
    }

    /** Whether the key currently bypasses the cache. */
    public boolean isBypassed(final long hash)
    {
        final int e = entry(hash);
        return enabled && e >= 0 && bypassed(e);
    }

    /** Cached slots that were right, over all keys. */
    public long hits()
    {
        return totalHits.sum();
    }

    /** Cached slots found stale, over all keys. */
    public long misses()
    {
        return totalMisses.sum();
    }
}
