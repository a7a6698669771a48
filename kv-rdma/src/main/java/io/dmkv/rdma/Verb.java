package io.dmkv.rdma;

/**
 * The one-sided verbs. Codes travel on the wire; they never change meaning once released.
 */
public final class Verb
{
    public static final byte READ = 1;
    public static final byte WRITE = 2;
    /** 8-byte compare-and-swap on an 8-byte aligned address; returns the old value. */
    public static final byte CAS = 3;
    /** 8-byte fetch-and-add on an 8-byte aligned address; returns the old value. */
    public static final byte FAA = 4;

    /** Size of the operand of CAS and FAA. */
    public static final int ATOMIC_SIZE = 8;

    private Verb()
    {
    }

    /** Payload bytes verb {@code op} of {@code length} bytes sends: WRITE data, atomics' operands. */
    public static int bytesOut(final byte op, final int length)
    {
        return op == READ ? 0 : op == WRITE ? length : op == CAS ? 2 * ATOMIC_SIZE : ATOMIC_SIZE;
    }

    /** Payload bytes verb {@code op} of {@code length} bytes brings back: READ data, atomics' old values. */
    public static int bytesIn(final byte op, final int length)
    {
        return op == READ ? length : op == WRITE ? 0 : ATOMIC_SIZE;
    }

    public static String name(final int op)
    {
        switch (op)
        {
            case READ: return "READ";
            case WRITE: return "WRITE";
            case CAS: return "CAS";
            case FAA: return "FAA";
            default: return "op#" + op;
        }
    }
}
