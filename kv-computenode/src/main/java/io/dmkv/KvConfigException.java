package io.dmkv;

/** A configuration field is invalid; the message names the field and the accepted values. */
public class KvConfigException extends KvException
{
    private static final long serialVersionUID = 1L;

    public KvConfigException(final String message)
    {
        super(message);
    }

    public KvConfigException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
