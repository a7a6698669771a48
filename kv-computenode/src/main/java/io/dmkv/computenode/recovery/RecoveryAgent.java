package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.CoordinatedCluster;

/**
 * Coordinated mode: recovers clients whose coordinator session expired. Every period, the live
 * client with the lowest id (one per cluster, picked without an extra election) lists the ids the
 * coordinator still reserves for dead clients, recovers each one from its log and releases its id.
 * A client whose session expired may still be finishing operations it started before (it stops
 * starting new ones at once, {@code CoordinatedCluster#checkLease}), so an id is recovered only
 * once it has been seen dead for {@code settle} (the operation timeout): by then none of its
 * operations is in flight. A recovery that fails is logged and tried again the next period;
 * recovery is idempotent.
 */
public final class RecoveryAgent implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryAgent.class);

    private final CoordinatedCluster cluster;
    private final ClientRecovery recovery;
    private final ScheduledExecutorService timer;
    private final NanoClock clock;
    private final long settleNs;
    private final Map<Integer, Long> seenDead = new HashMap<>();

    public RecoveryAgent(final CoordinatedCluster cluster, final ClientRecovery recovery, final Duration period,
        final Duration settle, final NanoClock clock)
    {
        this.cluster = cluster;
        this.recovery = recovery;
        this.clock = clock;
        this.settleNs = settle.toNanos();
        this.timer = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-recovery-" + cluster.clientId());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One check: recovers every client dead for long enough, if this client is the one that recovers. */
    public synchronized void check()
    {
        try
        {
            final List<Integer> live = cluster.liveClientIds();
            if (live.isEmpty() || live.get(0) != cluster.clientId())
            {
                return;
            }
            final long now = clock.nanoTime();
            final List<Integer> dead = cluster.deadClientIds();
            seenDead.keySet().retainAll(dead);
            for (final int id : dead)
            {
                final long since = seenDead.computeIfAbsent(id, k -> now);
                if (now - since < settleNs)
                {
                    continue;
                }
                LOG.info("client {} recovers client {}, whose coordinator session expired", cluster.clientId(), id);
                recovery.recover(id);
                cluster.releaseClientId(id);
                seenDead.remove(id);
            }
        }
        catch (final RuntimeException e)
        {
            LOG.warn("recovering dead clients failed (tried again in a period): {}", e.toString());
        }
    }

    @Override
    public void close()
    {
        timer.shutdownNow();
    }
}
