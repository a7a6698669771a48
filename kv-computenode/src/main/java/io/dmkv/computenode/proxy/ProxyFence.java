package io.dmkv.computenode.proxy;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this proxy may serve its partitions now: the fencing of a proxy cut off from the
 * coordinator (docs/flexkv.md §11, "A proxy cut off from the coordinator"). The proxy serves a
 * request, grants a cache lease (a lease travels only with an answer served) or posts a
 * write-through only while {@link #admits()}:
 * <ul>
 * <li>it admits until {@code sentAt + lease}, where {@code sentAt} is when the last read of the
 * partition map that the coordinator answered, under the session the proxy loaded its
 * partitions in, was sent ({@link #confirm}). That session's expiry, which is what lets the
 * cluster give the partitions to a successor, comes at least a session timeout after the
 * coordinator answered, so at least {@code sessionTimeout - lease} after the fence closed;</li>
 * <li>it stops admitting at once when the coordinator connection is suspended or lost
 * ({@link #suspended()}, {@link #lost()}): whichever comes first, the clock or the event;</li>
 * <li>after a suspension on the same session, the next confirmation opens it again (no one can
 * have taken the partitions: that needs the session's expiry);</li>
 * <li>once the session changed (lost, or a confirmation read under another session) it is
 * {@link #stale()} for good: the partitions may have moved and been written meanwhile, so the
 * proxy drops them and leaves the cluster's proxies.</li>
 * </ul>
 * The clock is the proxy's monotonic clock (injectable), so a process stopped (SIGSTOP) or paused
 * past its deadline refuses from its first instruction after it resumes, before any event arrives.
 */
public final class ProxyFence
{
    private static final Logger LOG = LoggerFactory.getLogger(ProxyFence.class);

    private final NanoClock clock;
    private final long leaseNs;
    private final LongSupplier session;
    private final Runnable confirmRead;
    private final String name;
    private final LongAdder refused = new LongAdder();
    /** Admits while the clock is before it; 0 with {@link #opened} false: never opened yet. */
    private volatile long deadline;
    private volatile boolean opened;
    private volatile boolean stale;
    /** Guarded by this: bumped by every event, so a confirmation that raced one does not count. */
    private long generation;
    /** The session the partitions served were loaded under. */
    private final long loadedIn;

    /**
     * @param leaseNs     how long a confirmation admits, from when its read was sent: below the
     *                    session timeout (the map lease: the settings check it).
     * @param session     the coordinator session's id now (0 before one is connected).
     * @param confirmRead a read of the partition map (blocking; throws if unanswered).
     */
    public ProxyFence(final String name, final NanoClock clock, final long leaseNs, final LongSupplier session,
        final Runnable confirmRead)
    {
        this.name = name;
        this.clock = clock;
        this.leaseNs = leaseNs;
        this.session = session;
        this.confirmRead = confirmRead;
        this.loadedIn = session.getAsLong();
    }

    /** True while this proxy may serve, lease and write back its partitions. */
    public boolean admits()
    {
        if (isOpen())
        {
            return true;
        }
        refused.increment();
        return false;
    }

    /** {@link #admits()} without counting a refusal. */
    public boolean isOpen()
    {
        return opened && clock.nanoTime() - deadline < 0;
    }

    /** The coordinator stopped answering (Curator SUSPENDED): refuse at once, until a confirmation on the same session. */
    public synchronized void suspended()
    {
        generation++;
        close("the coordinator connection is suspended");
    }

    /** The session expired (Curator LOST): refuse for good. */
    public synchronized void lost()
    {
        generation++;
        stale = true;
        close("its coordinator session was lost");
    }

    private void close(final String why)
    {
        if (isOpen())
        {
            LOG.warn("proxy {} stops serving its partitions: {}", name, why);
        }
        deadline = clock.nanoTime();
    }

    /**
     * One confirmation round: reads the partition map and, if the coordinator answered under the
     * session the partitions were loaded in with no event meanwhile, admits until one lease after
     * the read was sent. Blocking; a read that fails leaves the fence as it was (it closes by the
     * clock).
     */
    public void keep()
    {
        final long g;
        synchronized (this)
        {
            g = generation;
        }
        final long before = session.getAsLong();
        final long sentAt = clock.nanoTime();
        confirmRead.run();
        confirm(g, sentAt, before, session.getAsLong());
    }

    /**
     * A map read sent at {@code sentAt} was answered, the session being {@code before} when it was
     * sent and {@code after} once answered; {@code generationBefore} is {@link #generation()} before
     * it was sent.
     *
     * @return true if it extended the fence.
     */
    synchronized boolean confirm(final long generationBefore, final long sentAt, final long before, final long after)
    {
        if (before != loadedIn || after != loadedIn)
        {
            if (!stale)
            {
                stale = true;
                generation++;
                close("its coordinator session changed");
            }
            return false;
        }
        if (stale || generationBefore != generation)
        {
            return false;
        }
        final long until = sentAt + leaseNs;
        if (!opened || until - deadline > 0)
        {
            if (opened && clock.nanoTime() - deadline >= 0)
            {
                LOG.info("proxy {} serves its partitions again: the coordinator confirmed its session", name);
            }
            deadline = until;
            opened = true;
        }
        return true;
    }

    /** The count of events so far (for {@link #confirm}). */
    synchronized long generation()
    {
        return generation;
    }

    /** True once the session changed: the partitions may have been taken and written; never serve them again. */
    public boolean stale()
    {
        return stale;
    }

    /** How long a confirmation admits. */
    public long leaseNs()
    {
        return leaseNs;
    }

    /** Admission checks refused so far (a write is checked when it finds its subtable and before its write-through). */
    public long refused()
    {
        return refused.sum();
    }
}
