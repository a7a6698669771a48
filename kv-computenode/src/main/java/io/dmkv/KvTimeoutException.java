package io.dmkv;

/** An operation did not finish within its timeout, or could not get an in-flight slot in time. */
public class KvTimeoutException extends KvException
{
    private static final long serialVersionUID = 1L;

    public KvTimeoutException(final String message)
    {
        super(message);
    }

    public KvTimeoutException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
