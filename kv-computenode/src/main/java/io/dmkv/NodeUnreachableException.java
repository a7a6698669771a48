package io.dmkv;

/** A memory node cannot be reached or its connection broke. The operation may or may not have taken effect if it was a write that got past its first round trip; the message says which node. */
public class NodeUnreachableException extends KvException
{
    private static final long serialVersionUID = 1L;

    public NodeUnreachableException(final String message)
    {
        super(message);
    }

    public NodeUnreachableException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
