package io.dmkv.rdma.security;

import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;

/**
 * Logs refusals of peers (a failed hello, a refused verb) at most once per peer host per period,
 * and other repeated failures (a request a node answers with an error) at most once per kind per
 * period, so a flood cannot fill the log: the next line logged says how many were not
 * logged, and the count of every event is kept. Remembers a bounded number of hosts and kinds.
 */
public final class RefusalLog
{
    private static final int SOURCES = 1024;

    private final Logger log;
    private final long periodNs;
    private final NanoClock clock;
    private final LongAdder refusals = new LongAdder();
    /** Per host or kind: when it was last logged, and how many since were not. */
    private final Map<String, long[]> lastLogged = new LinkedHashMap<>(16, 0.75f, true)
    {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(final Map.Entry<String, long[]> eldest)
        {
            return size() > SOURCES;
        }
    };

    public RefusalLog(final Logger log, final long period, final TimeUnit unit)
    {
        this(log, unit.toNanos(period), SystemNanoClock.INSTANCE);
    }

    public RefusalLog(final Logger log, final long periodNs, final NanoClock clock)
    {
        this.log = log;
        this.periodNs = periodNs;
        this.clock = clock;
    }

    /**
     * Counts a refusal of {@code peer} and logs {@code what} with the peer's address unless this
     * host was logged within the period (then says how many were not logged).
     */
    public void refused(final SocketAddress peer, final String what)
    {
        note(host(peer), what + " from " + peer, "from this host");
    }

    /**
     * Counts a failure of {@code kind} (any key the caller chooses, such as the exception's class)
     * and logs {@code what} unless a failure of that kind was logged within the period (then says
     * how many were not logged).
     */
    public void failed(final String kind, final String what)
    {
        note(kind, what, "of this kind");
    }

    private void note(final String source, final String message, final String alike)
    {
        refusals.increment();
        final long now = clock.nanoTime();
        final long suppressed;
        synchronized (lastLogged)
        {
            final long[] last = lastLogged.get(source);
            if (last != null && now - last[0] < periodNs)
            {
                last[1]++;
                return;
            }
            suppressed = last == null ? 0 : last[1];
            lastLogged.put(source, new long[] {now, 0});
        }
        if (suppressed > 0)
        {
            log.warn("{} ({} more {} not logged in the last {} s)", message, suppressed, alike,
                TimeUnit.NANOSECONDS.toSeconds(periodNs));
        }
        else
        {
            log.warn("{}", message);
        }
    }

    /** Events counted (refusals and failures), logged or not. */
    public long count()
    {
        return refusals.sum();
    }

    private static String host(final SocketAddress a)
    {
        if (a instanceof java.net.InetSocketAddress i)
        {
            return i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
        }
        return String.valueOf(a);
    }
}
