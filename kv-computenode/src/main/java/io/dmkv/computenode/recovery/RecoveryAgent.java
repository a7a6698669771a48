package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.CoordinatedCluster;

/**
 * Coordinated mode: recovers clients whose coordinator session expired. Every period, the live
 * client with the lowest id (one per cluster, picked without an extra election) lists the ids the
 * coordinator still reserves for dead clients, recovers each one from its log and releases its id.
 * A recovery that fails is logged and tried again the next period; recovery is idempotent.
 */
public final class RecoveryAgent implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryAgent.class);

    private final CoordinatedCluster cluster;
    private final ClientRecovery recovery;
    private final ScheduledExecutorService timer;

    public RecoveryAgent(final CoordinatedCluster cluster, final ClientRecovery recovery, final Duration period)
    {
        this.cluster = cluster;
        this.recovery = recovery;
        this.timer = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-recovery-" + cluster.clientId());
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One check: recovers every dead client if this client is the one that recovers. */
    public void check()
    {
        try
        {
            final List<Integer> live = cluster.liveClientIds();
            if (live.isEmpty() || live.get(0) != cluster.clientId())
            {
                return;
            }
            for (final int id : cluster.deadClientIds())
            {
                LOG.info("client {} recovers client {}, whose coordinator session expired", cluster.clientId(), id);
                recovery.recover(id);
                cluster.releaseClientId(id);
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
