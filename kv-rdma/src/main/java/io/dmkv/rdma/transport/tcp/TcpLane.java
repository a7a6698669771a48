package io.dmkv.rdma.transport.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.InlineLane;
import io.dmkv.rdma.ProtocolException;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.security.Handshake;
import io.dmkv.rdma.transport.Endpoints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

/**
 * One thread's own blocking connection to a memory node: the thread writes its frame and reads
 * the answer itself, as a plain socket ping-pong does, with no event loop between it and the
 * socket and no wake-up to hand the answer over. Opened by {@link TcpLanes} on a thread's
 * first inline round trip, with the channel's hello (the challenge and proof too); never with
 * TLS. The node serves it like any connection. It carries batch parts and RPCs, strictly one
 * frame out, one answer in, so the answer needs no matching. The channel's sweep closes a lane
 * whose round trip is past its deadline ({@link #expireIfOverdue}), which ends the blocked read.
 * Buffers are the lane's own, direct (the socket reads and writes them with no copy through the
 * JDK's temporary direct buffers), and grow to the largest frame seen: a round trip allocates
 * nothing.
 */
final class TcpLane implements InlineLane
{
    /**
     * A lane's buffers, direct and never released: the sweep may close a lane while its thread
     * reads, so the collector (the JDK buffers' cleaners) frees them, not the lane; growing one
     * frees its old memory at once.
     */
    private static final ByteBufAllocator BUFFERS = new UnpooledByteBufAllocator(true, true, false);

    private final TcpVerbsChannel owner;
    private final TcpLanes registry;
    private final SocketChannel socket;
    private final Thread thread = Thread.currentThread();
    private final ByteBuf out = BUFFERS.directBuffer(1024);
    private final ByteBuf in = BUFFERS.directBuffer(4096);
    /** {@code in}'s memory as a ByteBuffer, for RPC answers handed out without a copy. */
    private ByteBuffer inView = in.nioBuffer(0, in.capacity());
    private long nextId;
    private final LaneDeadline deadline = new LaneDeadline();
    private volatile boolean expired;
    private volatile boolean open = true;

    private TcpLane(final TcpVerbsChannel owner, final TcpLanes registry, final SocketChannel socket)
    {
        this.owner = owner;
        this.registry = registry;
        this.socket = socket;
    }

    /**
     * Connects to {@code endpoint} and says hello as {@code options} say.
     *
     * @throws VerbsException if the node cannot be reached or refuses the hello.
     */
    static TcpLane open(final TcpVerbsChannel owner, final TcpLanes registry, final String endpoint,
        final ClientOptions options)
    {
        final SocketChannel socket;
        try
        {
            socket = SocketChannel.open();
        }
        catch (final IOException e)
        {
            throw new ConnectionException("cannot open a socket to " + endpoint + ": " + e.getMessage(), e);
        }
        final TcpLane lane = new TcpLane(owner, registry, socket);
        try
        {
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            socket.socket().connect(new InetSocketAddress(Endpoints.host(endpoint), Endpoints.port(endpoint)),
                (int)Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()));
            registry.opened(lane);
            // The sweep bounds the hello as it bounds a round trip.
            lane.deadline.start(owner.deadline());
            lane.hello(endpoint, options);
            if (!lane.deadline.finish())
            {
                throw new IOException("the hello's deadline passed");
            }
            return lane;
        }
        catch (final IOException | RuntimeException e)
        {
            lane.close();
            if (lane.expired)
            {
                throw new ConnectionException("memory node at " + endpoint + " did not answer a lane's hello in time");
            }
            throw e instanceof VerbsException ? (VerbsException)e
                : new ConnectionException("lane to memory node at " + endpoint + " failed: " + e.getMessage(), e);
        }
    }

    private void hello(final String endpoint, final ClientOptions options) throws IOException
    {
        final TcpHello greeting = new TcpHello(endpoint, options);
        out.clear();
        greeting.writeHello(out, options.layoutVersion());
        writeOut();
        readFrame();
        byte type = in.readByte();
        if (type == TcpFrames.HELLO_CHALLENGE)
        {
            out.clear();
            greeting.answerChallenge(in, out);
            writeOut();
            readFrame();
            type = in.readByte();
        }
        if (type == TcpFrames.HELLO_REFUSED)
        {
            throw greeting.refused(in);
        }
        if (type != TcpFrames.HELLO_OK)
        {
            throw new ProtocolException("memory node at " + endpoint + " answered the hello with frame type " + type);
        }
        greeting.checkOk(in);
    }

    /** True while the lane can carry a round trip for the current thread. */
    boolean usable()
    {
        return open && Thread.currentThread() == thread;
    }

    @Override
    public Throwable send(final VerbBatch batch, final int part)
    {
        final Throwable refused = owner.admit(batch, part);
        if (refused != null)
        {
            return refused;
        }
        deadline.start(owner.deadline());
        out.clear();
        TcpFrames.encodeBatch(out, batch.isEcho() ? TcpFrames.ECHO : TcpFrames.BATCH, ++nextId, batch, part);
        try
        {
            writeOut();
            return null;
        }
        catch (final IOException e)
        {
            return failed(e);
        }
    }

    @Override
    public Throwable receive(final VerbBatch batch, final int part)
    {
        try
        {
            readFrame();
            if (!deadline.finish())
            {
                // The sweep found this round trip past its deadline as it ended and is closing the
                // lane: the answer is whole, but the next round trip must take another lane.
                open = false;
            }
            final boolean echo = batch.isEcho();
            final ProtocolException wrong = unexpected(in.readByte(), echo ? TcpFrames.ECHO_RESP : TcpFrames.BATCH_RESP,
                echo ? "an echo" : "a batch");
            return wrong != null || echo ? wrong : TcpFrames.readBatchResults(in, batch, part);
        }
        catch (final IOException e)
        {
            return failed(e);
        }
        catch (final IndexOutOfBoundsException e)
        {
            return truncated(e);
        }
    }

    @Override
    public ByteBuffer rpc(final int method, final ByteBuffer request)
    {
        if (owner.isClosed())
        {
            throw owner.closed();
        }
        final int requestBytes = request.remaining();
        final RpcException tooLarge = TcpFrames.rpcTooLarge(requestBytes, owner.maxFrame());
        if (tooLarge != null)
        {
            throw tooLarge;
        }
        deadline.start(owner.deadline());
        out.clear();
        TcpFrames.encodeRpcRequest(out, ++nextId, method, request);
        try
        {
            writeOut();
            readFrame();
            if (!deadline.finish())
            {
                // As in receive: the answer is whole, but the sweep is closing the lane.
                open = false;
            }
            final ProtocolException wrong = unexpected(in.readByte(), TcpFrames.RPC_RESP, "an RPC");
            if (wrong != null)
            {
                throw wrong;
            }
            final int status = in.readUnsignedByte();
            owner.counters().rpc(requestBytes, in.readableBytes());
            if (status != RpcStatus.OK)
            {
                throw new RpcException(status, in.toString(StandardCharsets.UTF_8));
            }
            return inView.limit(in.writerIndex()).position(in.readerIndex());
        }
        catch (final IOException e)
        {
            throw failed(e);
        }
        catch (final IndexOutOfBoundsException e)
        {
            throw truncated(e);
        }
    }

    /**
     * Null when the frame read is of type {@code expected} and answers the request just sent (its
     * id read); otherwise closes the lane and says what the node did instead.
     */
    private ProtocolException unexpected(final byte type, final byte expected, final String what)
    {
        if (type != expected)
        {
            final String why = type == TcpFrames.ERROR ? "closed the connection: " + TcpFrames.readString(in)
                : "sent frame type " + type + " for " + what;
            close();
            return new ProtocolException("memory node " + owner.node() + " " + why);
        }
        final long id = in.readLong();
        if (id != nextId)
        {
            close();
            return new ProtocolException("memory node " + owner.node() + " answered request " + id + " for " + nextId);
        }
        return null;
    }

    private ProtocolException truncated(final IndexOutOfBoundsException e)
    {
        close();
        return new ProtocolException("memory node " + owner.node() + " sent a truncated frame: " + e.getMessage());
    }

    /** Called by the channel's sweep: fails the round trip under way if it is past its deadline at {@code now}. */
    void expireIfOverdue(final long now)
    {
        if (deadline.expire(now) != 0)
        {
            expired = true;
            close();
        }
    }

    /** Closes the lane if the thread it belongs to has ended. */
    void closeIfOrphaned()
    {
        if (!thread.isAlive())
        {
            close();
        }
    }

    void close()
    {
        open = false;
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // Closing: nothing left to do with it.
        }
        registry.closed(this);
    }

    private VerbsException failed(final IOException e)
    {
        deadline.finish();
        close();
        if (expired)
        {
            return owner.timeoutError();
        }
        return new ConnectionException("connection to " + owner.node() + " failed: " + e.getMessage(), e);
    }

    private void writeOut() throws IOException
    {
        while (out.isReadable())
        {
            out.readBytes(socket, out.readableBytes());
        }
    }

    /** Reads one whole frame into {@code in}, positioned after its length field. */
    private void readFrame() throws IOException
    {
        in.clear();
        fill(TcpFrames.LENGTH_FIELD);
        final int length = in.getInt(0);
        if (length <= 0 || length > owner.maxFrame())
        {
            throw new IOException("bad frame length " + length);
        }
        if (in.capacity() < TcpFrames.LENGTH_FIELD + length)
        {
            in.capacity(Math.max(TcpFrames.LENGTH_FIELD + length, 2 * in.capacity()));
            inView = in.nioBuffer(0, in.capacity());
        }
        fill(TcpFrames.LENGTH_FIELD + length);
        in.readerIndex(TcpFrames.LENGTH_FIELD);
    }

    private void fill(final int bytes) throws IOException
    {
        while (in.writerIndex() < bytes)
        {
            if (in.writeBytes(socket, in.writableBytes()) < 0)
            {
                throw new IOException("the memory node closed the connection");
            }
        }
    }
}
