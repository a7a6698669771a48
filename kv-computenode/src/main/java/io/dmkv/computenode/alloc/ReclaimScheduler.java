package io.dmkv.computenode.alloc;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@link SlabAllocator}'s background reclaim. Injectable so that tests drive reclaim
 * themselves ({@link #MANUAL}, then {@link SlabAllocator#reclaimNow()}) instead of waiting for
 * a timer.
 */
@FunctionalInterface
public interface ReclaimScheduler
{
    /** Never runs anything: the owner of the allocator calls {@link SlabAllocator#reclaimNow()}. */
    ReclaimScheduler MANUAL = (task, period) -> () ->
    {
    };

    /**
     * Runs {@code task} every {@code period} until the returned handle is cancelled. The task may
     * take a while (it reads remote bitmaps); it must not run concurrently with itself.
     */
    Handle schedule(Runnable task, Duration period);

    /** A scheduled task. */
    @FunctionalInterface
    interface Handle
    {
        /** Stops further runs; a run in progress finishes. */
        void cancel();
    }

    /** A scheduler with its own daemon thread, named {@code threadName}, stopped on cancel. */
    static ReclaimScheduler daemonThread(final String threadName)
    {
        return (task, period) ->
        {
            final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r ->
            {
                final Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            });
            final long nanos = period.toNanos();
            executor.scheduleWithFixedDelay(task, nanos, nanos, TimeUnit.NANOSECONDS);
            return executor::shutdown;
        };
    }
}
