package io.dmkv.rdma;

/**
 * What makes a verb legal, in one place: a positive length for READ and WRITE, 8-byte alignment
 * for CAS and FAA, and the whole access inside the region. A batch checks its verbs as they are
 * added, a channel that can tell (rdma, from the hello) checks before the NIC sees them, and the
 * memory node checks again because it trusts no client; all three ask this class.
 */
public final class VerbRules
{
    private VerbRules()
    {
    }

    /** Why {@code op} at {@code offset} of {@code length} bytes may not run on a region of {@code regionLength} bytes; null if it may. */
    public static RemoteAccessException.Reason check(final int op, final long offset, final int length,
        final long regionLength)
    {
        switch (op)
        {
            case Verb.READ:
            case Verb.WRITE:
                if (length <= 0)
                {
                    return RemoteAccessException.Reason.BAD_LENGTH;
                }
                break;
            case Verb.CAS:
            case Verb.FAA:
                if ((offset & (Verb.ATOMIC_SIZE - 1)) != 0)
                {
                    return RemoteAccessException.Reason.MISALIGNED;
                }
                break;
            default:
                return RemoteAccessException.Reason.UNKNOWN_OP;
        }
        final int len = op == Verb.CAS || op == Verb.FAA ? Verb.ATOMIC_SIZE : length;
        if (offset < 0 || offset > regionLength - (long)len)
        {
            return RemoteAccessException.Reason.OUT_OF_BOUNDS;
        }
        return null;
    }

    /** A refusal a user can act on: {@code who} (a memory node, a batch) refused the verb, and why. */
    public static String describe(final RemoteAccessException.Reason reason, final String who, final int regionId,
        final long key, final int op, final long offset, final int length)
    {
        switch (reason)
        {
            case UNKNOWN_REGION:
                return who + " refused key 0x" + Long.toHexString(key) + " for region " + regionId
                    + ": unknown region, or a key revoked by re-keying (reconnect for the current keys), or a write to a"
                    + " region held still for the last pass of a copy";
            case OUT_OF_BOUNDS:
                return who + " refused " + Verb.name(op) + " [" + offset + ", +" + length + ") on region " + regionId
                    + ": out of bounds";
            case MISALIGNED:
                return who + " refused " + Verb.name(op) + " at offset " + offset + " on region " + regionId
                    + ": atomics need 8-byte alignment";
            case BAD_LENGTH:
                return who + " refused " + Verb.name(op) + " of length " + length + ": bad length";
            default:
                return who + " refused unknown verb code " + op;
        }
    }
}
