package io.dmkv.core.cluster;

/**
 * A cached cluster map was not confirmed by the coordinator within the map lease, so it may be
 * stale: the caller must not route reads or writes by it until it is confirmed again.
 */
public final class MapLeaseExpiredException extends CoordinationException
{
    private static final long serialVersionUID = 1L;

    public MapLeaseExpiredException(final String message)
    {
        super(message);
    }
}
