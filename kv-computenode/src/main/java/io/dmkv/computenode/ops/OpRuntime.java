package io.dmkv.computenode.ops;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.NanoClock;

import io.dmkv.rdma.VerbsClient;

/**
 * What every asynchronous operation of one store shares: the verbs client it posts to, the
 * clock, one timer thread for back-offs and waits (a waiting operation holds no thread), and one
 * maintenance thread for the rare steps kept as blocking code (a subtable split, a wait on
 * another client's split). No operation step ever sleeps or spins.
 */
public final class OpRuntime implements AutoCloseable
{
    private static final AtomicInteger RUNTIMES = new AtomicInteger();

    private final VerbsClient client;
    private final NanoClock clock;
    private final ScheduledExecutorService timer;
    private final ExecutorService maintenance;

    public OpRuntime(final VerbsClient client, final NanoClock clock)
    {
        this.client = client;
        this.clock = clock;
        final int id = RUNTIMES.incrementAndGet();
        final ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "dmkv-timer-" + id));
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.maintenance = Executors.newSingleThreadExecutor(r -> daemon(r, "dmkv-maintenance-" + id));
    }

    private static Thread daemon(final Runnable r, final String name)
    {
        final Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public VerbsClient client()
    {
        return client;
    }

    public NanoClock clock()
    {
        return clock;
    }

    /** Runs {@code task} on the timer thread after {@code delayNs} (at least 1 µs). */
    public void schedule(final Runnable task, final long delayNs)
    {
        timer.schedule(task, Math.max(delayNs, 1_000), TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} on the maintenance thread (blocking work that must stay off completion threads). */
    public void offload(final Runnable task)
    {
        maintenance.execute(task);
    }

    @Override
    public void close()
    {
        timer.shutdownNow();
        maintenance.shutdownNow();
    }
}
