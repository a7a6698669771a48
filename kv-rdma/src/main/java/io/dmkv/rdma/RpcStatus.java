package io.dmkv.rdma;

/** Status codes of an RPC response. */
public final class RpcStatus
{
    public static final int OK = 0;
    /** No handler registered for the method. */
    public static final int UNKNOWN_METHOD = 1;
    /** The request was malformed for its method. */
    public static final int BAD_REQUEST = 2;
    /** The handler failed; the message says why. */
    public static final int FAILED = 3;
    /** The handler refuses for lack of resources (for ALLOC: the memory node is full). */
    public static final int EXHAUSTED = 4;
    /**
     * The handler refuses for now and the caller should ask again shortly, or elsewhere (for
     * ALLOC: the region is sealed for the last pass of a copy).
     */
    public static final int UNAVAILABLE = 5;

    private RpcStatus()
    {
    }
}
