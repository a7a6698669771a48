package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * A live client's heartbeat: every period it WRITEs a rising counter into its log-head record on
 * the root region's primary ({@link ClientLogHeads#HEARTBEAT_OFFSET}), and moves each size
 * class's log head forward to the object whose operation has been in flight longest, so a walk
 * of the log after a crash starts where unfinished operations may be and is not cut short by
 * objects reused long ago. Recovery reads the counter twice, some periods apart, and refuses a client whose
 * counter moved: in static mode, where no coordinator says who is alive, this is what keeps an
 * operator (or a client handed a reused id) from recovering a client that is still running.
 */
public final class Heartbeat implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);
    /** Periods a stopped heartbeat must stay still before a client counts as gone. */
    public static final int SILENT_PERIODS = 3;

    private final ScheduledExecutorService timer;

    private Heartbeat(final ClusterView view, final VerbsClient client, final int clientId, final Duration period,
        final Consumer<long[]> heads)
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final UnsafeBuffer headWords = new UnsafeBuffer(new byte[SizeClasses.COUNT * 8]);
        final long[] oldest = new long[SizeClasses.COUNT];
        final long[] written = new long[SizeClasses.COUNT];
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
                heads.accept(oldest);
                // A refused key is learnt again at once: a heartbeat that stopped for a stale key would
                // leave this client looking dead to a static-mode recovery.
                RefusedKeys.retrying(view, "client " + clientId + "'s heartbeat", () ->
                {
                    final VerbBatch b = new VerbBatch();
                    b.write(view.replica(RegionLayout.ROOT_REGION_ID, 0), at, word, 0, 8);
                    for (int c = 0; c < SizeClasses.COUNT; c++)
                    {
                        if (oldest[c] != 0 && oldest[c] != written[c])
                        {
                            headWords.putLong(c * 8, oldest[c]);
                            final long head = (long)view.clientLogHeadsOffset() + ClientLogHeads.headOffset(clientId, c);
                            for (int j = 0; j < view.replicaCount(RegionLayout.ROOT_REGION_ID); j++)
                            {
                                b.write(view.replica(RegionLayout.ROOT_REGION_ID, j), head, headWords, c * 8, 8);
                            }
                        }
                    }
                    client.execute(b);
                });
                // Only once written: a head whose write was refused is written again at the next beat.
                System.arraycopy(oldest, 0, written, 0, oldest.length);
            }
            catch (final RuntimeException e)
            {
                LOG.debug("client {}: heartbeat not written: {}", clientId, e.getMessage());
            }
        }, 0, period.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Starts beating for {@code clientId} every {@code period}; {@code heads} fills, per size
     * class, the object in flight longest (0: none), as {@code EmbeddedLogWriter.oldestInFlight}.
     */
    public static Heartbeat start(final ClusterView view, final VerbsClient client, final int clientId,
        final Duration period, final Consumer<long[]> heads)
    {
        return new Heartbeat(view, client, clientId, period, heads);
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
