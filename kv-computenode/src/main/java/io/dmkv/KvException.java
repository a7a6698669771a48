package io.dmkv;

/**
 * Base of every error the dmkv API raises. Unchecked; the subtype says what went wrong and the
 * message says what to do about it.
 */
public class KvException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public KvException(final String message)
    {
        super(message);
    }

    public KvException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
