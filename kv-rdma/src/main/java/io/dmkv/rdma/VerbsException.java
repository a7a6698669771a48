package io.dmkv.rdma;

/**
 * Base of every error the verbs layer raises. Unchecked: callers decide where to handle
 * transport failures, and the message always names the memory node involved.
 */
public class VerbsException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public VerbsException(final String message)
    {
        super(message);
    }

    public VerbsException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
