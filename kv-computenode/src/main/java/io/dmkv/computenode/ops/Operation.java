package io.dmkv.computenode.ops;

import java.util.concurrent.TimeUnit;

import io.dmkv.KvException;
import io.dmkv.KvTimeoutException;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbThread;

/**
 * The state machine under one asynchronous index operation: each step posts a batch (one round
 * trip) naming the step that continues it, and the batch's completion runs that step on the
 * thread that completed it (docs/architecture.md, the completion contract). Waits are timers,
 * never a sleeping thread. A step that throws fails the operation.
 *
 * <p>Subclasses are pooled: one object runs one operation at a time, from {@link #begin} to
 * {@link #end}, and keeps its scratch buffers between operations.
 */
abstract class Operation implements OpDriver, BatchListener, OperationPool.Pooled
{
    private static final long FIRST_BACKOFF_NS = 1_000;
    private static final long MAX_BACKOFF_NS = 1_000_000;
    /** Attempts in a row that found one slot value pointing at a damaged object before the operation fails. */
    static final int DAMAGED_READS = 4;
    /** {@code deadline} before the first retry of an operation that reads the clock then ({@link #begin(boolean)}). */
    private static final long NO_DEADLINE_YET = Long.MIN_VALUE;

    final OpRuntime runtime;
    private final long timeoutNs;
    private Runnable next;
    private ThreadCounters counters;
    /** The thread that started the operation last, found without a thread-local look-up when it is the same. */
    private VerbThread thread;
    private long deadline;
    private long backoffNs;
    int retries;
    private long damagedSlot;
    private int damagedReads;
    private int poolSlot = -1;

    Operation(final OpRuntime runtime, final long timeoutNs)
    {
        this.runtime = runtime;
        this.timeoutNs = timeoutNs;
    }

    @Override
    public final int poolSlot()
    {
        return poolSlot;
    }

    @Override
    public final void poolSlot(final int slot)
    {
        poolSlot = slot;
    }

    /** Starts the clock of a new operation. */
    final void begin()
    {
        begin(false);
    }

    /**
     * Starts a new operation. With {@code clockAtFirstRetry} (an operation whose first attempt
     * never waits: its round trips complete inside their posts and it takes no timer or RPC before
     * its first {@link #retry}), the clock is read at the first retry instead of now: that attempt
     * ran on the caller's thread meanwhile, so the deadline moves by its CPU time at most (a few
     * microseconds), and an operation that never retries (almost every get) reads no clock.
     */
    final void begin(final boolean clockAtFirstRetry)
    {
        deadline = clockAtFirstRetry ? NO_DEADLINE_YET : runtime.clock().nanoTime() + timeoutNs;
        backoffNs = FIRST_BACKOFF_NS;
        retries = 0;
        damagedSlot = 0;
        damagedReads = 0;
        next = null;
        // Each stored only when it changed: a reference stored into an old object costs a fence (G1's
        // write barrier), and a pooled operation mostly runs on the thread it ran on last.
        final VerbThread t = VerbThread.same(thread);
        if (thread != t)
        {
            thread = t;
        }
        final ThreadCounters c = t.counters();
        if (counters != c)
        {
            counters = c;
        }
    }

    @Override
    public final void post(final VerbBatch batch, final Runnable then)
    {
        next = then;
        try
        {
            runtime.client().post(batch, this, counters);
        }
        catch (final RuntimeException e)
        {
            next = null;
            fail(e);
        }
    }

    @Override
    public final void batchCompleted(final VerbBatch batch, final Throwable failure)
    {
        final Runnable then = next;
        next = null;
        if (failure != null)
        {
            fail(failure);
            return;
        }
        run(then);
    }

    final void run(final Runnable step)
    {
        try
        {
            proceed(step);
        }
        catch (final Throwable t)
        {
            fail(t);
        }
    }

    /**
     * Runs {@code step}. Every step of every kind of operation is called from here, so the call
     * below is megamorphic (an interface dispatch the JIT cannot inline); a subclass whose steps
     * are few calls its own steps directly, identified by identity, and leaves the rest to this.
     */
    void proceed(final Runnable step)
    {
        step.run();
    }

    @Override
    public final void after(final long delayNs, final Runnable then)
    {
        runtime.schedule(() -> run(then), delayNs);
    }

    @Override
    public final void offload(final Runnable blocking, final Runnable then)
    {
        runtime.offload(() ->
        {
            try
            {
                blocking.run();
            }
            catch (final Throwable t)
            {
                fail(t);
                return;
            }
            run(then);
        });
    }

    @Override
    public final long nanoTime()
    {
        return runtime.clock().nanoTime();
    }

    /**
     * Counts a start-over and checks the operation's deadline: true if it may go on, false if it
     * failed with a timeout (the caller returns).
     */
    final boolean retry(final String what)
    {
        retries++;
        final long now = runtime.clock().nanoTime();
        if (deadline == NO_DEADLINE_YET)
        {
            deadline = now + timeoutNs;
        }
        else if (now - deadline > 0)
        {
            fail(new KvTimeoutException(what + " did not complete within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs)
                + " ms (contention or an unavailable memory node)"));
            return false;
        }
        return true;
    }

    /**
     * After a candidate object was not whole, or held a key its slot cannot point to: true (and
     * the operation failed with a {@link KvException} naming the object) once the same slot
     * value ({@code slotValue}) did so on {@link #DAMAGED_READS} attempts in a row. Objects are
     * whole before a slot points at them, and a race moves the slot on, so this is damaged
     * memory; retrying until the deadline would only spin.
     */
    final boolean damaged(final long slotValue, final String what)
    {
        if (slotValue != damagedSlot)
        {
            damagedSlot = slotValue;
            damagedReads = 1;
            return false;
        }
        if (++damagedReads < DAMAGED_READS)
        {
            return false;
        }
        fail(new KvException(what + " found the object at " + GlobalAddress.toString(Slot.address(slotValue))
            + " damaged on " + DAMAGED_READS + " reads in a row (a bad checksum or header, or a key its slot cannot"
            + " point to): the memory node's memory is corrupt"));
        return true;
    }

    /** Runs {@code then} after an exponentially growing back-off (1 µs .. 1 ms) on the timer. */
    final void backoff(final Runnable then)
    {
        final long ns = backoffNs;
        backoffNs = Math.min(ns * 2, MAX_BACKOFF_NS);
        after(ns, then);
    }
}
