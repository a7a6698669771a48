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
 * <p>Entries are plain longs written racily, so two threads that put different keys into one way
 * at once can leave an entry made of both (one key's hash, the other's slot). An update that
 * trusts a cached slot (it skips the candidate READ that checks the object's key) would then write
 * one key's object into the other key's slot. Every entry therefore carries a 32-bit check of its
 * hash, slot address and slot value (in its counts word); a look-up whose words do not match their
 * check finds nothing (a miss, which only costs the READ), so a torn entry is used with a
 * probability of 2^-32 per torn look-up, where before it was used every time.
 */
public final class IndexCache
{
    private static final int MIN_SAMPLES = 10;
    private static final int WAYS = 2;
    private static final int WORDS = 4;
    private static final int HASH = 0;
    private static final int ADDRESS = 1;
    private static final int VALUE = 2;
    /** Hits in bits 63-48, misses in bits 47-32, the entry's check in bits 31-0. */
    private static final int COUNTS = 3;
    private static final long MAX_COUNT = 0x7FFF;
    private static final int HITS_SHIFT = 48;
    private static final int MISSES_SHIFT = 32;
    private static final long CHECK_MASK = 0xFFFF_FFFFL;

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

    /** The check of an entry's three words (low 32 bits of a mix of them). */
    static long check(final long hash, final long address, final long value)
    {
        final long x = hash * 0x9E37_79B9_7F4A_7C15L ^ address * 0xC2B2_AE3D_27D4_EB4FL ^ value * 0x1656_67B1_9E37_79F9L;
        return (x ^ x >>> 32) & CHECK_MASK;
    }

    /**
     * Word {@code word} (ADDRESS or VALUE) of the entry of {@code hash}, from one read of the entry
     * whose words match their check; 0 if no way holds the key or its words are torn.
     */
    private long whole(final long hash, final int word)
    {
        final int e = entry(hash);
        if (e < 0)
        {
            return 0;
        }
        final long address = entries[e + ADDRESS];
        final long value = entries[e + VALUE];
        final long counts = entries[e + COUNTS];
        if (entries[e + HASH] != hash || (counts & CHECK_MASK) != check(hash, address, value))
        {
            return 0;
        }
        return word == ADDRESS ? address : value;
    }

    /** The cached slot address for {@code hash}, or 0 when none (or the key bypasses the cache). */
    public long slotAddress(final long hash)
    {
        if (!enabled)
        {
            return 0;
        }
        final int e = entry(hash);
        return e < 0 || bypassed(e) ? 0 : whole(hash, ADDRESS);
    }

    /**
     * The cached slot value for {@code hash} (valid only right after a non-zero {@link #slotAddress};
     * 0 if the entry changed to another key meanwhile).
     */
    public long slotValue(final long hash)
    {
        return whole(hash, VALUE);
    }

    private boolean bypassed(final int e)
    {
        final long counts = entries[e + COUNTS];
        final long h = counts >>> HITS_SHIFT;
        final long m = counts >>> MISSES_SHIFT & MAX_COUNT;
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
        final long counts;
        if (e < 0)
        {
            e = victim(((int)(hash ^ (hash >>> 29)) & setMask) * WAYS * WORDS, hash);
            counts = 0;
        }
        else
        {
            counts = entries[e + COUNTS] & ~CHECK_MASK;
        }
        entries[e + ADDRESS] = slotAddress;
        entries[e + VALUE] = slotValue;
        entries[e + COUNTS] = counts | check(hash, slotAddress, slotValue);
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
        final long hits = entries[set + COUNTS] >>> HITS_SHIFT;
        final long otherHits = entries[other + COUNTS] >>> HITS_SHIFT;
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
        if (enabled && e >= 0 && entries[e + COUNTS] >>> HITS_SHIFT < MAX_COUNT)
        {
            entries[e + COUNTS] += 1L << HITS_SHIFT;
        }
    }

    /** The cached value was stale. */
    public void miss(final long hash)
    {
        totalMisses.increment();
        final int e = entry(hash);
        if (enabled && e >= 0 && (entries[e + COUNTS] >>> MISSES_SHIFT & MAX_COUNT) < MAX_COUNT)
        {
            entries[e + COUNTS] += 1L << MISSES_SHIFT;
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
