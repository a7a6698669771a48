package io.dmkv.core.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * The meters of one owner (a store, a memory node) in an export's shared registry, removed
 * together when the owner closes. Every meter reads a counter the owner keeps anyway, when it is
 * read: nothing is added to the owner's hot path. The meters are registered when the export has a
 * registry, which for a lazy JMX export may be after they are declared ({@link MetricsExport}).
 */
public final class MeterSet implements AutoCloseable
{
    private final MetricsExport export;
    private final Tags tags;
    private final List<Function<MeterRegistry, Meter>> declared = new ArrayList<>();
    private final List<Meter> meters = new ArrayList<>();
    private MeterRegistry registry;
    private boolean closed;

    /** Meters for {@code export} (none are made for {@link MetricsExport.Kind#NONE}) tagged with {@code tags} (key, value, ...). */
    public MeterSet(final MetricsExport export, final String... tags)
    {
        this.export = export;
        this.tags = Tags.of(tags);
        export.attach(this);
    }

    /** A monotonic count read from {@code source} by {@code f}; {@code extraTags} as key, value, .... */
    public <T> MeterSet counter(final String name, final String description, final T source,
        final ToDoubleFunction<T> f, final String... extraTags)
    {
        return declare(r -> FunctionCounter.builder(name, source, f).description(description).tags(tags)
            .tags(extraTags).register(r));
    }

    /** A value that goes up and down, read from {@code source} by {@code f}. */
    public <T> MeterSet gauge(final String name, final String description, final T source,
        final ToDoubleFunction<T> f, final String... extraTags)
    {
        return declare(r -> Gauge.builder(name, source, f).description(description).tags(tags).tags(extraTags)
            .strongReference(true).register(r));
    }

    private synchronized MeterSet declare(final Function<MeterRegistry, Meter> meter)
    {
        if (export.kind() != MetricsExport.Kind.NONE && !closed)
        {
            declared.add(meter);
            if (registry != null)
            {
                meters.add(meter.apply(registry));
            }
        }
        return this;
    }

    /** Registers the declared meters in {@code r}, the export's registry, once it exists. */
    synchronized void bind(final MeterRegistry r)
    {
        if (registry == null && !closed)
        {
            registry = r;
            declared.forEach(m -> meters.add(m.apply(r)));
        }
    }

    @Override
    public void close()
    {
        export.detach(this);
        synchronized (this)
        {
            closed = true;
            if (registry != null)
            {
                meters.forEach(registry::remove);
            }
            meters.clear();
            declared.clear();
        }
    }
}
