package io.dmkv.computenode.cache;

import java.util.concurrent.atomic.LongAdder;

/**
 * FUSEE's adaptive index cache: key hash → (slot address, slot value last seen). A hit lets a
 * SEARCH read the object in the same round trip as the buckets, and an UPDATE skip the
 * candidate READ. Keys whose cached value is stale more often than the threshold (FUSEE: 0.1)
 * bypass the cache, since for them the speculative READ only costs bandwidth.
 *
 * <p>Direct-mapped, lock-free and allocation-free: entries are plain longs in arrays, written
 * racily. A torn or stale entry can only cause a mismatch that the protocol detects (the slot
 * value is checked against the bucket READ, the object's key against the key), never a wrong answer.
 */
public final class IndexCache
{
    private static final int MIN_SAMPLES = 10;

    private final int mask;
    private final long[] hashes;
    private final long[] slotAddresses;
    private final long[] slotValues;
    private final int[] hits;
    private final int[] misses;
    private final double bypassMissRate;
    private final boolean enabled;
    private final LongAdder totalHits = new LongAdder();
    private final LongAdder totalMisses = new LongAdder();

    /**
     * @param capacity       entries (rounded up to a power of two); 0 disables the cache.
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
        final int size = enabled ? Integer.highestOneBit(Math.max(1, capacity - 1)) << 1 : 1;
        this.mask = size - 1;
        this.hashes = new long[size];
        this.slotAddresses = new long[size];
        this.slotValues = new long[size];
        this.hits = new int[size];
        this.misses = new int[size];
        this.bypassMissRate = bypassMissRate;
    }

    private int index(final long hash)
    {
        return (int)(hash ^ (hash >>> 29)) & mask;
    }

    /** The cached slot address for {@code hash}, or 0 when none (or the key bypasses the cache). */
    public long slotAddress(final long hash)
    {
        if (!enabled)
        {
            return 0;
        }
        final int i = index(hash);
        if (hashes[i] != hash || bypassed(i))
        {
            return 0;
        }
        return slotAddresses[i];
    }

    /** The cached slot value for {@code hash} (valid only right after a non-zero {@link #slotAddress}). */
    public long slotValue(final long hash)
    {
        return slotValues[index(hash)];
    }

    private boolean bypassed(final int i)
    {
        final int h = hits[i];
        final int m = misses[i];
        return h + m >= MIN_SAMPLES && m > bypassMissRate * (h + m);
    }

    /** Records where the key is now. */
    public void put(final long hash, final long slotAddress, final long slotValue)
    {
        if (!enabled)
        {
            return;
        }
        final int i = index(hash);
        if (hashes[i] != hash)
        {
            hits[i] = 0;
            misses[i] = 0;
        }
        slotAddresses[i] = slotAddress;
        slotValues[i] = slotValue;
        hashes[i] = hash;
    }

    /** The cached value was right. */
    public void hit(final long hash)
    {
        totalHits.increment();
        final int i = index(hash);
        if (enabled && hashes[i] == hash && hits[i] < Integer.MAX_VALUE / 2)
        {
            hits[i]++;
        }
    }

    /** The cached value was stale. */
    public void miss(final long hash)
    {
        totalMisses.increment();
        final int i = index(hash);
        if (enabled && hashes[i] == hash && misses[i] < Integer.MAX_VALUE / 2)
        {
            misses[i]++;
        }
    }

    /** Forgets the key (after a delete). */
    public void remove(final long hash)
    {
        if (enabled)
        {
            final int i = index(hash);
            if (hashes[i] == hash)
            {
                slotAddresses[i] = 0;
                slotValues[i] = 0;
            }
        }
    }

    /** Whether the key currently bypasses the cache. */
    public boolean isBypassed(final long hash)
    {
        final int i = index(hash);
        return enabled && hashes[i] == hash && bypassed(i);
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
