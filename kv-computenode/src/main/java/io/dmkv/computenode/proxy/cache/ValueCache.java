package io.dmkv.computenode.proxy.cache;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.concurrent.NanoClock;

/**
 * Values this compute node caches from partitions other compute nodes proxy (docs/flexkv.md §11),
 * each under a lease from the key's proxy, within a byte budget. Striped by key hash; each stripe
 * has its share of the budget and a counter of the invalidations it applied, so a value looked up
 * before an invalidation of its stripe arrived is never installed after it ({@link #stamp} before
 * sending the lookup, {@link #install} with that stamp).
 *
 * <p>A lookup ({@link #get}) takes no lock: it reads the stripe's concurrent map and marks the
 * entry used. Changes (install, invalidate, evict) hold the stripe's lock, and an invalidation has
 * removed the entry from the map when {@link #invalidate} returns, so no lookup that starts after
 * it sees the value. Eviction is CLOCK (second chance) in insertion order: an entry used since the
 * hand last passed it goes to the back once, an unused one is evicted.
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

    private static final class Entry
    {
        final long hash;
        final byte[] key;
        final byte[] value;
        final long validUntil;
        final String owner;
        final String endpoint;
        /** Read since the clock hand last passed (a racy hint: a lost mark only evicts a little early). */
        boolean used;

        Entry(final long hash, final byte[] key, final byte[] value, final long validUntil, final String owner,
            final String endpoint)
        {
            this.hash = hash;
            this.key = key;
            this.value = value;
            this.validUntil = validUntil;
            this.owner = owner;
            this.endpoint = endpoint;
        }

        long bytes()
        {
            return key.length + value.length + ENTRY_OVERHEAD;
        }
    }

    private static final class Stripe
    {
        final Map<Long, Entry> map = new ConcurrentHashMap<>();
        /** The clock: entries in insertion order, some already gone from the map (skipped). Under the lock. */
        final ArrayDeque<Entry> clock = new ArrayDeque<>();
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
        final Entry e = s.map.get(hash);
        if (e == null)
        {
            misses.increment();
            return null;
        }
        final long now = clock.nanoTime();
        if (now - e.validUntil < 0 && e.owner.equals(owner) && Arrays.equals(e.key, key))
        {
            e.used = true;
            hits.increment();
            return e.value;
        }
        if (now - e.validUntil >= 0)
        {
            synchronized (s)
            {
                if (s.map.get(hash) == e)
                {
                    remove(s, hash);
                }
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
        final Entry e = new Entry(hash, key, value, validUntil, owner, endpoint);
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
            s.clock.addLast(e);
            evict(s);
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

    /** Evicts by CLOCK until the stripe fits its budget; drops clock slots whose entries are gone (under the lock). */
    private void evict(final Stripe s)
    {
        int chances = s.clock.size();
        while (s.bytes > stripeBudget && !s.clock.isEmpty())
        {
            final Entry e = s.clock.pollFirst();
            if (s.map.get(e.hash) != e)
            {
                continue;
            }
            if (e.used && chances-- > 0)
            {
                e.used = false;
                s.clock.addLast(e);
                continue;
            }
            s.map.remove(e.hash);
            s.bytes -= e.bytes();
            evictions.increment();
        }
        if (s.clock.size() > 2 * s.map.size() + 16)
        {
            s.clock.removeIf(e -> s.map.get(e.hash) != e);
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
