package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/** A client started together with its memory node waits for it, up to the connect timeout. */
@Timeout(60)
class ConnectWhileStartingTest
{
    private static int closedPort() throws IOException
    {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return s.getLocalPort();
        }
    }

    @Test
    void aClientRefusedWhileTheNodeStartsConnectsOnceItListens() throws Exception
    {
        final int port = closedPort();
        final String endpoint = "127.0.0.1:" + port;
        try (TcpVerbsTransport tcp = new TcpVerbsTransport())
        {
            final ClientOptions options = ClientOptions.builder().connectTimeout(Duration.ofSeconds(30)).build();
            final CompletableFuture<VerbsClient> client = CompletableFuture.supplyAsync(
                () -> VerbsClient.connect(tcp, List.of(endpoint), options));
            TimeUnit.MILLISECONDS.sleep(300); // the client is being refused meanwhile
            assertTrue(!client.isDone(), "still retrying while nothing listens");
            try (MemoryNode node = MemoryNode.start(new MemoryNode.Config("late-mn", "127.0.0.1", port, 1L << 20,
                256L << 10, null, 1, io.dmkv.rdma.transport.tcp.TcpFrames.DEFAULT_MAX_FRAME, false, null, 0));
                VerbsClient c = client.get(30, TimeUnit.SECONDS))
            {
                assertEquals("late-mn", c.channel(0).node().name());
            }
        }
    }

    @Test
    void refusedForLongerThanTheConnectTimeoutFailsSayingSo() throws Exception
    {
        final String endpoint = "127.0.0.1:" + closedPort();
        try (TcpVerbsTransport tcp = new TcpVerbsTransport())
        {
            final ConnectionException e = assertThrows(ConnectionException.class, () -> VerbsClient.connect(tcp,
                List.of(endpoint), ClientOptions.builder().connectTimeout(Duration.ofMillis(300)).build()));
            assertTrue(e.getMessage().contains(endpoint + " refused connections for 300 ms")
                && e.getMessage().contains("is it running"), e.getMessage());
        }
    }
}
