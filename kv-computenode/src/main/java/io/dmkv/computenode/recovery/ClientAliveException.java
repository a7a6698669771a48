package io.dmkv.computenode.recovery;

/** Recovery was asked for a client that is still running (its heartbeat moves). */
public final class ClientAliveException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public ClientAliveException(final String message)
    {
        super(message);
    }
}
