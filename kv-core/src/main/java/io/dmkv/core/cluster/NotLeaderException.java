package io.dmkv.core.cluster;

/**
 * A leader-only write was refused because the writer is no longer the leader: another
 * participant has taken over and raised the leader epoch (the writer was deposed, perhaps while
 * stalled).
 */
public final class NotLeaderException extends CoordinationException
{
    private static final long serialVersionUID = 1L;

    public NotLeaderException(final String message)
    {
        super(message);
    }
}
