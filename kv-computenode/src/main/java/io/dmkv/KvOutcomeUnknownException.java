package io.dmkv;

/**
 * A write whose outcome cannot be known: it failed (a memory node died under it, or refused it
 * while the cluster's map changed) after its proposal may have reached an index replica, and the
 * fail-over may have made that proposal the slot's value. The write took effect or it did not;
 * read the key to find out, and redo the write if it is needed (a put is safe to repeat). Never
 * raised for a read, nor for a write that certainly did nothing.
 */
public class KvOutcomeUnknownException extends KvException
{
    private static final long serialVersionUID = 1L;

    public KvOutcomeUnknownException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
