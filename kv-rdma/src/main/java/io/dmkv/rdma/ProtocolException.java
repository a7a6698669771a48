package io.dmkv.rdma;

/** A peer sent bytes that are not a valid frame (bad type, bad length, truncated, oversized). */
public final class ProtocolException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    public ProtocolException(final String message)
    {
        super(message);
    }
}
