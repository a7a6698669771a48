package io.dmkv.computenode.ops;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.dmkv.KvStats;

/** Operations in flight now and at most so far, and how many finished. Thread-safe. */
public final class OperationCounter
{
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final LongAdder completed = new LongAdder();

    /** An operation started; returns how many are in flight with it. */
    public long started()
    {
        final long now = inFlight.incrementAndGet();
        long p = peak.get();
        while (now > p && !peak.compareAndSet(p, now))
        {
            p = peak.get();
        }
        return now;
    }

    /** An operation finished, successfully or not. */
    public void finished()
    {
        inFlight.decrementAndGet();
        completed.increment();
    }

    public long inFlight()
    {
        return inFlight.get();
    }

    public long peakInFlight()
    {
        return peak.get();
    }

    public KvStats.Operations snapshot()
    {
        return new KvStats.Operations(completed.sum(), inFlight.get(), peak.get());
    }
}
