package io.dmkv.rdma;

/** A memory node cannot be reached, or the connection to it closed. */
public final class ConnectionException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    public ConnectionException(final String message)
    {
        super(message);
    }

    public ConnectionException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
