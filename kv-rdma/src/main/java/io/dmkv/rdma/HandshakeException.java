package io.dmkv.rdma;

/** The versioned hello failed: protocol or layout versions differ, or the peer is not a memory node. */
public final class HandshakeException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    public HandshakeException(final String message)
    {
        super(message);
    }
}
