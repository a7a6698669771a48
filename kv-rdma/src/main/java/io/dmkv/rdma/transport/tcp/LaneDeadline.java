package io.dmkv.rdma.transport.tcp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The deadline of a lane's round trip, which the lane's thread and the channel's sweep race to
 * settle: the thread when the answer is in ({@link #finish}), the sweep when the deadline has
 * passed ({@link #expire}). Exactly one of them wins each round trip. A thread that loses has its
 * answer, but the sweep is closing the lane under it, so it must not start another round trip on
 * that lane: without this, a round trip that ended right at its deadline let the sweep close the
 * lane during the next one, which then failed as timed out.
 */
final class LaneDeadline
{
    private static final VarHandle NS;

    static
    {
        try
        {
            NS = MethodHandles.lookup().findVarHandle(LaneDeadline.class, "ns", long.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The deadline of the round trip under way, by the channel's clock; 0 when idle. */
    @SuppressWarnings("unused")
    private volatile long ns;

    /** A round trip starts: it must end by {@code deadlineNs}. */
    void start(final long deadlineNs)
    {
        ns = deadlineNs;
    }

    /** The lane's thread has the answer: true if the round trip ended before the sweep expired it. */
    boolean finish()
    {
        final long d = ns;
        return d != 0 && NS.compareAndSet(this, d, 0L);
    }

    /**
     * The sweep at {@code nowNs}: the deadline of the round trip it expired (the caller closes the
     * lane), or 0 if none was under way or it was not overdue or it ended first.
     */
    long expire(final long nowNs)
    {
        final long d = ns;
        return d != 0 && nowNs - d > 0 && NS.compareAndSet(this, d, 0L) ? d : 0;
    }
}
