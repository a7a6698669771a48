package io.dmkv.computenode.proxy.cache;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.concurrent.NanoClock;

/**
 * Values this compute node caches from partitions other compute nodes proxy (docs/flexkv.md §11),
 * each under a lease from the key's proxy, within a byte budget. Striped by key hash; each stripe
 * is an LRU list with its share of the budget and a counter of the invalidations it applied, so a
 * value looked up before an invalidation of its stripe arrived is never installed after it
 * ({@link #stamp} before sending the lookup, {@link #install} with that stamp).
 *
 * <p>Accounted bytes per entry: key + value + {@link #ENTRY_OVERHEAD}.
 */
public final class ValueCache
{
    /** Bytes accounted per entry beyond its key and value (map node, entry object, arrays' headers). */
    public static final int ENTRY_OVERHEAD = 96;
    private static final int STRIPES = 64;

    private final NanoClock clock;
    private final long stripeBudget;
    private final Stripe[] stripes = new Stripe[STRIPES];
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder installs = new LongAdder();
    private final LongAdder stale = new LongAdder();
    private final LongAdder invalidated = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    private record Entry(byte[] key, byte[] value, long validUntil, String owner, String endpoint)
    {
        long bytes()
        {
            return key.length + value.length + ENTRY_OVERHEAD;
        }
    }

    private static final class Stripe
    {
        final LinkedHashMap<Long, Entry> map = new LinkedHashMap<>(16, 0.75f, true);
        long bytes;
        long invalidations;
    }

    public ValueCache(final NanoClock clock, final long budgetBytes)
    {
        this.clock = clock;
        this.stripeBudget = budgetBytes / STRIPES;
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new Stripe();
        }
    }

    private Stripe stripe(final long hash)
    {
        return stripes[(int)((hash ^ (hash >>> 32)) & (STRIPES - 1))];
    }

    /**
     * The cached value of {@code key}, or null: absent, its lease over, or granted by a proxy other
     * than {@code owner} (the partition moved).
     */
    public byte[] get(final byte[] key, final long hash, final String owner)
    {
        final Stripe s = stripe(hash);
        final long now = clock.nanoTime();
        synchronized (s)
        {
            final Entry e = s.map.get(hash);
            if (e != null && now - e.validUntil < 0 && e.owner.equals(owner) && Arrays.equals(e.key, key))
            {
                hits.increment();
                return e.value;
            }
            if (e != null && now - e.validUntil >= 0)
            {
                remove(s, hash);
            }
        }
        misses.increment();
        return null;
    }

    /** The invalidations the key's stripe applied so far: take it before sending the lookup that fills it. */
    public long stamp(final long hash)
    {
        final Stripe s = stripe(hash);
        synchronized (s)
        {
            return s.invalidations;
        }
    }

    /**
     * Caches {@code value} until {@code validUntil} (this node's clock) unless the key's stripe
     * applied an invalidation since {@code stamp}, or the value alone exceeds a stripe's budget.
     */
    public void install(final byte[] key, final long hash, final byte[] value, final long stamp, final long validUntil,
        final String owner, final String endpoint)
    {
        final Entry e = new Entry(key, value, validUntil, owner, endpoint);
        if (e.bytes() > stripeBudget || validUntil - clock.nanoTime() <= 0)
        {
            return;
        }
        final Stripe s = stripe(hash);
        synchronized (s)
        {
            if (s.invalidations != stamp)
            {
                stale.increment();
                return;
            }
            remove(s, hash);
            s.map.put(hash, e);
            s.bytes += e.bytes();
            final Iterator<Entry> lru = s.map.values().iterator();
            while (s.bytes > stripeBudget && lru.hasNext())
            {
                s.bytes -= lru.next().bytes();
                lru.remove();
                evictions.increment();
            }
        }
        installs.increment();
    }

    /** Drops every cached value of these key hashes (an invalidation batch from a proxy). */
    public void invalidate(final long[] hashes)
    {
        for (final long h : hashes)
        {
            final Stripe s = stripe(h);
            synchronized (s)
            {
                s.invalidations++;
                if (remove(s, h))
                {
                    invalidated.increment();
                }
            }
        }
    }

    /** Drops everything a proxy granted (its connection broke: its invalidations may be lost). */
    public void dropEndpoint(final String endpoint)
    {
        for (final Stripe s : stripes)
        {
            synchronized (s)
            {
                s.invalidations++;
                final Iterator<Entry> it = s.map.values().iterator();
                while (it.hasNext())
                {
                    final Entry e = it.next();
                    if (e.endpoint.equals(endpoint))
                    {
                        s.bytes -= e.bytes();
                        it.remove();
                    }
                }
            }
        }
    }

    private static boolean remove(final Stripe s, final long hash)
    {
        final Entry old = s.map.remove(hash);
        if (old != null)
        {
            s.bytes -= old.bytes();
            return true;
        }
        return false;
    }

    /** Accounted bytes now (at most the budget). */
    public long bytes()
    {
        long total = 0;
        for (final Stripe s : stripes)
        {
            synchronized (s)
            {
                total += s.bytes;
            }
        }
        return total;
    }

    /** Hits, misses, values installed, fills dropped as stale, entries invalidated and evicted, bytes now. */
    public record Stats(long hits, long misses, long installs, long staleFills, long invalidated, long evictions,
        long bytes)
    {
    }

    public Stats stats()
    {
        return new Stats(hits.sum(), misses.sum(), installs.sum(), stale.sum(), invalidated.sum(), evictions.sum(),
            bytes());
    }
}
