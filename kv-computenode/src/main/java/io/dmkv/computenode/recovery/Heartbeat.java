package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * A live client's heartbeat: every period it WRITEs a rising counter into its log-head record on
 * the root region's primary ({@link ClientLogHeads#HEARTBEAT_OFFSET}), one verb posted without
 * waiting. Recovery reads the counter twice, some periods apart, and refuses a client whose
 * counter moved: in static mode, where no coordinator says who is alive, this is what keeps an
 * operator (or a client handed a reused id) from recovering a client that is still running.
 */
public final class Heartbeat implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);
    /** Periods a stopped heartbeat must stay still before a client counts as gone. */
    public static final int SILENT_PERIODS = 3;

    private final ScheduledExecutorService timer;

    private Heartbeat(final ClusterView view, final VerbsClient client, final int clientId, final Duration period)
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final long at = address(view, clientId);
        final long[] beats = {System.nanoTime()};
        timer = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-heartbeat-" + clientId);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() ->
        {
            try
            {
                word.putLong(0, ++beats[0]);
                final VerbBatch b = new VerbBatch();
                b.write(view.replica(RegionLayout.ROOT_REGION_ID, 0), at, word, 0, 8);
                client.execute(b);
            }
            catch (final RuntimeException e)
            {
                LOG.debug("client {}: heartbeat not written: {}", clientId, e.getMessage());
            }
        }, 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Starts beating for {@code clientId} every {@code period}. */
    public static Heartbeat start(final ClusterView view, final VerbsClient client, final int clientId,
        final Duration period)
    {
        return new Heartbeat(view, client, clientId, period);
    }

    /** The counter of {@code clientId} as the primary holds it now (0: never beat, or closed). */
    public static long read(final ClusterView view, final VerbsClient client, final int clientId)
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        b.read(view.replica(RegionLayout.ROOT_REGION_ID, 0), address(view, clientId), word, 0, 8);
        client.execute(b);
        return word.getLong(0);
    }

    /**
     * Waits {@link #SILENT_PERIODS} periods and says whether {@code clientId}'s counter stayed
     * where it was: false means the client is alive.
     */
    public static boolean isSilent(final ClusterView view, final VerbsClient client, final int clientId,
        final Duration period)
    {
        final long before = read(view, client, clientId);
        try
        {
            Thread.sleep(period.toMillis() * SILENT_PERIODS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while watching client " + clientId + "'s heartbeat", e);
        }
        return read(view, client, clientId) == before;
    }

    private static long address(final ClusterView view, final int clientId)
    {
        return (long)view.clientLogHeadsOffset() + ClientLogHeads.recordOffset(clientId)
            + ClientLogHeads.HEARTBEAT_OFFSET;
    }

    /** Stops beating (the record is cleared by the close that follows). */
    @Override
    public void close()
    {
        timer.shutdownNow();
        try
        {
            timer.awaitTermination(1, TimeUnit.SECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
