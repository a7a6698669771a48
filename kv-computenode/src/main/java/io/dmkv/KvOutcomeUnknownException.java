package io.dmkv;

/**
 * A write whose outcome cannot be known: it failed (a memory node died under it, or refused it
 * while the cluster's map changed) after its proposal may have reached an index replica. The
 * proposal may become the slot's value: through the fail-over, or when the next write of the key
 * (by any client) finds it on the backups and settles the slot by SNAPSHOT's rules; that next
 * write, though acknowledged, is then ordered just before it, as two concurrent writes are. So a
 * read may show this write's value even after a later write of the key was acknowledged, until
 * the key is written once more: a proposal the next write settled never comes back. A read tells
 * what the key holds now; to be sure of a value, write the key again (a put is safe to repeat).
 * Never raised for a read, nor for a write that certainly did nothing.
 */
public class KvOutcomeUnknownException extends KvException
{
    private static final long serialVersionUID = 1L;

    public KvOutcomeUnknownException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
