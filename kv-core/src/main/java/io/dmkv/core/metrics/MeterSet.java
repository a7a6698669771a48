package io.dmkv.core.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * The meters of one owner (a store, a memory node) in a shared registry, removed together when
 * the owner closes. Every meter reads a counter the owner keeps anyway, when it is read: nothing
 * is added to the owner's hot path.
 */
public final class MeterSet implements AutoCloseable
{
    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();

    /** Meters in {@code registry} (null: none are made) tagged with {@code tags} (key, value, ...). */
    public MeterSet(final MeterRegistry registry, final String... tags)
    {
        this.registry = registry;
        this.tags = Tags.of(tags);
    }

    /** A monotonic count read from {@code source} by {@code f}; {@code extraTags} as key, value, .... */
    public <T> MeterSet counter(final String name, final String description, final T source,
        final ToDoubleFunction<T> f, final String... extraTags)
    {
        if (registry != null)
        {
            meters.add(FunctionCounter.builder(name, source, f).description(description).tags(tags)
                .tags(extraTags).register(registry));
        }
        return this;
    }

    /** A value that goes up and down, read from {@code source} by {@code f}. */
    public <T> MeterSet gauge(final String name, final String description, final T source,
        final ToDoubleFunction<T> f, final String... extraTags)
    {
        if (registry != null)
        {
            meters.add(Gauge.builder(name, source, f).description(description).tags(tags).tags(extraTags)
                .strongReference(true).register(registry));
        }
        return this;
    }

    @Override
    public void close()
    {
        if (registry != null)
        {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }
}
