package io.dmkv.rdma.contract;

import java.util.List;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.MemoryNodeService;

/**
 * Memory nodes plus a way to reach them, for the transport contract suite. Each transport's
 * test class supplies one; the suite itself never knows which transport it runs on.
 */
public interface TransportFixture extends AutoCloseable
{
    /** The memory nodes behind the endpoints, in the same order. */
    List<MemoryNodeService> services();

    List<String> endpoints();

    /** A fresh transport instance (the caller closes it). */
    VerbsTransport newTransport();

    default VerbsClient connect(final VerbsTransport transport, final ClientOptions options)
    {
        return VerbsClient.connect(transport, endpoints(), options);
    }

    @Override
    void close();
}
