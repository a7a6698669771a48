package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;

import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/** What a tcp client does when memory nodes are unreachable, silent or gone. */
@Timeout(60)
class TcpClientFailureTest
{
    private final TcpVerbsTransport transport = new TcpVerbsTransport();
    private ServerSocket fake;
    private final AtomicInteger accepted = new AtomicInteger();

    @AfterEach
    void stop() throws IOException
    {
        transport.close();
        if (fake != null)
        {
            fake.close();
        }
    }

    @Test
    void unreachableNodeFailsWithConnectionException() throws IOException
    {
        final int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            port = s.getLocalPort();
        }
        final ConnectionException e = assertThrows(ConnectionException.class,
            () -> VerbsClient.connect(transport, List.of("127.0.0.1:" + port), ClientOptions.defaults()));
        assertTrue(e.getMessage().contains("cannot reach memory node at 127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void malformedEndpointIsRejected()
    {
        assertThrows(IllegalArgumentException.class,
            () -> VerbsClient.connect(transport, List.of("no-port-here"), ClientOptions.defaults()));
        assertThrows(IllegalArgumentException.class,
            () -> VerbsClient.connect(transport, List.of("127.0.0.1:99999"), ClientOptions.defaults()));
    }

    @Test
    void nodeThatNeverAnswersTheHelloFailsTheConnect() throws IOException
    {
        fake = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        final ClientOptions options = ClientOptions.builder().connectTimeout(Duration.ofMillis(300)).build();
        final ConnectionException e = assertThrows(ConnectionException.class,
            () -> VerbsClient.connect(transport, List.of("127.0.0.1:" + fake.getLocalPort()), options));
        assertTrue(e.getMessage().contains("did not answer the hello"), e.getMessage());
    }

    @Test
    void silentNodeTimesOutBatchesAndRpcsByTheInjectedClock() throws Exception
    {
        final CachedNanoClock clock = new CachedNanoClock();
        try (VerbsClient client = silentNodeClient(clock))
        {
            final VerbBatch b = new VerbBatch();
            b.faa(client.channel(0).region(0), 0, 1);
            final CompletableFuture<VerbBatch> batch = client.executeAsync(b);
            final CompletableFuture<ByteBuffer> rpc = client.rpcAsync(0, 3, ByteBuffer.allocate(1));
            Thread.sleep(200);
            assertTrue(!batch.isDone() && !rpc.isDone(), "nothing times out before the clock moves");
            clock.advance(TimeUnit.SECONDS.toNanos(31));
            final ExecutionException e = assertThrows(ExecutionException.class, () -> batch.get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof VerbsTimeoutException, e.getCause().toString());
            final ExecutionException r = assertThrows(ExecutionException.class, () -> rpc.get(20, TimeUnit.SECONDS));
            assertTrue(r.getCause() instanceof VerbsTimeoutException, r.getCause().toString());
        }
    }

    @Test
    void silentNodeTimesOutABlockingRoundTripOnItsLaneByTheInjectedClock() throws Exception
    {
        final CachedNanoClock clock = new CachedNanoClock();
        try (VerbsClient client = silentNodeClient(clock))
        {
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread caller = new Thread(() ->
            {
                final VerbBatch faa = new VerbBatch();
                faa.faa(client.channel(0).region(0), 0, 1);
                try
                {
                    client.execute(faa);
                }
                catch (final RuntimeException e)
                {
                    failure.set(e);
                }
            }, "blocking-caller");
            caller.start();
            final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (((TcpVerbsChannel)client.channel(0)).laneCount() == 0 && System.nanoTime() < until)
            {
                Thread.sleep(10);
            }
            assertEquals(1, ((TcpVerbsChannel)client.channel(0)).laneCount(), "the blocking call opened a lane");
            Thread.sleep(200);
            assertTrue(caller.isAlive(), "nothing times out before the clock moves");
            clock.advance(TimeUnit.SECONDS.toNanos(31));
            caller.join(TimeUnit.SECONDS.toMillis(20));
            assertTrue(failure.get() instanceof VerbsTimeoutException, String.valueOf(failure.get()));
            assertEquals(2, accepted.get(), "the channel's connection and the caller's lane");
            assertEquals(0, ((TcpVerbsChannel)client.channel(0)).laneCount(), "the timed-out lane is closed");
        }
    }

    @Test
    void nodeThatStopsFailsLaterBatchesWithConnectionException()
    {
        final MemoryNodeService service = new MemoryNodeService("mn-stopping", RegionTable.allocate(1 << 16, 1 << 16),
            ProtocolVersion.DEFAULT_LAYOUT);
        final TcpVerbsServer server = TcpVerbsServer.start(service, "127.0.0.1", 0);
        try (VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults()))
        {
            final VerbBatch b = new VerbBatch();
            b.faa(client.channel(0).region(0), 0, 1);
            client.execute(b);
            server.close();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (client.channel(0).isOpen() && System.nanoTime() < deadline)
            {
                Thread.onSpinWait();
            }
            b.reset().faa(client.channel(0).region(0), 0, 1);
            final ConnectionException e = assertThrows(ConnectionException.class, () -> client.execute(b));
            assertTrue(e.getMessage().contains("mn-stopping"), e.getMessage());
        }
        finally
        {
            service.close();
        }
    }

    /**
     * A node that answers a batch with another request's id: the batch fails with the reason, the
     * connection closes, and later batches fail at once.
     */
    @Test
    void nodeThatAnswersOutOfOrderFailsTheBatchAndClosesTheConnection() throws Exception
    {
        hostileAnswerFailsTheBatch(id -> frame(TcpFrames.BATCH_RESP, id + 1000, 0), "out of order");
    }

    /** An answer cut short after its request id fails the batch it was for, not only the connection. */
    @Test
    void nodeThatCutsAnAnswerShortFailsTheBatchItWasFor() throws Exception
    {
        hostileAnswerFailsTheBatch(id -> frame(TcpFrames.BATCH_RESP, id, -1), "truncated");
    }

    /** An echo's answer to a batch is refused: the batch does not complete without its results. */
    @Test
    void nodeThatEchoesABatchFailsIt() throws Exception
    {
        hostileAnswerFailsTheBatch(id -> frame(TcpFrames.ECHO_RESP, id, 0), "was not an echo");
    }

    /** A blocking call on a lane gets the same refusal of an echo's answer to its batch. */
    @Test
    void nodeThatEchoesABatchOnALaneFailsIt() throws Exception
    {
        startHostileNode(id -> frame(TcpFrames.ECHO_RESP, id, 0));
        try (VerbsClient client = VerbsClient.connect(transport, List.of("127.0.0.1:" + fake.getLocalPort()),
            ClientOptions.builder().requestTimeout(Duration.ofSeconds(30)).build()))
        {
            final VerbBatch b = new VerbBatch();
            b.faa(client.channel(0).region(0), 0, 1);
            final VerbsException e = assertThrows(VerbsException.class, () -> client.execute(b));
            assertTrue(e.getMessage().contains("sent frame type " + TcpFrames.ECHO_RESP + " for a batch"), e.getMessage());
            assertEquals(2, accepted.get(), "the call took a lane of its own beside the channel's connection");
        }
    }

    /** Posts a batch to a node that answers it with {@code answer}: it fails with {@code why}, and the connection with it. */
    private void hostileAnswerFailsTheBatch(final LongFunction<byte[]> answer, final String why) throws Exception
    {
        startHostileNode(answer);
        final ClientOptions options = ClientOptions.builder().requestTimeout(Duration.ofSeconds(30)).build();
        try (VerbsClient client = VerbsClient.connect(transport, List.of("127.0.0.1:" + fake.getLocalPort()), options))
        {
            final VerbBatch b = new VerbBatch();
            b.faa(client.channel(0).region(0), 0, 1);
            final ExecutionException e = assertThrows(ExecutionException.class,
                () -> client.executeAsync(b).get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof ConnectionException, e.getCause().toString());
            assertTrue(e.getCause().getMessage().contains(why), e.getCause().getMessage());
            assertTrue(!client.channel(0).isOpen(), "the connection closed");
            final VerbBatch later = new VerbBatch();
            later.faa(client.channel(0).region(0), 0, 1);
            final ExecutionException l = assertThrows(ExecutionException.class,
                () -> client.executeAsync(later).get(20, TimeUnit.SECONDS));
            assertTrue(l.getCause() instanceof ConnectionException, l.getCause().toString());
        }
    }

    /**
     * A node that says hello on every connection, then answers each connection's first request
     * with {@code answer} of its id (the whole frame after the length field) and reads on.
     */
    private void startHostileNode(final LongFunction<byte[]> answer) throws IOException
    {
        startFakeNode(s -> answerFirst(s, answer), "hostile-node");
    }

    private static void answerFirst(final Socket socket, final LongFunction<byte[]> answer)
    {
        try (Socket s = socket)
        {
            final DataInputStream in = helloOk(s);
            final byte[] request = new byte[in.readInt()];
            in.readFully(request);
            final byte[] reply = answer.apply(ByteBuffer.wrap(request).getLong(1));
            final DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(reply.length);
            out.write(reply);
            out.flush();
            while (s.getInputStream().read() >= 0)
            {
                // until the client closes
            }
        }
        catch (final IOException ignored)
        {
            // the client closed the connection
        }
    }

    /** A frame body: {@code type}, {@code id}, then an executed count of {@code executed} and STATUS_OK, or nothing if it is -1. */
    private static byte[] frame(final byte type, final long id, final int executed)
    {
        final ByteBuffer b = ByteBuffer.allocate(1 + 8 + 3);
        b.put(type).putLong(id);
        if (executed >= 0)
        {
            b.putShort((short)executed).put(TcpFrames.STATUS_OK);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** A client of a silent node (started here) whose requests time out after 30 s by {@code clock}. */
    private VerbsClient silentNodeClient(final CachedNanoClock clock) throws IOException
    {
        startSilentNode();
        final ClientOptions options = ClientOptions.builder().requestTimeout(Duration.ofSeconds(30)).clock(clock).build();
        return VerbsClient.connect(transport, List.of("127.0.0.1:" + fake.getLocalPort()), options);
    }

    /** Accepts connections (the channel's, lanes) and answers each as {@link #silent} does. */
    private void startSilentNode() throws IOException
    {
        startFakeNode(TcpClientFailureTest::silent, "silent-node");
    }

    /** A node on loopback that serves every connection it accepts (the channel's, lanes) with {@code serve}. */
    private void startFakeNode(final java.util.function.Consumer<Socket> serve, final String name) throws IOException
    {
        fake = new ServerSocket(0, 4, java.net.InetAddress.getLoopbackAddress());
        final Thread acceptor = new Thread(() ->
        {
            try
            {
                while (true)
                {
                    final Socket s = fake.accept();
                    accepted.incrementAndGet();
                    final Thread t = new Thread(() -> serve.accept(s), name);
                    t.setDaemon(true);
                    t.start();
                }
            }
            catch (final IOException ignored)
            {
                // the test closed the server socket
            }
        }, name + "-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        assertEquals(false, fake.isClosed());
    }

    /** Answers the hello with one region, then reads and never answers. */
    private static void silent(final Socket socket)
    {
        try (Socket s = socket)
        {
            helloOk(s);
            final byte[] sink = new byte[4096];
            while (s.getInputStream().read(sink) >= 0)
            {
                // swallow everything, answer nothing
            }
        }
        catch (final IOException ignored)
        {
            // the client closed the connection
        }
    }

    /** Reads the client's HELLO on {@code s} and answers HELLO_OK with one region of 1 MiB. */
    private static DataInputStream helloOk(final Socket s) throws IOException
    {
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final byte[] hello = new byte[in.readInt()];
        in.readFully(hello);
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        final ByteBuffer b = ByteBuffer.allocate(256);
        b.putInt(0).put(TcpFrames.HELLO_OK).putInt(ProtocolVersion.MAGIC).putShort((short)0).putShort((short)6).put("silent".getBytes())
            .putShort((short)ProtocolVersion.DEFAULT_LAYOUT).putShort((short)0).putInt(0).putInt(1)
            .putInt(0).putLong(1).putLong(1 << 20).putLong(0).putInt(0);
        b.putInt(0, b.position() - 4);
        out.write(b.array(), 0, b.position());
        out.flush();
        return in;
    }
}
