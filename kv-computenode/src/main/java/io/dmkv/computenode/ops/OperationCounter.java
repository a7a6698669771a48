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

/**
 * Operations in flight now and at most so far, and how many finished; the store's admission
 * ({@link #tryStart}) counts with them. Thread-safe.
 *
 * <p>One word holds both the operations in flight (low {@value #IN_FLIGHT_BITS} bits) and those
 * finished (the rest), so starting an operation and finishing one are one atomic instruction
 * each: a blocking get on {@code local} takes well under a microsecond, and the semaphore, the
 * counter and the adder this replaces were five.
 */
public final class OperationCounter
{
    static final int IN_FLIGHT_BITS = 24;
    private static final long IN_FLIGHT_MASK = (1L << IN_FLIGHT_BITS) - 1;
    private static final long ONE_FINISHED = 1L << IN_FLIGHT_BITS;

    private final AtomicLong state = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    /** Failures by cause, indexed as {@link KvStats.Errors#CAUSES}. */
    private final LongAdder[] errors = new LongAdder[KvStats.Errors.CAUSES.size()];

    public OperationCounter()
    {
        for (int i = 0; i < errors.length; i++)
        {
            errors[i] = new LongAdder();
        }
    }

    /**
     * Starts an operation if fewer than {@code max} are in flight: true if it started (it must
     * then {@link #finished}), false having changed nothing.
     */
    public boolean tryStart(final int max)
    {
        final long before = state.getAndIncrement();
        final long now = (before & IN_FLIGHT_MASK) + 1;
        if (now > max)
        {
            state.getAndDecrement();
            return false;
        }
        long p = peak.get();
        while (now > p && !peak.compareAndSet(p, now))
        {
            p = peak.get();
        }
        return true;
    }

    /** An operation finished, successfully or not. */
    public void finished()
    {
        state.getAndAdd(ONE_FINISHED - 1);
    }

    public long inFlight()
    {
        return state.get() & IN_FLIGHT_MASK;
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
        final long s = state.get();
        return new KvStats.Operations(s >>> IN_FLIGHT_BITS, s & IN_FLIGHT_MASK, peak.get(), new KvStats.Errors(errors[0].sum(),
            errors[1].sum(), errors[2].sum(), errors[3].sum(), errors[4].sum(), errors[5].sum(), errors[6].sum()));
    }
}
