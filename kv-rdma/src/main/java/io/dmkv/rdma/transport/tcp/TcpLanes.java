package io.dmkv.rdma.transport.tcp;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsException;

/**
 * A channel's lanes ({@link TcpLane}): one per thread that made inline round trips, opened on
 * its first, at most {@link #MAX_LANES}; at the limit the lanes of threads that ended are closed
 * first. None with TLS. A lane that fails to open (a node refusing hellos) keeps the channel from
 * trying again for a second, so a refusing node costs one connection attempt a second, not one
 * per call. The channel's sweep expires them and its close closes them.
 */
final class TcpLanes
{
    /**
     * Lanes per channel at most (threads beyond post through the event loop); 0 turns inline
     * round trips off. Each is a connection the memory node serves.
     */
    static final int MAX_LANES = Integer.getInteger("dmkv.tcp.lanes", 64);
    private static final Logger LOG = LoggerFactory.getLogger(TcpLanes.class);

    private final TcpVerbsChannel channel;
    private final String endpoint;
    private final ClientOptions options;
    private final NanoClock clock;
    private final boolean allowed;
    private final Set<TcpLane> open = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<TcpLane> mine = new ThreadLocal<>();
    private volatile long noLanesUntil;

    TcpLanes(final TcpVerbsChannel channel, final String endpoint, final ClientOptions options)
    {
        this.channel = channel;
        this.endpoint = endpoint;
        this.options = options;
        this.clock = options.clock();
        this.allowed = options.tls() == null && MAX_LANES > 0;
    }

    /** The calling thread's lane, opened now if it has none; null if it may not have one now. */
    TcpLane forThread()
    {
        final TcpLane lane = mine.get();
        if (lane != null)
        {
            if (lane.usable())
            {
                return lane;
            }
            mine.remove();
        }
        if (!allowed || clock.nanoTime() - noLanesUntil < 0)
        {
            return null;
        }
        if (open.size() >= MAX_LANES)
        {
            open.forEach(TcpLane::closeIfOrphaned);
            if (open.size() >= MAX_LANES)
            {
                return null;
            }
        }
        try
        {
            final TcpLane opened = TcpLane.open(channel, this, endpoint, options);
            mine.set(opened);
            return opened;
        }
        catch (final VerbsException e)
        {
            LOG.debug("no lane to {}: {}", endpoint, e.getMessage());
            noLanesUntil = clock.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            return null;
        }
    }

    int count()
    {
        return open.size();
    }

    void opened(final TcpLane lane)
    {
        open.add(lane);
        if (channel.isClosed())
        {
            lane.close();
        }
    }

    void closed(final TcpLane lane)
    {
        open.remove(lane);
    }

    /** Fails the round trips past their deadline at {@code now} (by closing their lanes). */
    void expire(final long now)
    {
        for (final TcpLane lane : open)
        {
            lane.expireIfOverdue(now);
        }
    }

    void closeAll()
    {
        open.forEach(TcpLane::close);
    }
}
