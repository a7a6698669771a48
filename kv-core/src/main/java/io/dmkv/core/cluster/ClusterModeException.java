package io.dmkv.core.cluster;

/**
 * A cluster was joined in the wrong mode: created with a static node list and joined through a
 * coordinator, or the reverse.
 */
public final class ClusterModeException extends CoordinationException
{
    private static final long serialVersionUID = 1L;

    public ClusterModeException(final String message)
    {
        super(message);
    }
}
