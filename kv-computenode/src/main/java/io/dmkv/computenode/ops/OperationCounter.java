package io.dmkv.computenode.ops;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.dmkv.InvalidInputException;
import io.dmkv.KvConfigException;
import io.dmkv.KvStats;
import io.dmkv.KvTimeoutException;
import io.dmkv.MemoryFullException;
import io.dmkv.NodeUnreachableException;
import io.dmkv.StoreClosedException;

/** Operations in flight now and at most so far, and how many finished. Thread-safe. */
public final class OperationCounter
{
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final LongAdder completed = new LongAdder();
    /** Failures by cause, indexed as {@link KvStats.Errors#CAUSES}. */
    private final LongAdder[] errors = new LongAdder[KvStats.Errors.CAUSES.size()];

    public OperationCounter()
    {
        for (int i = 0; i < errors.length; i++)
        {
            errors[i] = new LongAdder();
        }
    }

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

    /** An operation failed with {@code e} (as the caller gets it); returns {@code e}. */
    public RuntimeException failed(final RuntimeException e)
    {
        final int cause;
        if (e instanceof KvTimeoutException)
        {
            cause = 0;
        }
        else if (e instanceof NodeUnreachableException)
        {
            cause = 1;
        }
        else if (e instanceof MemoryFullException)
        {
            cause = 2;
        }
        else if (e instanceof InvalidInputException || e instanceof IllegalArgumentException)
        {
            cause = 3;
        }
        else if (e instanceof KvConfigException)
        {
            cause = 4;
        }
        else if (e instanceof StoreClosedException)
        {
            cause = 5;
        }
        else
        {
            cause = 6;
        }
        errors[cause].increment();
        return e;
    }

    public KvStats.Operations snapshot()
    {
        return new KvStats.Operations(completed.sum(), inFlight.get(), peak.get(), new KvStats.Errors(errors[0].sum(),
            errors[1].sum(), errors[2].sum(), errors[3].sum(), errors[4].sum(), errors[5].sum(), errors[6].sum()));
    }
}
