package io.dmkv.computenode.proxy.cache;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.NanoClock;

import io.dmkv.core.hash.KeyHash;

/**
 * A proxy's record of which compute nodes cache which keys of its partitions (docs/flexkv.md §11).
 * The proxy orders every write of its partitions, so it is where coherence is decided:
 * <ul>
 * <li>a compute node asking for a lease ({@link #grant}) is recorded as a sharer of the key hash
 * <em>before</em> the proxy looks the key up, so a write that lands after the lookup finds it;</li>
 * <li>a write ({@link #written}) queues an invalidation of the key for every sharer and returns
 * what the write must wait for before it is acknowledged: each sharer's acknowledgement of the
 * batch that carries it, or the end of the key's lease, and the invalidations earlier writes of
 * the key still wait for (so no write is acknowledged while an older value may be served);</li>
 * <li>the invalidations queued for one compute node leave together in the next response to it
 * ({@link #drain}), or in its parked poll ({@link #park}).</li>
 * </ul>
 * A key written too often to be worth caching ({@link WriteHeat}) gets no new leases while it is.
 * Bounded: at most {@code maxEntries} keys (past it a read gets no lease) and 64 compute nodes
 * (one bit each in a key's sharer set; a 65th gets no lease). Time is the injectable clock's; the
 * owner calls {@link #expire()} periodically.
 */
public final class CoherenceDirectory
{
    /** No writer: the write came from this node or a caller without a lease identity. */
    public static final int NO_CALLER = -1;
    private static final int MAX_CALLERS = 64;
    private static final long[] NONE = new long[0];

    private final NanoClock clock;
    private final long leaseNs;
    private final int maxEntries;
    private final int partitionBits;
    private final WriteHeat heat;
    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Caller[] callers = new Caller[MAX_CALLERS];
    private final LongAdder grants = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder writeHot = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final LongAdder waits = new LongAdder();
    private final LongAdder expiredWaits = new LongAdder();
    /** When {@link #expire()} last swept the entries (it does so once a lease: each sweep visits them all). */
    private long swept;

    /** A key's sharers (bit i: caller i), when its newest lease ends, and what earlier writes of it wait for. */
    private static final class Entry
    {
        long sharers;
        long expiry;
        CompletableFuture<Void> pending;
        /** Its writes, once one was seen while it had an entry (with the write-hot policy on). */
        WriteHeat.Key heat;
    }

    /** Invalidations for one caller that leave together, and when their leases end. */
    private static final class Batch
    {
        final LongArrayList hashes = new LongArrayList();
        final CompletableFuture<Void> acked = new CompletableFuture<>();
        long seq;
        long deadline;
    }

    /** What a response to a caller carries: its invalidations (seq 0: none) and the last batch sent before it. */
    public record Outbox(long seq, long[] hashes, long needed)
    {
    }

    private static final class Caller
    {
        final String name;
        long nonce;
        long sent;
        Batch open = new Batch();
        final ArrayDeque<Batch> unacked = new ArrayDeque<>();
        CompletableFuture<Outbox> parked;
        long parkedUntil;

        Caller(final String name, final long nonce)
        {
            this.name = name;
            this.nonce = nonce;
        }
    }

    /** A directory that leases every key, however often it is written. */
    public CoherenceDirectory(final NanoClock clock, final long leaseNs, final int maxEntries, final int partitionBits)
    {
        this(clock, leaseNs, maxEntries, partitionBits, 0, Integer.MAX_VALUE);
    }

    /**
     * @param partitionBits log2 of the cluster's partitions, to find a partition's keys at hand-over.
     * @param hotWrites     writes of a key within one lease that stop its leases ({@link WriteHeat}); 0: never.
     * @param hotLookups    leased lookups per write at which a key is leased however often it is written.
     */
    public CoherenceDirectory(final NanoClock clock, final long leaseNs, final int maxEntries, final int partitionBits,
        final int hotWrites, final int hotLookups)
    {
        this.clock = clock;
        this.leaseNs = leaseNs;
        this.maxEntries = maxEntries;
        this.partitionBits = partitionBits;
        this.heat = new WriteHeat(leaseNs, hotWrites, hotLookups);
    }

    public long leaseNs()
    {
        return leaseNs;
    }

    /**
     * The id of compute node {@code name} (by the incarnation {@code nonce}), or {@link #NO_CALLER}
     * when 64 are known. A new incarnation's predecessor is gone with its cache, so whatever
     * waited for its acknowledgements is released.
     */
    public int caller(final String name, final long nonce)
    {
        Integer id = ids.get(name);
        if (id == null)
        {
            synchronized (callers)
            {
                id = ids.get(name);
                if (id == null)
                {
                    if (ids.size() == MAX_CALLERS)
                    {
                        return NO_CALLER;
                    }
                    id = ids.size();
                    callers[id] = new Caller(name, nonce);
                    ids.put(name, id);
                    return id;
                }
            }
        }
        final Caller c = callers[id];
        List<CompletableFuture<Void>> gone = null;
        CompletableFuture<Outbox> poll = null;
        synchronized (c)
        {
            if (c.nonce != nonce)
            {
                gone = new ArrayList<>();
                for (final Batch b : c.unacked)
                {
                    gone.add(b.acked);
                }
                gone.add(c.open.acked);
                c.unacked.clear();
                c.open = new Batch();
                c.sent = 0;
                c.nonce = nonce;
                poll = c.parked;
                c.parked = null;
            }
        }
        if (gone != null)
        {
            gone.forEach(f -> f.complete(null));
        }
        if (poll != null)
        {
            poll.complete(new Outbox(0, NONE, 0));
        }
        return id;
    }

    /**
     * Records {@code caller} as a sharer of {@code hash} for one lease from now; call before
     * looking the key up. False (no lease) for an unknown caller, a full directory or a write-hot key.
     */
    public boolean grant(final long hash, final int caller)
    {
        if (caller < 0 || (entries.size() >= maxEntries && !entries.containsKey(hash)))
        {
            refused.increment();
            return false;
        }
        final long now = clock.nanoTime();
        final boolean[] hot = new boolean[1];
        entries.compute(hash, (h, e) ->
        {
            final Entry x = e != null ? e : new Entry();
            if (x.heat != null && heat.lookedUp(x.heat, now))
            {
                hot[0] = true;
                return x;
            }
            if (x.expiry - now <= 0)
            {
                x.sharers = 0;
            }
            x.sharers |= 1L << caller;
            x.expiry = now + leaseNs;
            return x;
        });
        if (hot[0])
        {
            writeHot.increment();
            return false;
        }
        grants.increment();
        return true;
    }

    /**
     * A write of {@code hash} became visible: invalidates it at every sharer. The write is
     * acknowledged once the returned future completes (null: at once). The writer's own
     * invalidation is not waited for: it travels in the response that acknowledges the write, and
     * the writer applies it first.
     */
    public CompletableFuture<Void> written(final long hash, final int writer)
    {
        final boolean[] queued = new boolean[1];
        final Object[] out = new Object[1];
        entries.computeIfPresent(hash, (h, e) ->
        {
            final long now = clock.nanoTime();
            final List<CompletableFuture<Void>> wait = new ArrayList<>(2);
            if (e.pending != null && !e.pending.isDone())
            {
                wait.add(e.pending);
            }
            if (e.expiry - now > 0)
            {
                for (long s = e.sharers; s != 0; s &= s - 1)
                {
                    final int id = Long.numberOfTrailingZeros(s);
                    final CompletableFuture<Void> acked = queue(callers[id], hash, e.expiry);
                    queued[0] = true;
                    if (id != writer)
                    {
                        wait.add(acked);
                    }
                }
            }
            e.sharers = 0;
            if (heat.enabled())
            {
                if (e.heat == null)
                {
                    e.heat = new WriteHeat.Key();
                }
                heat.written(e.heat, now);
            }
            e.pending = wait.isEmpty() ? null : wait.size() == 1 ? wait.get(0)
                : CompletableFuture.allOf(wait.toArray(new CompletableFuture[0]));
            out[0] = e.pending;
            return e;
        });
        if (queued[0])
        {
            answerPolls();
        }
        @SuppressWarnings("unchecked")
        final CompletableFuture<Void> f = (CompletableFuture<Void>)out[0];
        if (f != null)
        {
            waits.increment();
        }
        return f;
    }

    /**
     * Invalidates every key of partition {@code p} at its sharers (the partition leaves this
     * proxy); the future completes when all acknowledged or their leases ended.
     */
    public CompletableFuture<Void> revoke(final int p)
    {
        final List<CompletableFuture<Void>> all = new ArrayList<>();
        for (final Long h : entries.keySet())
        {
            if (KeyHash.partition(h, partitionBits) == p)
            {
                final CompletableFuture<Void> f = written(h, NO_CALLER);
                if (f != null)
                {
                    all.add(f);
                }
            }
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
    }

    /** Queues an invalidation for {@code c}; a parked poll of it is answered after the entry's update. */
    private CompletableFuture<Void> queue(final Caller c, final long hash, final long expiry)
    {
        synchronized (c)
        {
            c.open.hashes.addLong(hash);
            c.open.deadline = Math.max(c.open.deadline, expiry);
            invalidations.increment();
            return c.open.acked;
        }
    }

    /** Answers the parked polls that have invalidations to carry. */
    private void answerPolls()
    {
        for (final Caller c : callers)
        {
            if (c == null)
            {
                continue;
            }
            CompletableFuture<Outbox> p = null;
            Outbox o = null;
            synchronized (c)
            {
                if (c.parked != null && !c.open.hashes.isEmpty())
                {
                    p = c.parked;
                    c.parked = null;
                    o = drainLocked(c);
                }
            }
            if (p != null)
            {
                p.complete(o);
            }
        }
    }

    /** The invalidations for {@code caller} that the response being written carries. */
    public Outbox drain(final int caller)
    {
        if (caller < 0)
        {
            return new Outbox(0, NONE, 0);
        }
        final Caller c = callers[caller];
        synchronized (c)
        {
            return drainLocked(c);
        }
    }

    private Outbox drainLocked(final Caller c)
    {
        if (c.open.hashes.isEmpty())
        {
            return new Outbox(0, NONE, c.sent);
        }
        final Batch b = c.open;
        c.open = new Batch();
        b.seq = ++c.sent;
        c.unacked.add(b);
        return new Outbox(b.seq, b.hashes.toLongArray(), b.seq);
    }

    /** {@code caller} applied every invalidation batch up to {@code seq}. */
    public void ack(final int caller, final long seq)
    {
        if (caller < 0 || seq <= 0)
        {
            return;
        }
        final Caller c = callers[caller];
        final List<CompletableFuture<Void>> done = new ArrayList<>(1);
        synchronized (c)
        {
            while (!c.unacked.isEmpty() && c.unacked.peek().seq <= seq)
            {
                done.add(c.unacked.poll().acked);
            }
        }
        done.forEach(f -> f.complete(null));
    }

    /**
     * A poll of {@code caller}: completes with its invalidations as soon as it has some, or empty
     * after {@code parkNs}.
     */
    public CompletableFuture<Outbox> park(final int caller, final long parkNs)
    {
        if (caller < 0)
        {
            return CompletableFuture.completedFuture(new Outbox(0, NONE, 0));
        }
        final Caller c = callers[caller];
        CompletableFuture<Outbox> older;
        final CompletableFuture<Outbox> f = new CompletableFuture<>();
        synchronized (c)
        {
            if (!c.open.hashes.isEmpty())
            {
                return CompletableFuture.completedFuture(drainLocked(c));
            }
            older = c.parked;
            c.parked = f;
            c.parkedUntil = clock.nanoTime() + parkNs;
        }
        if (older != null)
        {
            older.complete(new Outbox(0, NONE, 0));
        }
        return f;
    }

    /**
     * Ends what the clock ended: waits for acknowledgements whose leases are over (the cacher
     * stopped serving those values by its own clock), polls parked past their time, and (once a
     * lease) entries with neither a live lease nor a pending write. Called from one thread.
     */
    public void expire()
    {
        final long now = clock.nanoTime();
        final List<CompletableFuture<Void>> ended = new ArrayList<>();
        final List<CompletableFuture<Outbox>> polls = new ArrayList<>();
        final List<Outbox> answers = new ArrayList<>();
        for (final Caller c : callers)
        {
            if (c == null)
            {
                continue;
            }
            synchronized (c)
            {
                for (final Batch b : c.unacked)
                {
                    if (!b.acked.isDone() && b.deadline - now <= 0)
                    {
                        ended.add(b.acked);
                    }
                }
                if (!c.open.hashes.isEmpty() && !c.open.acked.isDone() && c.open.deadline - now <= 0)
                {
                    ended.add(c.open.acked);
                }
                if (c.parked != null && c.parkedUntil - now <= 0)
                {
                    polls.add(c.parked);
                    answers.add(drainLocked(c));
                    c.parked = null;
                }
            }
        }
        expiredWaits.add(ended.size());
        ended.forEach(f -> f.complete(null));
        for (int i = 0; i < polls.size(); i++)
        {
            polls.get(i).complete(answers.get(i));
        }
        if (now - swept >= leaseNs)
        {
            swept = now;
            for (final Long h : entries.keySet())
            {
                // Decided under the entry's lock, so a lease granted meanwhile keeps it.
                entries.computeIfPresent(h, (k, e) -> e.expiry - now <= 0 && (e.pending == null || e.pending.isDone())
                    && (e.heat == null || !heat.hot(e.heat, now)) ? null : e);
            }
        }
        for (final Caller c : callers)
        {
            if (c != null)
            {
                synchronized (c)
                {
                    c.unacked.removeIf(b -> b.acked.isDone());
                }
            }
        }
    }

    /** Keys tracked now. */
    public int entries()
    {
        return entries.size();
    }

    /** Leases granted, refused (full, unknown caller), refused as write-hot; invalidations; waits; waits ended by a lease. */
    public record Stats(long grants, long refused, long writeHot, long invalidations, long waits, long expiredWaits,
        int entries)
    {
    }

    public Stats stats()
    {
        return new Stats(grants.sum(), refused.sum(), writeHot.sum(), invalidations.sum(), waits.sum(),
            expiredWaits.sum(), entries.size());
    }
}
