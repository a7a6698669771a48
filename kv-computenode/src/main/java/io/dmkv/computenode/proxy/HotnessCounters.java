package io.dmkv.computenode.proxy;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Operations routed per partition since the last {@link #drain}, counted on the hot path of
 * every operation ({@link PartitionRouter}): one atomic add, no allocation, no lock. Threads
 * count into one of {@value #STRIPES} stripes by their id, so threads hammering one hot
 * partition rarely share a counter's cache line (a stripe is P longs long, P = 64 by default:
 * 512 bytes apart).
 */
final class HotnessCounters
{
    static final int STRIPES = 8;

    private final int partitions;
    private final AtomicLongArray counts;

    HotnessCounters(final int partitions)
    {
        this.partitions = partitions;
        this.counts = new AtomicLongArray(STRIPES * partitions);
    }

    int partitions()
    {
        return partitions;
    }

    /** Counts one operation on partition p. */
    void count(final int p)
    {
        counts.getAndIncrement((int)(Thread.currentThread().getId() & (STRIPES - 1)) * partitions + p);
    }

    /** Adds the counts since the last drain into {@code into} (by partition) and starts again from 0. */
    void drain(final long[] into)
    {
        for (int s = 0; s < STRIPES; s++)
        {
            for (int p = 0; p < partitions; p++)
            {
                final int i = s * partitions + p;
                if (counts.get(i) != 0)
                {
                    into[p] += counts.getAndSet(i, 0);
                }
            }
        }
    }
}
