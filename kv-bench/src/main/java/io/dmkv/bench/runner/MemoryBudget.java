package io.dmkv.bench.runner;

import java.util.Locale;

import io.dmkv.core.config.Sizes;

/**
 * One value of {@code kv bench --memory-budget}: a FlexKV proxy's byte budget
 * ({@code dmkv.proxy.memoryBudget}, docs/flexkv.md §8), given in bytes ({@code 2M}) or as a share
 * of what a proxy would need to hold its index copy and every value of its partitions
 * ({@code 25%}). That need is estimated from the workload with the accounting of §8, split evenly
 * over the proxy processes: (index slots × 16 + records × (value + key + 96 + key + 16)) ÷ proxies,
 * the value at the mean value size: an index-copy slot counts 16 bytes, empty or not, a cached
 * value key + value + 96, a learnt key key + 16. The index slots are those of the subtables the
 * records fill to under half ({@link ClusterSizing}, at least the index's first 4 subtables of
 * 86,016 slots): the copy alone is most of the need for small values, so a share below it caches
 * no value (the proxy logs so).
 *
 * @param text    as given, e.g. {@code 25%} or {@code 2M}.
 * @param percent the share, or NaN for an absolute size.
 * @param bytes   the absolute size, or -1 for a share.
 */
public record MemoryBudget(String text, double percent, long bytes)
{
    /** Bytes a cached value costs beyond its key and value (§8). */
    static final int VALUE_OVERHEAD = 96;
    /** Bytes a learnt key costs beyond its length (§8). */
    static final int KEY_OVERHEAD = 16;
    /** Bytes an index-copy slot costs (§8). */
    static final int SLOT_BYTES = 16;
    /** Largest share accepted. */
    private static final double MAX_PERCENT = 1000;

    /** Parses {@code 5%} (0 < share ≤ 1000%) or a size such as {@code 64M}, {@code 0} (no values cached). */
    public static MemoryBudget parse(final String text)
    {
        final String t = text.trim();
        if (t.endsWith("%"))
        {
            final double p;
            try
            {
                p = Double.parseDouble(t.substring(0, t.length() - 1));
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException("--memory-budget takes a share such as 25% or a size such as 64M, "
                    + "got '" + text + "'", e);
            }
            if (!(p > 0 && p <= MAX_PERCENT))
            {
                throw new IllegalArgumentException("--memory-budget share must be in (0%, 1000%], got '" + text + "'");
            }
            return new MemoryBudget(t, p, -1);
        }
        final long b;
        try
        {
            b = Sizes.parse(t);
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException("--memory-budget takes a share such as 25% or a size such as 64M, "
                + "got '" + text + "'", e);
        }
        if (b < 0)
        {
            throw new IllegalArgumentException("--memory-budget size must not be negative, got '" + text + "'");
        }
        return new MemoryBudget(t, Double.NaN, b);
    }

    /**
     * What one proxy needs for its index copy and all the values of its partitions:
     * ⌈(index slots × 16 + records × (mean value + key + 96 + key + 16)) ÷ proxies⌉.
     */
    public static long fullBytes(final Workload w, final int proxies)
    {
        final long meanValue = (w.minValueSize() + (long)w.maxValueSize()) / 2;
        final long total = ClusterSizing.indexSlots(w.records()) * SLOT_BYTES
            + w.records() * (meanValue + Keys.LENGTH + VALUE_OVERHEAD + Keys.LENGTH + KEY_OVERHEAD);
        return (total + proxies - 1) / proxies;
    }

    /** The budget in bytes for this workload and proxy count. */
    public long bytes(final Workload w, final int proxies)
    {
        return Double.isNaN(percent) ? bytes : Math.round(fullBytes(w, proxies) * percent / 100);
    }

    /** E.g. {@code 25% (1.2 MiB)} or {@code 2 MiB}. */
    public String describe(final long resolved)
    {
        return Double.isNaN(percent) ? Sizes.format(resolved)
            : String.format(Locale.ROOT, "%s (%s)", text, Sizes.format(resolved));
    }
}
