package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.Handshake;
import io.dmkv.rdma.security.SelfSignedTls;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * A memory node with a cluster secret: peers without it, or with another, get one refusal and
 * nothing else (no region key, no data); peers with it work over plain tcp and over TLS; a flood
 * of hostile connections leaves it serving. And a client that reached something other than a
 * memory node says so.
 */
@Timeout(120)
class AuthenticatedHelloTest
{
    private static final ClusterSecret SECRET = ClusterSecret.of("the cluster's own secret, 32 bytes".getBytes());
    private static final ClusterSecret WRONG = ClusterSecret.of("somebody else's secret, 32 bytes!".getBytes());

    /** A first TLS handshake on a loaded 2-core machine can take seconds. */
    private static final java.time.Duration SLOW_BOX = java.time.Duration.ofSeconds(20);

    private MemoryNodeService service;
    private TcpVerbsServer server;

    @BeforeEach
    void start()
    {
        service = new MemoryNodeService("mn-secret", RegionTable.allocate(4 << 20, 1 << 20),
            ProtocolVersion.DEFAULT_LAYOUT).secret(SECRET);
        server = TcpVerbsServer.start(service, "127.0.0.1", 0, 1 << 20, 1);
    }

    @AfterEach
    void stop()
    {
        server.close();
        service.close();
    }

    @Test
    void theRightSecretWorksOverPlainTcp()
    {
        assertEquals(1, assertServes(server, ClientOptions.builder().secret(SECRET).build()),
            "a blocking caller's lane passes the same challenge and proof");
        assertEquals(0, server.refusedHellos());
    }

    @Test
    void rdmaQueuePairsAreAdmittedOnlyFromHostsWithAnAuthenticatedControlConnection() throws Exception
    {
        final java.net.InetSocketAddress loopback = new java.net.InetSocketAddress("127.0.0.1", 7420);
        assertFalse(service.admitsQueuePairFrom(loopback), "nobody authenticated yet");
        assertThrows(HandshakeException.class, () -> connect(server, ClientOptions.builder().secret(WRONG).build()));
        assertFalse(service.admitsQueuePairFrom(loopback), "a refused hello admits nothing");
        try (TcpVerbsTransport tcp = new TcpVerbsTransport();
            io.dmkv.rdma.VerbsChannel control = tcp.connect(server.endpoint(), ClientOptions.builder().secret(SECRET)
                .build()))
        {
            assertTrue(service.admitsQueuePairFrom(loopback), "the host holds an authenticated control connection");
            assertFalse(service.admitsQueuePairFrom(new java.net.InetSocketAddress("127.0.0.2", 7420)),
                "another host does not");
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (service.admitsQueuePairFrom(loopback) && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertFalse(service.admitsQueuePairFrom(loopback), "closed, the connection admits no more");
    }

    @Test
    void theRightSecretWorksOverTls(@TempDir final Path dir)
    {
        final TlsConfig tls = SelfSignedTls.create(dir);
        try (TcpVerbsServer tlsServer = TcpVerbsServer.start(service, "127.0.0.1", 0, 1 << 20, 1,
            tls.serverContext()))
        {
            assertEquals(0, assertServes(tlsServer, ClientOptions.builder().secret(SECRET).tls(tls).connectTimeout(SLOW_BOX)
                .build()), "no lanes with TLS");
            final VerbsException plain = assertThrows(VerbsException.class,
                () -> connect(tlsServer, ClientOptions.builder().secret(SECRET).connectTimeout(java.time.Duration
                    .ofSeconds(2)).build()).close(), "a plain client cannot talk to a TLS node");
            assertFalse(plain.getMessage().contains("oversized"), plain.getMessage());
        }
        final HandshakeException e = assertThrows(HandshakeException.class,
            () -> connect(server, ClientOptions.builder().secret(SECRET).tls(tls).build()).close());
        assertTrue(e.getMessage().contains("TLS with memory node at " + server.endpoint() + " failed"), e.getMessage());
    }

    @Test
    void aClientWithoutTheSecretIsToldToConfigureIt()
    {
        final HandshakeException e = assertThrows(HandshakeException.class,
            () -> connect(server, ClientOptions.defaults()).close());
        assertTrue(e.getMessage().contains("refused the hello: authentication required"), e.getMessage());
        assertTrue(e.getMessage().contains("set dmkv.secretFile"), e.getMessage());
        assertEquals(1, server.refusedHellos());
    }

    @Test
    void aClientWithAnotherSecretIsRefused()
    {
        final HandshakeException e = assertThrows(HandshakeException.class,
            () -> connect(server, ClientOptions.builder().secret(WRONG).build()).close());
        assertTrue(e.getMessage().contains("refused the hello: authentication failed"), e.getMessage());
        assertEquals(1, server.refusedHellos());
    }

    @Test
    void aClientWithASecretRefusesANodeWithout()
    {
        try (MemoryNodeService open = new MemoryNodeService("mn-open", RegionTable.allocate(1 << 20, 1 << 20),
            ProtocolVersion.DEFAULT_LAYOUT); TcpVerbsServer openServer = TcpVerbsServer.start(open, "127.0.0.1", 0))
        {
            final HandshakeException e = assertThrows(HandshakeException.class,
                () -> connect(openServer, ClientOptions.builder().secret(SECRET).build()).close());
            assertTrue(e.getMessage().contains("runs without a cluster secret"), e.getMessage());
            assertServes(openServer, ClientOptions.defaults());
        }
    }

    @Test
    void anUnauthenticatedPeerGetsOneRefusalAndNothingElse() throws IOException
    {
        try (Socket s = socket())
        {
            send(s, hello(new byte[0]));
            final byte[] all = readAll(s);
            assertEquals(TcpFrames.HELLO_REFUSED, all[4], "one refusal");
            assertEquals(all.length, 4 + ByteBuffer.wrap(all).getInt(0), "and nothing after it");
            assertNoRegionKeyIn(all);
        }
        assertEquals(1, server.refusedHellos());
    }

    @Test
    void aPeerWithAWrongProofGetsAChallengeThenOneRefusalAndNothingElse() throws IOException
    {
        try (Socket s = socket())
        {
            final Handshake.Initiator wrong = new Handshake.Initiator(WRONG);
            send(s, hello(wrong.nonce()));
            final DataInputStream in = new DataInputStream(s.getInputStream());
            final byte[] challenge = new byte[in.readInt()];
            in.readFully(challenge);
            assertEquals(TcpFrames.HELLO_CHALLENGE, challenge[0]);
            assertEquals(1 + 4 + 2 + Handshake.NONCE_BYTES, challenge.length, "magic and a nonce, no more");
            final byte[] nonce = new byte[Handshake.NONCE_BYTES];
            System.arraycopy(challenge, 7, nonce, 0, nonce.length);
            send(s, frame(TcpFrames.HELLO_PROOF, field(wrong.prove(nonce))));
            final byte[] rest = readAll(s);
            assertEquals(TcpFrames.HELLO_REFUSED, rest[4]);
            assertEquals(rest.length, 4 + ByteBuffer.wrap(rest).getInt(0), "one refusal, then the end");
            assertNoRegionKeyIn(challenge);
            assertNoRegionKeyIn(rest);
        }
        assertEquals(1, server.refusedHellos());
    }

    @Test
    void aClientThatReachedAWebServerSaysItIsNotAMemoryNode() throws Exception
    {
        final String message = notAMemoryNode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", false);
        assertTrue(message.contains("\"HTTP/1.1 400 Bad Request"), message);
        assertFalse(message.contains("oversized"), message);
    }

    @Test
    void aClientThatReachedAServiceWithABannerSaysItIsNotAMemoryNode() throws Exception
    {
        final String message = notAMemoryNode("SSH-2.0-OpenSSH_9.2p1\r\n", true);
        assertTrue(message.contains("SSH-2.0"), message);
    }

    /**
     * Connects to a loopback service that writes {@code text} (at once, or after reading the
     * hello) and returns the message of the client's {@link HandshakeException}, checked to
     * start with "not a dmkv memory node at HOST:PORT".
     */
    private static String notAMemoryNode(final String text, final boolean first) throws IOException
    {
        try (ServerSocket other = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
            TcpVerbsTransport tcp = new TcpVerbsTransport())
        {
            final Thread t = answerEveryConnection(other, text.getBytes(StandardCharsets.US_ASCII), first);
            final String endpoint = "127.0.0.1:" + other.getLocalPort();
            final HandshakeException e = assertThrows(HandshakeException.class,
                () -> tcp.connect(endpoint, ClientOptions.defaults()).close());
            assertTrue(e.getMessage().startsWith("not a dmkv memory node at " + endpoint), e.getMessage());
            t.interrupt();
            return e.getMessage();
        }
    }

    @Test
    void aNodeThatChallengesTwiceGetsOneProofAndARefusal() throws Exception
    {
        final byte[] challenge = frame(TcpFrames.HELLO_CHALLENGE, ByteBuffer.allocate(4 + 2 + Handshake.NONCE_BYTES)
            .putInt(ProtocolVersion.MAGIC).putShort((short)Handshake.NONCE_BYTES).put(Handshake.nonce()).array());
        final byte[] twice = ByteBuffer.allocate(2 * challenge.length).put(challenge).put(challenge).array();
        final VerbsException e = connectWithSecretFails(twice);
        assertTrue(e instanceof HandshakeException, e.toString());
        assertTrue(e.getMessage().contains("sent a second challenge"), e.getMessage());
    }

    /** A challenge cut short fails the connect with the reason (and leaks no buffer: the class's leak check). */
    @Test
    void aNodeThatCutsItsChallengeShortFailsTheConnect() throws Exception
    {
        final byte[] cut = frame(TcpFrames.HELLO_CHALLENGE, ByteBuffer.allocate(4).putInt(ProtocolVersion.MAGIC).array());
        final VerbsException e = connectWithSecretFails(cut);
        assertTrue(e.getMessage().contains("truncated frame"), e.getMessage());
    }

    /** Connects with the secret to a node that answers every connection with {@code bytes}: the error the connect fails with. */
    private static VerbsException connectWithSecretFails(final byte[] bytes) throws Exception
    {
        try (ServerSocket fake = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
            TcpVerbsTransport tcp = new TcpVerbsTransport())
        {
            final Thread t = answerEveryConnection(fake, bytes, false);
            final VerbsException e = assertThrows(VerbsException.class,
                () -> tcp.connect("127.0.0.1:" + fake.getLocalPort(), ClientOptions.builder().secret(SECRET).build()));
            t.interrupt();
            return e;
        }
    }

    @Test
    void aFloodOfHostileConnectionsLeavesTheNodeServing() throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        final List<Thread> attackers = new ArrayList<>();
        final int[] attempts = new int[4];
        for (int a = 0; a < attempts.length; a++)
        {
            final int id = a;
            final Thread t = new Thread(() ->
            {
                final Random random = new Random(id);
                for (int i = 0; i < 150 && System.nanoTime() < deadline; i++)
                {
                    try (Socket s = socket())
                    {
                        send(s, hostile(random, i));
                        if (i % 5 != 4)
                        {
                            readAll(s);
                        }
                        // a hello cut short: hang up (the node would wait out its hello timeout)
                    }
                    catch (final IOException e)
                    {
                        // reset by the node: expected for some of these
                    }
                    attempts[id]++;
                }
            }, "attacker-" + a);
            t.start();
            attackers.add(t);
        }
        // A well-behaved client works while the flood goes on, and after it.
        try (TcpVerbsTransport tcp = new TcpVerbsTransport();
            VerbsClient c = VerbsClient.connect(tcp, List.of(server.endpoint()),
                ClientOptions.builder().secret(SECRET).build()))
        {
            for (int i = 0; i < 50; i++)
            {
                final VerbBatch b = new VerbBatch();
                final int at = b.faa(c.channel(0).region(0), 8, 1);
                c.execute(b);
                assertEquals(i, b.result(at));
            }
        }
        for (final Thread t : attackers)
        {
            t.join();
        }
        int total = 0;
        for (final int n : attempts)
        {
            total += n;
        }
        assertTrue(total >= attempts.length, "the attackers ran: " + total);
        assertTrue(server.refusedHellos() >= total * 3 / 5, "refused " + server.refusedHellos() + " of " + total);
        assertTrue(total >= 4 * 150 || System.nanoTime() >= deadline, "every attacker ran its course: " + total);
        assertServes(server, ClientOptions.builder().secret(SECRET).build());
    }

    /** A hostile opening: no secret, a wrong proof, garbage, a huge length, a frame cut short. */
    private static byte[] hostile(final Random random, final int i)
    {
        switch (i % 5)
        {
            case 0:
                return hello(new byte[0]);
            case 1:
                return hello(new byte[Handshake.NONCE_BYTES + 1 + random.nextInt(30)]);
            case 2:
            {
                final byte[] b = new byte[1 + random.nextInt(2000)];
                random.nextBytes(b);
                return b;
            }
            case 3:
                return ByteBuffer.allocate(9).putInt(Integer.MAX_VALUE).put(TcpFrames.BATCH).putInt(0).array();
            default:
            {
                final byte[] h = hello(new byte[Handshake.NONCE_BYTES]);
                return java.util.Arrays.copyOf(h, h.length - 7);
            }
        }
    }

    private void assertNoRegionKeyIn(final byte[] bytes)
    {
        for (final io.dmkv.rdma.server.MemoryRegion r : service.regions().regions())
        {
            final byte[] key = ByteBuffer.allocate(8).putLong(r.key()).array();
            for (int i = 0; i + key.length <= bytes.length; i++)
            {
                assertFalse(java.util.Arrays.equals(bytes, i, i + key.length, key, 0, key.length),
                    "region " + r.id() + "'s key was sent to an unauthenticated peer");
            }
        }
    }

    /** As {@link Serving#assertServes}; returns the lanes the client opened. */
    private static int assertServes(final TcpVerbsServer node, final ClientOptions options)
    {
        return Serving.assertServes(node.endpoint(), options, 0);
    }

    private static io.dmkv.rdma.VerbsChannel connect(final TcpVerbsServer node, final ClientOptions options)
    {
        final TcpVerbsTransport tcp = new TcpVerbsTransport();
        try
        {
            return tcp.connect(node.endpoint(), options);
        }
        finally
        {
            tcp.close();
        }
    }

    /** Accepts connections and writes {@code answer} to each: at once ({@code first}) or after reading. */
    private static Thread answerEveryConnection(final ServerSocket listener, final byte[] answer, final boolean first)
    {
        final Thread t = new Thread(() ->
        {
            while (!listener.isClosed())
            {
                try (Socket s = listener.accept())
                {
                    if (!first)
                    {
                        s.getInputStream().read(new byte[64]);
                    }
                    s.getOutputStream().write(answer);
                    s.getOutputStream().flush();
                    s.setSoTimeout(5_000);
                    s.getInputStream().read(new byte[64]);
                }
                catch (final IOException e)
                {
                    // closed by the test, or by the client
                }
            }
        }, "not-a-memory-node");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private Socket socket() throws IOException
    {
        final Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(15_000);
        return s;
    }

    private static byte[] hello(final byte[] nonce)
    {
        final ByteBuffer b = ByteBuffer.allocate(4 + 2 + 2 + 2 + nonce.length);
        b.putInt(ProtocolVersion.MAGIC).putShort((short)ProtocolVersion.PROTOCOL)
            .putShort((short)ProtocolVersion.DEFAULT_LAYOUT).putShort((short)nonce.length).put(nonce);
        return frame(TcpFrames.HELLO, b.array());
    }

    private static byte[] field(final byte[] bytes)
    {
        return ByteBuffer.allocate(2 + bytes.length).putShort((short)bytes.length).put(bytes).array();
    }

    private static byte[] frame(final byte type, final byte[] body)
    {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        try
        {
            final DataOutputStream out = new DataOutputStream(all);
            out.writeInt(1 + body.length);
            out.writeByte(type);
            out.write(body);
        }
        catch (final IOException e)
        {
            throw new AssertionError(e);
        }
        return all.toByteArray();
    }

    private static void send(final Socket s, final byte[] bytes) throws IOException
    {
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
    }

    /** Everything the node sends until it closes the connection. */
    private static byte[] readAll(final Socket s) throws IOException
    {
        final InputStream in = s.getInputStream();
        return in.readAllBytes();
    }
}
