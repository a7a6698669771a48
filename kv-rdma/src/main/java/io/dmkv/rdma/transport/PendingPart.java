package io.dmkv.rdma.transport;

import io.dmkv.rdma.VerbBatch;

/**
 * One batch part a channel has accepted and not yet completed: the batch, the part, its deadline
 * and whether it finished (completed, failed or timed out). A part finishes once; an answer that
 * arrives for a part that already timed out is read and dropped.
 */
public class PendingPart
{
    private VerbBatch batch;
    private int part;
    private long deadlineNs;
    private boolean finished;
    private Throwable error;

    /** Makes this (possibly reused) object stand for {@code part} of {@code batch}. */
    protected final void reset(final VerbBatch batch, final int part, final long deadlineNs)
    {
        this.batch = batch;
        this.part = part;
        this.deadlineNs = deadlineNs;
        this.finished = false;
        this.error = null;
    }

    public final VerbBatch batch()
    {
        return batch;
    }

    public final int part()
    {
        return part;
    }

    public final long deadlineNs()
    {
        return deadlineNs;
    }

    public final boolean finished()
    {
        return finished;
    }

    /** Marks the part finished with {@code error} (null: success); false if it had finished already. */
    public final boolean finish(final Throwable error)
    {
        if (finished)
        {
            return false;
        }
        finished = true;
        this.error = error;
        return true;
    }

    /** Hands the outcome to the batch, whose listener may run here (the transport's completion thread). */
    public final void deliver()
    {
        batch.partCompleted(part, error);
    }
}
