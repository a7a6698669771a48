package io.dmkv.rdma;

/** The selected transport cannot start on this machine (for rdma: no RNIC, or no libdisni). */
public final class TransportUnavailableException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    public TransportUnavailableException(final String message)
    {
        super(message);
    }

    public TransportUnavailableException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
