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
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * A server on a client transport's event loops (a compute node's proxy port): a request whose
 * answer waits for a call on one of that transport's connections is answered from the call's
 * completion, on the same loop; the server's close leaves the loops to the transport.
 */
@Timeout(60)
class TcpServerOnSharedLoopsTest
{
    private static final int ADD = 1;
    private static final int RELAY = 2;

    @Test
    void aServerOnATransportsLoopsRelaysThroughItsConnectionsAndClosesAlone() throws Exception
    {
        final MemoryNodeService back = new MemoryNodeService("mn-1", RegionTable.empty(), ProtocolVersion.DEFAULT_LAYOUT);
        back.handle(ADD, request -> ByteBuffer.allocate(8).putLong(request.getLong() + request.getLong()).flip());
        final TcpVerbsServer backServer = TcpVerbsServer.start(back, "127.0.0.1", 0);
        final MemoryNodeService front = new MemoryNodeService("cn-1", RegionTable.empty(), ProtocolVersion.DEFAULT_LAYOUT);
        final List<String> threads = java.util.Collections.synchronizedList(new ArrayList<>());
        try (TcpVerbsTransport loops = new TcpVerbsTransport();
            VerbsClient toBack = VerbsClient.connect(loops.sharingLoops(), List.of(backServer.endpoint()),
                ClientOptions.defaults()))
        {
            // Answered from the completion of a call to the back server, without blocking the loop.
            front.handleInline(RELAY, request ->
            {
                threads.add(Thread.currentThread().getName());
                return toBack.rpcAsync(0, ADD, request).thenApply(answer ->
                {
                    threads.add(Thread.currentThread().getName());
                    return answer;
                });
            });
            final TcpVerbsServer frontServer = TcpVerbsServer.start(front, "127.0.0.1", 0, null, loops);
            final String endpoint = frontServer.endpoint();
            try (TcpVerbsTransport callers = new TcpVerbsTransport();
                VerbsClient c = VerbsClient.connect(callers, List.of(endpoint), ClientOptions.defaults()))
            {
                final List<CompletableFuture<ByteBuffer>> calls = new ArrayList<>();
                for (long i = 0; i < 300; i++)
                {
                    calls.add(c.rpcAsync(0, RELAY, ByteBuffer.allocate(16).putLong(i).putLong(7).flip()));
                }
                for (int i = 0; i < calls.size(); i++)
                {
                    assertEquals(i + 7L, calls.get(i).get(30, TimeUnit.SECONDS).getLong());
                }
                // One loop: the request, the relayed call's completion and the answer share one thread.
                assertEquals(600, threads.size());
                assertEquals(1, threads.stream().distinct().count(), threads.stream().distinct().toList().toString());
                assertTrue(threads.get(0).startsWith("dmkv-tcp-client"), threads.get(0));
            }
            frontServer.close();
            // The port is closed, the loops and the transport's other connections still serve.
            try (TcpVerbsTransport late = new TcpVerbsTransport())
            {
                assertThrows(ConnectionException.class,
                    () -> VerbsClient.connect(late, List.of(endpoint), ClientOptions.defaults()));
            }
            assertEquals(12L, toBack.rpcAsync(0, ADD, ByteBuffer.allocate(16).putLong(5).putLong(7).flip())
                .get(30, TimeUnit.SECONDS).getLong());
            assertTrue(toBack.channel(0).isOpen());
        }
        finally
        {
            backServer.close();
            back.close();
            front.close();
        }
    }
}
