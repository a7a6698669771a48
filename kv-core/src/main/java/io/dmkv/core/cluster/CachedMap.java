package io.dmkv.core.cluster;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.agrona.concurrent.NanoClock;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's cached copy of one cluster map, kept current by a watch and confirmed by a read
 * at least every third of the map lease. {@link #current()} hands the map out only while the
 * coordinator confirmed it within the lease, so a member cut off from the coordinator stops
 * routing by it (reads included) before the cluster can have moved on without it. The cached
 * epoch never goes down.
 */
public final class CachedMap implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(CachedMap.class);

    private final CuratorFramework curator;
    private final MapName name;
    private final long leaseNanos;
    private final NanoClock clock;
    private final ScheduledExecutorService refresher;
    private final List<Consumer<VersionedMap>> listeners = new CopyOnWriteArrayList<>();
    /** One watcher object: ZooKeeper keeps one registration per watcher and path, however often it is re-armed. */
    private final Watcher watcher = this::changed;
    private volatile VersionedMap map;
    private volatile long confirmedAt;
    private volatile boolean closed;

    private CachedMap(final CuratorFramework curator, final MapName name, final Duration lease, final NanoClock clock)
    {
        this.curator = curator;
        this.name = name;
        this.leaseNanos = lease.toNanos();
        this.clock = clock;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-map-" + name.znode());
            t.setDaemon(true);
            return t;
        });
    }

    static CachedMap start(final CuratorFramework curator, final MapName name, final Duration lease,
        final NanoClock clock)
    {
        final CachedMap m = new CachedMap(curator, name, lease, clock);
        try
        {
            m.refresh();
        }
        catch (final RuntimeException e)
        {
            m.close();
            throw e;
        }
        if (m.map == null)
        {
            m.close();
            throw new CoordinationException("map " + name.znode() + " does not exist: the cluster is not formatted");
        }
        final long period = Math.max(1, lease.toMillis() / 3);
        m.refresher.scheduleWithFixedDelay(m::refreshQuietly, period, period, TimeUnit.MILLISECONDS);
        return m;
    }

    /**
     * The map, if the coordinator confirmed it within the lease.
     *
     * @throws MapLeaseExpiredException otherwise.
     */
    public VersionedMap current()
    {
        final long age = clock.nanoTime() - confirmedAt;
        if (age > leaseNanos)
        {
            throw new MapLeaseExpiredException("map " + name.znode() + " was last confirmed by the coordinator "
                + age / 1_000_000 + " ms ago, longer than the map lease of " + leaseNanos / 1_000_000
                + " ms: the coordinator is unreachable, so the map may be stale");
        }
        return map;
    }

    /** The last map seen, whether or not its lease holds (for status displays, never for routing). */
    public VersionedMap lastSeen()
    {
        return map;
    }

    /** Whether the lease holds now. */
    public boolean isConfirmed()
    {
        return clock.nanoTime() - confirmedAt <= leaseNanos;
    }

    /**
     * Reads the map now if its lease lapsed and the coordinator is connected: a confirmation the
     * refresher owed but a busy machine delayed. Does nothing while the lease holds, and nothing
     * (the lease stays lapsed) when the coordinator is not connected, rather than wait for it.
     */
    public void reconfirm()
    {
        if (!isConfirmed() && !closed && curator.getZookeeperClient().isConnected())
        {
            refresh();
        }
    }

    /** Calls {@code listener} with every newer map (on the refresher thread). */
    public void onChange(final Consumer<VersionedMap> listener)
    {
        listeners.add(listener);
    }

    /**
     * Reads the map now (re-arming the watch) and, if it is at least as new as the cached one,
     * confirms it from the moment the read was sent. Call after a refusal that suggests the
     * map moved on.
     */
    public void refresh()
    {
        final long sentAt = clock.nanoTime();
        final Stat stat = new Stat();
        final byte[] data = ZkCalls.call("reading map " + name.znode(), () ->
        {
            try
            {
                return curator.getData().storingStatIn(stat).usingWatcher(watcher).forPath(ZnodePaths.map(name));
            }
            catch (final org.apache.zookeeper.KeeperException.NoNodeException e)
            {
                return null;
            }
        });
        if (data == null)
        {
            return;
        }
        final VersionedMap read = VersionedMap.decode(name, data, stat.getVersion());
        final VersionedMap old = map;
        if (old == null || read.epoch() >= old.epoch())
        {
            map = read;
            confirmedAt = sentAt;
            if (old != null && read.epoch() > old.epoch())
            {
                listeners.forEach(l -> l.accept(read));
            }
        }
    }

    private void changed(final org.apache.zookeeper.WatchedEvent event)
    {
        if (!closed && event.getType() != Watcher.Event.EventType.None)
        {
            try
            {
                refresher.execute(this::refreshQuietly);
            }
            catch (final java.util.concurrent.RejectedExecutionException ignored)
            {
                // Closed meanwhile.
            }
        }
    }

    private void refreshQuietly()
    {
        try
        {
            refresh();
        }
        catch (final CoordinationException e)
        {
            LOG.debug("map {} not confirmed: {}", name.znode(), e.getMessage());
        }
    }

    @Override
    public void close()
    {
        closed = true;
        refresher.shutdownNow();
    }
}
