package io.dmkv.rdma;

/**
 * A memory node refused a verb: the region key is unknown, the access falls outside the region,
 * an atomic is misaligned, or the verb itself is malformed. The memory node keeps serving; the
 * verbs of the batch before the refused one were applied, the ones after it were not.
 */
public final class RemoteAccessException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    /** Why a verb was refused. The code travels on the wire as its ordinal. */
    public enum Reason
    {
        UNKNOWN_REGION,
        OUT_OF_BOUNDS,
        MISALIGNED,
        BAD_LENGTH,
        UNKNOWN_OP;

        private static final Reason[] VALUES = values();

        public static Reason fromCode(final int code)
        {
            return code >= 0 && code < VALUES.length ? VALUES[code] : UNKNOWN_OP;
        }
    }

    private final Reason reason;
    private final int verbIndex;

    public RemoteAccessException(final Reason reason, final int verbIndex, final String message)
    {
        super(message);
        this.reason = reason;
        this.verbIndex = verbIndex;
    }

    public Reason reason()
    {
        return reason;
    }

    /** Index of the refused verb within its batch (or -1 when not tied to one verb). */
    public int verbIndex()
    {
        return verbIndex;
    }
}
