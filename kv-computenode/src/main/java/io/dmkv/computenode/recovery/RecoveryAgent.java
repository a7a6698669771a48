package io.dmkv.computenode.recovery;

import java.time.Duration;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.cluster.PeriodicStep;
import io.dmkv.computenode.cluster.RefusedKeys;

/**
 * Coordinated mode: recovers clients whose coordinator session expired. Every period, the live
 * client with the lowest id (one per cluster, picked without an extra election) lists the ids the
 * coordinator still reserves for dead clients, recovers each one from its log and releases its id.
 * A client whose session expired may still be finishing operations it started before (it stops
 * starting new ones at once, {@code CoordinatedCluster#checkLease}), so an id is recovered only
 * once it has been seen dead for {@code settle} (the operation timeout): by then none of its
 * operations is in flight. A recovery refused a key (a node re-keyed a region after this client
 * learnt its keys) learns the keys again and runs again at once ({@link RefusedKeys}); any other
 * failure is logged and tried again the next period; recovery is idempotent.
 */
public final class RecoveryAgent implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryAgent.class);

    private final CoordinatedCluster cluster;
    private final ClusterView view;
    private final ClientRecovery recovery;
    private final DeadMembers deaths;
    private final PeriodicStep timer;

    public RecoveryAgent(final CoordinatedCluster cluster, final ClusterView view, final ClientRecovery recovery,
        final Duration period, final Duration settle, final NanoClock clock)
    {
        this.cluster = cluster;
        this.view = view;
        this.recovery = recovery;
        this.deaths = new DeadMembers(clock, settle.toNanos());
        this.timer = new PeriodicStep("recovery-" + cluster.clientId(), period.toMillis(), period.toMillis(),
            this::check);
    }

    /** One check: recovers every client dead for long enough, if this client is the one that recovers. */
    public synchronized void check()
    {
        try
        {
            if (!DeadMembers.actsFor(cluster))
            {
                return;
            }
            for (final int id : deaths.deadLongEnough(cluster.deadClientIds()))
            {
                LOG.info("client {} recovers client {}, whose coordinator session expired", cluster.clientId(), id);
                RefusedKeys.retrying(view, "recovering client " + id, () -> recovery.recover(id));
                cluster.releaseClientId(id);
                deaths.forget(id);
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
        timer.close();
    }
}
