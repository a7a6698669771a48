package io.dmkv.rdma;

/** A batch or RPC got no completion within its timeout, or could not get an in-flight slot in time. */
public final class VerbsTimeoutException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    public VerbsTimeoutException(final String message)
    {
        super(message);
    }
}
