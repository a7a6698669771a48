package io.dmkv.rdma.transport.rdma;

import java.net.InetSocketAddress;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.MemoryNodeInfo;

/**
 * Where a transport gets its queue pairs: DiSNI in production ({@link DisniQueuePairFactory}), a
 * software RNIC in tests, so the transport around it is the same code either way.
 */
interface QueuePairFactory extends AutoCloseable
{
    /**
     * A queue pair connected to {@code node}'s rdma listener at {@code address}, with staging
     * memory registered; {@link io.dmkv.rdma.ConnectionException} if it cannot be had in the
     * connect timeout of {@code options}.
     */
    RdmaQueuePair connect(MemoryNodeInfo node, InetSocketAddress address, ClientOptions options);

    /** Releases what every queue pair of this factory shared. */
    @Override
    void close();
}
