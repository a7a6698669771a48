package io.dmkv.computenode.proxy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import org.agrona.concurrent.NanoClock;

import io.dmkv.computenode.cluster.PeriodicStep;

/**
 * A compute node's view of partition hotness (docs/flexkv.md §7): once a period it drains the
 * router's {@link HotnessCounters}, turns the counts into operations per second over the time
 * that really passed, smooths them with an EWMA ({@code h = a * rate + (1 - a) * h}) and
 * publishes the rounded values (to the node's member record, where the partition manager reads
 * them) when they changed. Listeners (the proxy's two-level memory) get the smoothed values too.
 * A test drives the periods itself with {@link #tick()} and a long period.
 */
public final class HotnessDetector implements AutoCloseable
{
    private final HotnessCounters counters;
    private final double alpha;
    private final NanoClock clock;
    private final Consumer<List<Long>> publish;
    private final List<Consumer<double[]>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final double[] smoothed;
    private final long[] drained;
    private List<Long> published = List.of();
    private long last;
    private final PeriodicStep timer;

    HotnessDetector(final HotnessCounters counters, final double alpha, final long periodMs, final NanoClock clock,
        final Consumer<List<Long>> publish)
    {
        this.counters = counters;
        this.alpha = alpha;
        this.clock = clock;
        this.publish = publish;
        this.smoothed = new double[counters.partitions()];
        this.drained = new long[counters.partitions()];
        this.last = clock.nanoTime();
        this.timer = new PeriodicStep("hotness", periodMs, periodMs, this::tick);
    }

    /** Calls {@code listener} with the smoothed hotness at the end of every period. */
    void onPeriod(final Consumer<double[]> listener)
    {
        listeners.add(listener);
    }

    /** Ends a period now: smooths, publishes what changed, tells the listeners. */
    public synchronized void tick()
    {
        final long now = clock.nanoTime();
        final double seconds = Math.max(1e-3, (now - last) / 1e9);
        last = now;
        Arrays.fill(drained, 0);
        counters.drain(drained);
        final List<Long> rounded = new ArrayList<>(smoothed.length);
        boolean any = false;
        for (int p = 0; p < smoothed.length; p++)
        {
            smoothed[p] = alpha * (drained[p] / seconds) + (1 - alpha) * smoothed[p];
            final long r = Math.round(smoothed[p]);
            rounded.add(r);
            any |= r != 0;
        }
        // The listeners first: this node's own memory does not wait on the coordinator.
        final double[] copy = smoothed.clone();
        listeners.forEach(l -> l.accept(copy));
        final List<Long> next = any ? rounded : List.of();
        if (!next.equals(published))
        {
            publish.accept(next);
            published = next;
        }
    }

    /** The smoothed operations per second by partition, as of the last period. */
    public synchronized double[] hotness()
    {
        return smoothed.clone();
    }

    @Override
    public void close()
    {
        timer.close();
    }
}
