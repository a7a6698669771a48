package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.leak.NettyLeakCheck;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.transport.tcp.TcpFrames;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * A memory-node daemon under abuse by hand-made frames — connections dropped with responses in
 * flight, truncated and refused batches, RPCs with garbage arguments, frames cut short — keeps
 * serving and leaks no buffer
 * (the paranoid leak detector looks at every one).
 */
@Timeout(120)
class MemoryNodeAbuseTest
{
    private static final int READ_BYTES = 256 << 10;

    @Test
    void abusiveConnectionsLeakNothingAndTheNodeKeepsServing() throws Exception
    {
        NettyLeakCheck.install();
        NettyLeakCheck.takeLeaks();
        final MemoryNode node = MemoryNode.start(MemoryNode.Config.loopback("abused", 8L << 20, 2L << 20));
        try
        {
            final MemoryRegion region = node.service().regions().regions().get(0);
            for (int round = 0; round < 3; round++)
            {
                // Many large READs posted, then the connection reset before a response is read.
                try (Socket s = hello(node))
                {
                    final DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    for (int i = 0; i < 64; i++)
                    {
                        out.write(batch(i, region, Verb.READ, 0, READ_BYTES, 1));
                    }
                    out.flush();
                    s.setSoLinger(true, 0);
                }
                // Refused verbs (out of bounds, no such op), then a WRITE whose bytes are missing,
                // which ends the connection; and a batch that announces more verbs than it carries.
                try (Socket s = hello(node))
                {
                    send(s, batch(2, region, Verb.READ, region.length() - 8, 64, 1), batch(3, region, (byte)99, 0, 8, 1),
                        batch(4, region, Verb.WRITE, 0, 1 << 20, 1));
                    drain(s);
                }
                try (Socket s = hello(node))
                {
                    send(s, batch(1, region, Verb.READ, 0, 64, 3));
                    drain(s);
                }
                // RPCs with garbage for arguments, and one nobody serves, then a reset.
                try (Socket s = hello(node))
                {
                    final DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    for (final int method : new int[] {MemoryNodeRpc.FORMAT_REGION, MemoryNodeRpc.ALLOC_BLOCK, 12345})
                    {
                        out.writeInt(1 + 8 + 4 + 3);
                        out.writeByte(TcpFrames.RPC_REQ);
                        out.writeLong(method);
                        out.writeInt(method);
                        out.write(new byte[] {1, 2, 3});
                    }
                    out.flush();
                    s.setSoLinger(true, 0);
                }
                // Half a frame, then gone; and a batch before any hello.
                try (Socket s = connect(node))
                {
                    final byte[] b = batch(5, region, Verb.READ, 0, 64, 1);
                    s.getOutputStream().write(b, 0, b.length / 2);
                    s.getOutputStream().flush();
                }
                try (Socket s = connect(node))
                {
                    send(s, batch(6, region, Verb.READ, 0, 64, 1));
                    drain(s);
                }
            }
            try (TcpVerbsTransport tcp = new TcpVerbsTransport();
                VerbsClient c = VerbsClient.connect(tcp, List.of(node.tcpEndpoint()), ClientOptions.defaults()))
            {
                final VerbBatch b = new VerbBatch();
                final int faa = b.faa(c.channel(0).region(0), 4096, 5);
                b.read(c.channel(0).region(0), 0, new UnsafeBuffer(new byte[64]), 0, 64);
                c.execute(b);
                assertEquals(0, b.result(faa), "the node still serves verbs");
            }
        }
        finally
        {
            node.close();
        }
        assertEquals(List.of(), NettyLeakCheck.takeLeaks(), "buffers the daemon never released");
    }

    private static Socket connect(final MemoryNode node) throws IOException
    {
        final Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", node.tcpPort()), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** A connection past its hello (the answer read and dropped). */
    private static Socket hello(final MemoryNode node) throws IOException
    {
        final Socket s = connect(node);
        final ByteArrayOutputStream frame = new ByteArrayOutputStream();
        final DataOutputStream body = new DataOutputStream(frame);
        body.writeByte(TcpFrames.HELLO);
        body.writeInt(ProtocolVersion.MAGIC);
        body.writeShort(ProtocolVersion.PROTOCOL);
        body.writeShort(ProtocolVersion.DEFAULT_LAYOUT);
        body.writeShort(0);
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(frame.size());
        frame.writeTo(out);
        out.flush();
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final byte[] answer = new byte[in.readInt()];
        in.readFully(answer);
        assertEquals(TcpFrames.HELLO_OK, answer[0], "hello accepted");
        return s;
    }

    /** A BATCH frame announcing {@code count} verbs but carrying one {@code op}. */
    private static byte[] batch(final long requestId, final MemoryRegion region, final byte op, final long offset,
        final int length, final int count) throws IOException
    {
        final ByteArrayOutputStream frame = new ByteArrayOutputStream();
        final DataOutputStream body = new DataOutputStream(frame);
        body.writeByte(TcpFrames.BATCH);
        body.writeLong(requestId);
        body.writeShort(count);
        body.writeByte(op);
        body.writeInt(region.id());
        body.writeLong(region.key());
        body.writeLong(offset);
        if (op == Verb.READ || op == Verb.WRITE)
        {
            body.writeInt(length);
        }
        else
        {
            body.writeLong(0);
        }
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        new DataOutputStream(all).writeInt(frame.size());
        frame.writeTo(all);
        return all.toByteArray();
    }

    /** Sends {@code frames} in one write; the node may already have closed the connection. */
    private static void send(final Socket s, final byte[]... frames)
    {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (final byte[] f : frames)
        {
            all.writeBytes(f);
        }
        try
        {
            s.getOutputStream().write(all.toByteArray());
            s.getOutputStream().flush();
        }
        catch (final IOException e)
        {
            // closed by the node after an earlier bad frame: what the test provokes
        }
    }

    /** Reads until the node closes the connection (or stops answering). */
    private static void drain(final Socket s)
    {
        try
        {
            final byte[] sink = new byte[8192];
            while (s.getInputStream().read(sink) >= 0)
            {
                // answers and error frames are not what this test is about
            }
        }
        catch (final IOException e)
        {
            // reset or timed out: either way the exchange is over
        }
    }
}
