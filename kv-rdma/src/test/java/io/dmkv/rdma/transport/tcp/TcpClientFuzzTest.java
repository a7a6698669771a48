package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.fuzz.FuzzRotation;

/**
 * A hostile "memory node" on loopback answers a real tcp client with the fuzzer's bytes: on every
 * connection the client opens (its channel's, and the lane its blocking call opens), first its
 * answer to the hello, then its answer to one batch (a READ, a CAS and a WRITE on region 0). The
 * client connects and executes, or fails with a {@link VerbsException} that says why, within its
 * timeouts: no other exception, no hang.
 *
 * <p>Input: {@code helloLength:u16 | hello answer | batch answer}.
 *
 * <p>Each input has a listener of its own, closed once the client is, so a connection the client
 * opens is always answered: a node that took only the first connection would leave the lane's
 * hello unanswered, and every input would wait for the connect timeout.
 */
@ExtendWith(FuzzRotation.class)
class TcpClientFuzzTest
{
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static TcpVerbsTransport transport;
    private static ExecutorService node;

    @BeforeAll
    static void start()
    {
        transport = new TcpVerbsTransport(1, TcpFrames.DEFAULT_MAX_FRAME);
        node = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop()
    {
        node.shutdownNow();
        transport.close();
    }

    @FuzzTest
    void answers(final byte[] input) throws Exception
    {
        if (FuzzRotation.budgetSpent())
        {
            // An input can cost a whole timeout: past the day's budget, the rest go unrun.
            return;
        }
        final int split = input.length < 2 ? 0 : Math.min(input.length - 2, ((input[0] & 0xFF) << 8) | (input[1] & 0xFF));
        final byte[] hello = Arrays.copyOfRange(input, Math.min(2, input.length), Math.min(2, input.length) + split);
        final byte[] batch = Arrays.copyOfRange(input, Math.min(2, input.length) + split, input.length);
        final ServerSocket listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        final Future<?> served = node.submit(() -> acceptAll(listener, hello, batch));
        final ClientOptions options = ClientOptions.builder().connectTimeout(TIMEOUT).requestTimeout(TIMEOUT).build();
        try (listener; VerbsClient client = VerbsClient.connect(transport,
            List.of("127.0.0.1:" + listener.getLocalPort()), options))
        {
            final List<RemoteRegion> regions = client.channels().get(0).regions();
            if (!regions.isEmpty())
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
                final RemoteRegion r = regions.get(0);
                final VerbBatch b = new VerbBatch();
                b.read(r, 0, buffer, 0, 16);
                b.cas(r, 8, 0, 1);
                b.write(r, 16, buffer, 32, 8);
                client.execute(b);
            }
        }
        catch (final VerbsException expected)
        {
            // Refused, broken or silent: what the client says is the point, not that it failed.
            assertFalse(expected.getMessage() == null || expected.getMessage().isBlank(),
                "a failure without a message: " + expected);
        }
        served.get();
    }

    /** True if {@code answer} starts with a whole HELLO_OK frame (the client then answers or closes). */
    private static boolean startsWithHelloOk(final byte[] answer)
    {
        if (answer.length <= TcpFrames.LENGTH_FIELD)
        {
            return false;
        }
        final long length = ((answer[0] & 0xFFL) << 24) | ((answer[1] & 0xFF) << 16) | ((answer[2] & 0xFF) << 8)
            | (answer[3] & 0xFF);
        return length >= 1 && TcpFrames.LENGTH_FIELD + length <= answer.length
            && answer[TcpFrames.LENGTH_FIELD] == TcpFrames.HELLO_OK;
    }

    /** Serves every connection until the listener is closed, then waits for the connections served. */
    private static Void acceptAll(final ServerSocket listener, final byte[] hello, final byte[] batch)
        throws Exception
    {
        final List<Future<?>> connections = new ArrayList<>();
        try
        {
            while (true)
            {
                final Socket s = listener.accept();
                connections.add(node.submit(() -> serve(s, hello, batch)));
            }
        }
        catch (final java.net.SocketException closed)
        {
            // The test closed the listener: the client is done.
        }
        for (final Future<?> c : connections)
        {
            c.get();
        }
        return null;
    }

    /** One connection: read the hello, answer, read a frame, answer, close. */
    private static Void serve(final Socket socket, final byte[] hello, final byte[] batch) throws IOException
    {
        try (Socket s = socket)
        {
            s.setSoTimeout((int)TIMEOUT.toMillis() * 2);
            final DataInputStream in = new DataInputStream(s.getInputStream());
            final OutputStream out = s.getOutputStream();
            try
            {
                in.readNBytes(in.readInt());
                out.write(hello);
                out.flush();
                if (!startsWithHelloOk(hello))
                {
                    // The client cannot get as far as a batch: closing now spares waiting for its timeout.
                    return null;
                }
                in.readNBytes(in.readInt());
                out.write(batch);
                out.flush();
            }
            catch (final SocketTimeoutException | java.io.EOFException | java.net.SocketException e)
            {
                // The client gave up or closed: as it may.
            }
        }
        return null;
    }
}
