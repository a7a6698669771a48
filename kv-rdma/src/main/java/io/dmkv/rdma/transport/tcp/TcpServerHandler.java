package io.dmkv.rdma.transport.tcp;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbRules;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.Handshake;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.VerbExecutor;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * One connection of a memory node: the hello, then batches executed in order, RPCs handed to
 * workers, echoes. Anything malformed is answered with an ERROR frame and the connection is
 * closed; a refused verb (bad key, bounds, alignment) is answered and the connection stays.
 *
 * <p>The hello: versions checked, then, when the node has a cluster secret, the
 * {@link Handshake} (challenge, the client's proof, the node's proof in HELLO_OK). Until it is
 * done the node sends nothing but the challenge or one HELLO_REFUSED, and {@link HelloGuard}
 * bounds what the peer may send; regions and their keys go out only in HELLO_OK.
 *
 * <p>Answers to the frames of one read burst go into one buffer, written and flushed once when
 * the burst ends ({@link #channelReadComplete}): a client that pipelines gets its answers in one
 * {@code write}, and the node allocates one buffer per burst rather than one per frame. An RPC
 * answered on another thread leaves from that thread when the socket allows it
 * ({@link TcpAnswerWire}); one answered on the loop is written and flushed at once, so no direct
 * answer waits for it and none overtakes it.
 */
final class TcpServerHandler extends ChannelInboundHandlerAdapter
{
    private static final Logger LOG = LoggerFactory.getLogger(TcpServerHandler.class);
    private static final int MAX_RPCS_IN_FLIGHT = 1024;
    /** Answers held back past this many bytes are written (not yet flushed) so a burst's buffer stays bounded. */
    private static final int BURST_BYTES = 256 << 10;

    private final TcpVerbsServer server;
    private final MemoryNodeService service;
    private final UnsafeBuffer flyweight = new UnsafeBuffer(0, 0);
    private final AtomicInteger rpcsInFlight = new AtomicInteger();
    /** Answers of the current read burst, not yet written. */
    private ByteBuf burst;
    private boolean written;
    /** Every write to the socket; null until the handler is added. */
    private TcpAnswerWire wire;
    private boolean helloDone;
    private boolean failed;
    /** Between a HELLO and its proof, on a node with a secret. */
    private Handshake.Responder responder;
    /** Ends this connection's count as an authenticated host (null: not authenticated). */
    private Runnable leave;

    TcpServerHandler(final TcpVerbsServer server)
    {
        this.server = server;
        this.service = server.service();
    }

    boolean helloDone()
    {
        return helloDone;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        wire = new TcpAnswerWire(ctx.channel(), server);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        final ByteBuf frame = (ByteBuf)msg;
        try
        {
            if (failed)
            {
                return;
            }
            if (!frame.isReadable())
            {
                fail(ctx, "empty frame");
                return;
            }
            final byte type = frame.readByte();
            if (!helloDone)
            {
                hello(ctx, type, frame);
                return;
            }
            switch (type)
            {
                case TcpFrames.BATCH:
                    batch(ctx, frame);
                    break;
                case TcpFrames.RPC_REQ:
                    rpc(ctx, frame);
                    break;
                case TcpFrames.ECHO:
                    TcpFrames.encodeEchoResponse(out(ctx, frame.readableBytes() + 16), frame);
                    break;
                default:
                    fail(ctx, "unknown frame type " + type);
                    break;
            }
        }
        catch (final IndexOutOfBoundsException e)
        {
            if (helloDone)
            {
                fail(ctx, "truncated frame: " + e.getMessage());
            }
            else
            {
                refuse(ctx, "truncated hello frame");
            }
        }
        finally
        {
            frame.release();
        }
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        final ByteBuf b = burst;
        burst = null;
        if (b != null || written)
        {
            written = false;
            wire.write(b, true);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        wire.stop();
        if (leave != null)
        {
            leave.run();
            leave = null;
        }
        if (burst != null)
        {
            burst.release();
            burst = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx)
    {
        // A client that posts without reading its responses stalls here instead of growing our memory.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        if (cause instanceof HelloGuard.NotDmkvPeerException)
        {
            refuse(ctx, "not a dmkv client: " + cause.getMessage());
        }
        else if (cause instanceof TooLongFrameException)
        {
            fail(ctx, "oversized frame: " + cause.getMessage());
        }
        else if (ctx.channel().isActive())
        {
            LOG.debug("{}: connection {} failed", service.name(), ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }

    /** The buffer for this burst's answers, with room for at least {@code bytes} more. */
    private ByteBuf out(final ChannelHandlerContext ctx, final int bytes)
    {
        if (burst != null && burst.writerIndex() > BURST_BYTES)
        {
            writeBurst(ctx);
        }
        if (burst == null)
        {
            burst = ctx.alloc().directBuffer(Math.max(1024, bytes));
        }
        return burst;
    }

    private void writeBurst(final ChannelHandlerContext ctx)
    {
        if (burst != null)
        {
            final ByteBuf b = burst;
            burst = null;
            wire.write(b, false);
            written = true;
        }
    }

    /** A frame before the hello is done: HELLO, then HELLO_PROOF when the node has a secret. */
    private void hello(final ChannelHandlerContext ctx, final byte type, final ByteBuf in)
    {
        if (type == TcpFrames.HELLO && responder == null)
        {
            final TcpFrames.Hello hello;
            try
            {
                hello = TcpFrames.decodeHello(in);
            }
            catch (final IllegalArgumentException e)
            {
                refuse(ctx, e.getMessage());
                return;
            }
            final String refused = service.checkHello(hello.magic(), hello.protocol(), hello.layout());
            if (refused != null)
            {
                refuse(ctx, refused);
                return;
            }
            final ClusterSecret secret = service.secret();
            if (secret == null)
            {
                accept(ctx, new byte[0]);
                return;
            }
            try
            {
                responder = new Handshake.Responder(secret, hello.nonce());
            }
            catch (final IllegalArgumentException e)
            {
                refuse(ctx, "authentication required: the memory node has a cluster secret and the client did not"
                    + " offer one (set dmkv.secretFile): " + e.getMessage());
                return;
            }
            ctx.writeAndFlush(TcpFrames.encodeHelloField(ctx.alloc().buffer(), TcpFrames.HELLO_CHALLENGE,
                responder.nonce()));
            return;
        }
        if (type == TcpFrames.HELLO_PROOF && responder != null)
        {
            final byte[] proof;
            try
            {
                proof = TcpFrames.readField(in);
            }
            catch (final IllegalArgumentException e)
            {
                refuse(ctx, e.getMessage());
                return;
            }
            if (!responder.verify(proof))
            {
                refuse(ctx, "authentication failed: the client's cluster secret differs from the memory node's");
                return;
            }
            leave = service.authenticated(ctx.channel().remoteAddress());
            accept(ctx, responder.prove());
            return;
        }
        refuse(ctx, "expected " + (responder == null ? "HELLO" : "HELLO_PROOF") + ", got frame type " + type);
    }

    /** The hello is done: the guard steps aside and HELLO_OK tells the regions and their keys. */
    private void accept(final ChannelHandlerContext ctx, final byte[] proof)
    {
        helloDone = true;
        responder = null;
        if (ctx.pipeline().get(HelloGuard.NAME) != null)
        {
            ctx.pipeline().remove(HelloGuard.NAME);
        }
        wire.start();
        TcpFrames.encodeHelloOk(out(ctx, 256), proof, service.name(), service.layoutVersion(), service.shmFile(),
            service.rdmaPort(), service.regionInfos());
    }

    /** One HELLO_REFUSED, then the connection closes; logged at most once per host per period. */
    private void refuse(final ChannelHandlerContext ctx, final String why)
    {
        if (failed)
        {
            return;
        }
        failed = true;
        responder = null;
        server.helloRefused(ctx.channel().remoteAddress(), why);
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(TcpFrames.messageFrame(ctx.alloc().buffer(), TcpFrames.HELLO_REFUSED, why))
            .addListener(ChannelFutureListener.CLOSE);
    }

    private void batch(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        final long requestId = in.readLong();
        final int count = in.readUnsignedShort();
        final ByteBuf out = out(ctx, 64);
        final int start = TcpFrames.beginBatchResponse(out, requestId);
        final int budget = server.maxFrame() - TcpFrames.BATCH_RESP_HEADER - TcpFrames.BATCH_RESP_TRAILER_MAX;
        int executed = 0;
        RemoteAccessException.Reason refused = null;
        String message = null;
        try
        {
            for (; executed < count; executed++)
            {
                final byte op = in.readByte();
                final int regionId = in.readInt();
                final long key = in.readLong();
                final long offset = in.readLong();
                final MemoryRegion region = service.regions().lookup(regionId, key);
                int length = Verb.ATOMIC_SIZE;
                if (op == Verb.READ || op == Verb.WRITE)
                {
                    length = in.readInt();
                }
                refused = VerbExecutor.check(region, op, offset, length);
                if (refused == null && op == Verb.READ && (long)TcpFrames.batchResponseBytes(out, start) + length > budget)
                {
                    refused = RemoteAccessException.Reason.BAD_LENGTH;
                    message = "memory node " + service.name() + " refused READ of " + length
                        + " bytes: the batch's response would exceed the frame limit of " + server.maxFrame();
                    break;
                }
                if (refused != null)
                {
                    message = VerbRules.describe(refused, "memory node " + service.name(), regionId, key, op, offset,
                        length);
                    server.verbRefused(ctx.channel().remoteAddress(), message);
                    break;
                }
                execute(op, region, offset, length, in, out);
            }
        }
        catch (final IndexOutOfBoundsException e)
        {
            // Drop the half-written answer: the connection fails with an ERROR frame instead.
            out.writerIndex(start);
            throw e;
        }
        finally
        {
            flyweight.wrap(0, 0);
        }
        TcpFrames.endBatchResponse(out, start, executed, refused, message);
    }

    private void execute(final byte op, final MemoryRegion region, final long offset, final int length,
        final ByteBuf in, final ByteBuf out)
    {
        switch (op)
        {
            case Verb.READ:
                out.ensureWritable(length);
                wrap(out, out.writerIndex(), length);
                VerbExecutor.read(region, offset, flyweight, 0, length);
                out.writerIndex(out.writerIndex() + length);
                break;
            case Verb.WRITE:
                if (length > in.readableBytes())
                {
                    throw new IndexOutOfBoundsException("WRITE of " + length + " bytes overruns the frame");
                }
                wrap(in, in.readerIndex(), length);
                VerbExecutor.write(region, offset, flyweight, 0, length);
                in.skipBytes(length);
                break;
            case Verb.CAS:
                out.writeLong(VerbExecutor.cas(region, offset, in.readLong(), in.readLong()));
                break;
            default:
                out.writeLong(VerbExecutor.faa(region, offset, in.readLong()));
                break;
        }
    }

    private void rpc(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        final long requestId = in.readLong();
        final int method = in.readInt();
        final Channel channel = ctx.channel();
        if (rpcsInFlight.incrementAndGet() > MAX_RPCS_IN_FLIGHT)
        {
            rpcsInFlight.decrementAndGet();
            TcpFrames.encodeRpcResponse(out(ctx, 128), requestId, RpcStatus.FAILED, null,
                "memory node " + service.name() + ": too many RPCs in flight on one connection");
            return;
        }
        final ByteBuffer request = ByteBuffer.allocate(in.readableBytes());
        in.readBytes(request);
        request.flip();
        service.rpc(method, request).whenComplete((response, error) ->
        {
            rpcsInFlight.decrementAndGet();
            if (!channel.isActive())
            {
                return;
            }
            final ByteBuf frame = encodeRpcAnswer(channel.alloc().directBuffer(), requestId, response, error);
            if (channel.eventLoop().inEventLoop())
            {
                wire.write(frame, true);
            }
            else
            {
                wire.answer(frame);
            }
        });
    }

    private static ByteBuf encodeRpcAnswer(final ByteBuf out, final long requestId, final ByteBuffer response,
        final Throwable error)
    {
        if (error == null)
        {
            TcpFrames.encodeRpcResponse(out, requestId, RpcStatus.OK, response, null);
        }
        else
        {
            final int status = error instanceof RpcException ? ((RpcException)error).status() : RpcStatus.FAILED;
            TcpFrames.encodeRpcResponse(out, requestId, status, null, error.getMessage());
        }
        return out;
    }

    private void wrap(final ByteBuf buf, final int index, final int length)
    {
        if (buf.hasMemoryAddress())
        {
            flyweight.wrap(buf.memoryAddress() + index, length);
        }
        else if (buf.hasArray())
        {
            flyweight.wrap(buf.array(), buf.arrayOffset() + index, length);
        }
        else
        {
            final byte[] copy = new byte[length];
            buf.getBytes(index, copy);
            flyweight.wrap(copy);
        }
    }

    private void fail(final ChannelHandlerContext ctx, final String why)
    {
        if (failed)
        {
            return;
        }
        failed = true;
        server.protocolError(ctx.channel().remoteAddress(), why);
        ctx.channel().config().setAutoRead(false);
        writeBurst(ctx);
        wire.stop();
        ctx.writeAndFlush(TcpFrames.messageFrame(ctx.alloc().buffer(), TcpFrames.ERROR, why))
            .addListener(ChannelFutureListener.CLOSE);
    }
}
