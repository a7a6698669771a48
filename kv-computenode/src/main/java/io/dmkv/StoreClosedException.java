package io.dmkv;

/** The store was closed; no operation runs after close. */
public class StoreClosedException extends KvException
{
    private static final long serialVersionUID = 1L;

    public StoreClosedException(final String message)
    {
        super(message);
    }

    public StoreClosedException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
