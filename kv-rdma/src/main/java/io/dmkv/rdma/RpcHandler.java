package io.dmkv.rdma;

import java.nio.ByteBuffer;

/**
 * Server side of a two-sided RPC method. Handlers run on a worker thread, never on a network
 * event loop, so they may block briefly. Throw {@link RpcException} to answer with a status.
 */
@FunctionalInterface
public interface RpcHandler
{
    /**
     * @param request the request payload, positioned at its start; valid only during the call.
     * @return the response payload (position to limit is sent).
     */
    ByteBuffer handle(ByteBuffer request);
}
