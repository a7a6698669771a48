package io.dmkv.core.cluster;

/**
 * The coordinator (ZooKeeper) could not do what was asked: unreachable, timed out, or refused.
 * Subclasses name the refusals a caller reacts to.
 */
public class CoordinationException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public CoordinationException(final String message)
    {
        super(message);
    }

    public CoordinationException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
