package io.dmkv.rdma;

/** The remote RPC handler failed or does not know the method; the message is the handler's. */
public final class RpcException extends VerbsException
{
    private static final long serialVersionUID = 1L;

    private final int status;

    public RpcException(final int status, final String message)
    {
        super(message);
        this.status = status;
    }

    /** Status code the handler answered with (see {@link RpcStatus}). */
    public int status()
    {
        return status;
    }
}
