package io.dmkv.core.cluster;

/**
 * A map write was based on a version that is no longer current (someone else wrote first):
 * re-read the map and decide again.
 */
public final class StaleMapException extends CoordinationException
{
    private static final long serialVersionUID = 1L;

    public StaleMapException(final String message)
    {
        super(message);
    }
}
