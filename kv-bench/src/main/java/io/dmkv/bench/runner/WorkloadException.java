package io.dmkv.bench.runner;

/** An operation of a workload failed; the runner counts it against operation {@link #op()}. */
public final class WorkloadException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int op;

    public WorkloadException(final int op, final Throwable cause)
    {
        super(cause.getMessage(), cause);
        this.op = op;
    }

    public int op()
    {
        return op;
    }
}
