package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * A memory node faced with bytes that are not valid frames: every case gets an error reply or a
 * closed connection, never a crash or a hang, and the node keeps serving well-behaved clients.
 */
@Timeout(60)
class TcpFrameValidationTest
{
    private static final int MAX_FRAME = 64 * 1024;

    private MemoryNodeService service;
    private TcpVerbsServer server;

    @BeforeEach
    void start()
    {
        service = new MemoryNodeService("mn-raw", RegionTable.allocate(1 << 20, 1 << 20), ProtocolVersion.DEFAULT_LAYOUT);
        server = TcpVerbsServer.start(service, "127.0.0.1", 0, MAX_FRAME, 1);
    }

    @AfterEach
    void stop()
    {
        server.close();
        service.close();
    }

    @Test
    void frameBeforeHelloIsRefusedAndClosesTheConnection() throws IOException
    {
        try (Socket s = socket())
        {
            send(s, batchFrame(1, new byte[0], 0));
            assertRefusedThenClosed(s, "where a hello frame was due");
        }
        assertEquals(1, server.refusedHellos());
        assertServing(0);
    }

    @Test
    void oversizedHelloFieldIsRefused() throws IOException
    {
        try (Socket s = socket())
        {
            final byte[] nonce = new byte[200];
            final ByteBuffer b = ByteBuffer.allocate(4 + 1 + 10 + nonce.length);
            b.putInt(11 + nonce.length).put(TcpFrames.HELLO).putInt(ProtocolVersion.MAGIC)
                .putShort((short)ProtocolVersion.PROTOCOL).putShort((short)1).putShort((short)nonce.length).put(nonce);
            send(s, b.array());
            assertRefusedThenClosed(s, "a hello field of 200 bytes");
        }
        assertServing(0);
    }

    @Test
    void helloLongerThanAHelloMayBeIsRefusedUnread() throws IOException
    {
        try (Socket s = socket())
        {
            final ByteBuffer b = ByteBuffer.allocate(9);
            b.putInt(60_000).put(TcpFrames.HELLO).putInt(ProtocolVersion.MAGIC);
            send(s, b.array());
            assertRefusedThenClosed(s, "a frame of 60000 bytes");
        }
        assertServing(0);
    }

    @Test
    void badMagicIsRefusedAsNotADmkvClient() throws IOException
    {
        try (Socket s = socket())
        {
            final ByteBuffer b = ByteBuffer.allocate(4 + 1 + 10);
            b.putInt(11).put(TcpFrames.HELLO).putInt(0x12345678).putShort((short)1).putShort((short)1).putShort((short)0);
            send(s, b.array());
            assertRefusedThenClosed(s, "not a dmkv client");
        }
        assertServing(0);
    }

    @Test
    void protocolVersionMismatchIsRefused() throws IOException
    {
        try (Socket s = socket())
        {
            final ByteBuffer b = ByteBuffer.allocate(4 + 1 + 10);
            b.putInt(11).put(TcpFrames.HELLO).putInt(ProtocolVersion.MAGIC).putShort((short)77).putShort((short)1)
                .putShort((short)0);
            send(s, b.array());
            final Frame f = readFrame(s);
            assertEquals(TcpFrames.HELLO_REFUSED, f.type);
            assertTrue(f.text().contains("protocol version mismatch"), f.text());
        }
        assertServing(0);
    }

    @Test
    void unknownFrameTypeAfterHelloIsAnError() throws IOException
    {
        try (Socket s = helloed())
        {
            send(s, new byte[] {0, 0, 0, 1, 99});
            assertErrorThenClosed(s, "unknown frame type");
        }
        assertServing(1);
    }

    @Test
    void emptyFrameIsAnError() throws IOException
    {
        try (Socket s = helloed())
        {
            send(s, new byte[] {0, 0, 0, 0});
            assertErrorThenClosed(s, "empty frame");
        }
        assertServing(1);
    }

    @Test
    void truncatedBatchIsAnError() throws IOException
    {
        try (Socket s = helloed())
        {
            send(s, batchFrame(5, new byte[3], 3));
            assertErrorThenClosed(s, "truncated");
        }
        assertServing(1);
    }

    @Test
    void writeLongerThanItsFrameIsAnError() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer verb = ByteBuffer.allocate(21 + 4 + 10);
            verb.put(Verb.WRITE).putInt(0).putLong(service.regions().regions().get(0).key()).putLong(4096)
                .putInt(1000).put(new byte[10]);
            send(s, batchFrame(1, verb.array(), verb.capacity()));
            assertErrorThenClosed(s, "truncated");
        }
        assertServing(1);
    }

    @Test
    void oversizedFrameIsAnErrorWithoutBufferingIt() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer b = ByteBuffer.allocate(5);
            b.putInt(Integer.MAX_VALUE).put(TcpFrames.BATCH);
            send(s, b.array());
            assertErrorThenClosed(s, "oversized");
        }
        assertServing(1);
    }

    @Test
    void unknownVerbIsRefusedAndTheConnectionStays() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer verb = ByteBuffer.allocate(21);
            verb.put((byte)42).putInt(0).putLong(service.regions().regions().get(0).key()).putLong(0);
            send(s, batchFrame(1, verb.array(), 21));
            final Frame f = readFrame(s);
            assertEquals(TcpFrames.BATCH_RESP, f.type);
            assertRefused(f, RemoteAccessException.Reason.UNKNOWN_OP);
            // The same connection still executes a good verb.
            final ByteBuffer faa = ByteBuffer.allocate(29);
            faa.put(Verb.FAA).putInt(0).putLong(service.regions().regions().get(0).key()).putLong(4096).putLong(5);
            send(s, batchFrame(1, faa.array(), 29));
            final Frame ok = readFrame(s);
            assertEquals(TcpFrames.BATCH_RESP, ok.type);
            assertEquals(1, ok.body.getShort(9));
            assertEquals(TcpFrames.STATUS_OK, ok.body.get(9 + 2 + 8));
        }
        assertServing(0);
    }

    @Test
    void readLargerThanTheFrameLimitIsRefusedNotBuffered() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer verb = ByteBuffer.allocate(25);
            verb.put(Verb.READ).putInt(0).putLong(service.regions().regions().get(0).key()).putLong(0).putInt(512 * 1024);
            send(s, batchFrame(1, verb.array(), 25));
            final Frame f = readFrame(s);
            assertRefused(f, RemoteAccessException.Reason.BAD_LENGTH);
        }
        assertServing(0);
    }

    @Test
    void misalignedAtomicIsRefused() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer verb = ByteBuffer.allocate(37);
            verb.put(Verb.CAS).putInt(0).putLong(service.regions().regions().get(0).key()).putLong(4099).putLong(0)
                .putLong(1);
            send(s, batchFrame(1, verb.array(), 37));
            assertRefused(readFrame(s), RemoteAccessException.Reason.MISALIGNED);
        }
        assertServing(0);
    }

    @Test
    void halfAFrameThenHangingUpLeavesTheNodeServing() throws IOException
    {
        try (Socket s = helloed())
        {
            final ByteBuffer b = ByteBuffer.allocate(9);
            b.putInt(100).put(TcpFrames.BATCH).putInt(7);
            send(s, b.array());
        }
        try (Socket s = socket())
        {
            s.getOutputStream().write(new byte[] {0, 0});
        }
        assertServing(0);
    }

    @Test
    void clientThatNeverReadsIsThrottledInsteadOfBuffered() throws Exception
    {
        final long key = service.regions().regions().get(0).key();
        final int frames = 50_000;
        final java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        try (Socket s = helloed())
        {
            // Each frame writes 4 KiB and asks for 32 KiB back: unthrottled, 50 000 of them would
            // make the node buffer 1.6 GB of responses.
            final ByteBuffer verbs = ByteBuffer.allocate(21 + 4 + 4096 + 25);
            verbs.put(Verb.WRITE).putInt(0).putLong(key).putLong(8192).putInt(4096).put(new byte[4096]);
            verbs.put(Verb.READ).putInt(0).putLong(key).putLong(0).putInt(32 * 1024);
            final byte[] frame = batchFrame(2, verbs.array(), verbs.capacity());
            final Thread writer = new Thread(() ->
            {
                try
                {
                    for (int i = 0; i < frames; i++)
                    {
                        s.getOutputStream().write(frame);
                        written.incrementAndGet();
                    }
                }
                catch (final IOException expected)
                {
                    // the socket is closed below while the writer is blocked: that is the point
                }
            });
            writer.setDaemon(true);
            writer.start();
            int last = -1;
            for (int i = 0; i < 60 && written.get() != last && writer.isAlive(); i++)
            {
                last = written.get();
                Thread.sleep(500);
            }
            assertTrue(writer.isAlive() && written.get() < frames, "the writer was never throttled: wrote "
                + written.get() + " frames");
        }
        assertServing(0);
    }

    private void assertServing(final long minProtocolErrors)
    {
        Serving.assertServes(server.endpoint(), ClientOptions.defaults(), 8192);
        assertTrue(server.protocolErrors() >= minProtocolErrors);
    }

    private Socket socket() throws IOException
    {
        final Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private Socket helloed() throws IOException
    {
        final Socket s = socket();
        final ByteBuffer b = ByteBuffer.allocate(4 + 1 + 10);
        b.putInt(11).put(TcpFrames.HELLO).putInt(ProtocolVersion.MAGIC).putShort((short)ProtocolVersion.PROTOCOL)
            .putShort((short)ProtocolVersion.DEFAULT_LAYOUT).putShort((short)0);
        send(s, b.array());
        assertEquals(TcpFrames.HELLO_OK, readFrame(s).type);
        return s;
    }

    private static byte[] batchFrame(final int count, final byte[] verbs, final int verbBytes)
    {
        final ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + 2 + verbBytes);
        b.putInt(1 + 8 + 2 + verbBytes).put(TcpFrames.BATCH).putLong(1).putShort((short)count).put(verbs, 0, verbBytes);
        return b.array();
    }

    private static void send(final Socket s, final byte[] bytes) throws IOException
    {
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
    }

    private static Frame readFrame(final Socket s) throws IOException
    {
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final int length = in.readInt();
        final byte[] body = new byte[length];
        in.readFully(body);
        return new Frame(body[0], ByteBuffer.wrap(body));
    }

    private static void assertRefused(final Frame f, final RemoteAccessException.Reason reason)
    {
        assertEquals(TcpFrames.BATCH_RESP, f.type);
        final ByteBuffer b = f.body;
        assertEquals(0, b.getShort(9), "no verb executed");
        assertEquals(TcpFrames.STATUS_REFUSED, b.get(11));
        assertEquals(reason.ordinal(), b.get(14));
    }

    private static void assertRefusedThenClosed(final Socket s, final String why) throws IOException
    {
        final Frame f = readFrame(s);
        assertEquals(TcpFrames.HELLO_REFUSED, f.type);
        assertTrue(f.text().contains(why), f.text());
        assertClosed(s);
    }

    private static void assertErrorThenClosed(final Socket s, final String why) throws IOException
    {
        final Frame f = readFrame(s);
        assertEquals(TcpFrames.ERROR, f.type);
        assertTrue(f.text().contains(why), f.text());
        assertClosed(s);
    }

    private static void assertClosed(final Socket s) throws IOException
    {
        final InputStream in = s.getInputStream();
        try
        {
            assertEquals(-1, in.read(), "connection should be closed");
        }
        catch (final SocketTimeoutException e)
        {
            throw new AssertionError("connection was not closed", e);
        }
        catch (final EOFException | java.net.SocketException closed)
        {
            // closed: as expected
        }
    }

    private record Frame(byte type, ByteBuffer body)
    {
        /** The message of an ERROR, or of a HELLO_REFUSED (after its magic). */
        String text()
        {
            final int at = type == TcpFrames.HELLO_REFUSED ? 5 : 1;
            final int n = body.getShort(at) & 0xFFFF;
            return new String(body.array(), at + 2, n, StandardCharsets.UTF_8);
        }
    }
}
