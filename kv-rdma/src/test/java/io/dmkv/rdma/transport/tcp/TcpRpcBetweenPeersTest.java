package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/** Two-sided RPC between any two nodes: a peer that registers no memory and only answers calls. */
@Timeout(60)
class TcpRpcBetweenPeersTest
{
    private static final int ADD = 1;

    @Test
    void aPeerWithoutMemoryAnswersConcurrentRpcs() throws Exception
    {
        final MemoryNodeService peer = new MemoryNodeService("cn-1", RegionTable.empty(), ProtocolVersion.DEFAULT_LAYOUT);
        peer.handle(ADD, request -> ByteBuffer.allocate(8).putLong(request.getLong() + request.getLong()).flip());
        final TcpVerbsServer server = TcpVerbsServer.start(peer, "127.0.0.1", 0);
        try (TcpVerbsTransport transport = new TcpVerbsTransport();
            VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults()))
        {
            assertTrue(client.channel(0).regions().isEmpty());
            assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION,
                assertThrows(RemoteAccessException.class, () -> client.channel(0).region(0)).reason());
            final List<CompletableFuture<ByteBuffer>> calls = new ArrayList<>();
            for (long i = 0; i < 200; i++)
            {
                calls.add(client.rpcAsync(0, ADD, ByteBuffer.allocate(16).putLong(i).putLong(1000).flip()));
            }
            for (int i = 0; i < calls.size(); i++)
            {
                assertEquals(i + 1000L, calls.get(i).get(30, TimeUnit.SECONDS).getLong());
            }
            assertEquals(200, client.channel(0).counters().snapshot().rpcs());
        }
        finally
        {
            server.close();
            peer.close();
        }
    }
}
