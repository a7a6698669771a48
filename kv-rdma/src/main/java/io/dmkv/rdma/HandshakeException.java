package io.dmkv.rdma;

/**
 * The versioned hello failed: protocol or layout versions differ, the peer is not a memory node,
 * or the memory node refuses clients for now (it is fenced: {@link #isFenced()}).
 */
public final class HandshakeException extends VerbsException
{
    /**
     * How a fenced memory node's refusal begins. A node that lost its coordinator session refuses
     * clients until it is back in the cluster, so a client that meets this refusal while it
     * connects tries again until its connect timeout.
     */
    public static final String FENCED = "the memory node is fenced";

    private static final long serialVersionUID = 1L;

    public HandshakeException(final String message)
    {
        super(message);
    }

    /** Whether the node refused because it is fenced, a state it may leave (see {@link #FENCED}). */
    public boolean isFenced()
    {
        final String m = getMessage();
        return m != null && m.contains(FENCED);
    }
}
