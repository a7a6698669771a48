package io.dmkv.computenode.cluster;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.CoordinationException;

/**
 * A step run on a thread of its own every period and whenever {@link #kick()}ed (a map changed):
 * the partition manager's and a proxy's hand-over steps, the recovery and fail-over agents'
 * checks. A step that fails because the coordinator is out of reach is tried again at the next
 * period; any other failure is logged.
 */
public final class PeriodicStep implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(PeriodicStep.class);

    private final String name;
    private final Runnable step;
    private final ScheduledExecutorService thread;

    /** Runs {@code step} now and then every {@code periodMs}. */
    public PeriodicStep(final String name, final long periodMs, final Runnable step)
    {
        this(name, 0, periodMs, step);
    }

    /** Runs {@code step} after {@code firstMs} and then every {@code periodMs}. */
    public PeriodicStep(final String name, final long firstMs, final long periodMs, final Runnable step)
    {
        this.name = name;
        this.step = step;
        this.thread = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-" + name);
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::runQuietly, firstMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /** Runs the step now, on its thread. */
    public void kick()
    {
        try
        {
            thread.execute(this::runQuietly);
        }
        catch (final RejectedExecutionException ignored)
        {
            // Closed.
        }
    }

    private void runQuietly()
    {
        try
        {
            step.run();
        }
        catch (final CoordinationException e)
        {
            LOG.debug("{}: step deferred: {}", name, e.getMessage());
        }
        catch (final RuntimeException e)
        {
            LOG.warn("{}: step failed (tried again): {}", name, e.toString());
        }
    }

    /** Stops it, waiting a little for a step under way to end. */
    @Override
    public void close()
    {
        thread.shutdownNow();
        try
        {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
