package io.dmkv;

/** A key or value is null, empty where that is not allowed, or larger than the layout allows. Nothing was changed. */
public class InvalidInputException extends KvException
{
    private static final long serialVersionUID = 1L;

    public InvalidInputException(final String message)
    {
        super(message);
    }

    public InvalidInputException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
