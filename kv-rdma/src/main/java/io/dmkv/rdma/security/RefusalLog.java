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
 * so a flood cannot fill the log; the count of every refusal is kept. Remembers a bounded number
 * of hosts.
 */
public final class RefusalLog
{
    private static final int HOSTS = 1024;

    private final Logger log;
    private final long periodNs;
    private final NanoClock clock;
    private final LongAdder refusals = new LongAdder();
    private final Map<String, long[]> lastLogged = new LinkedHashMap<>(16, 0.75f, true)
    {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(final Map.Entry<String, long[]> eldest)
        {
            return size() > HOSTS;
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
        refusals.increment();
        final String host = host(peer);
        final long now = clock.nanoTime();
        final long suppressed;
        synchronized (lastLogged)
        {
            final long[] last = lastLogged.get(host);
            if (last != null && now - last[0] < periodNs)
            {
                last[1]++;
                return;
            }
            suppressed = last == null ? 0 : last[1];
            lastLogged.put(host, new long[] {now, 0});
        }
        if (suppressed > 0)
        {
            log.warn("{} from {} ({} more from this host not logged in the last {} s)", what, peer, suppressed,
                TimeUnit.NANOSECONDS.toSeconds(periodNs));
        }
        else
        {
            log.warn("{} from {}", what, peer);
        }
    }

    /** Refusals counted, logged or not. */
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
