package io.dmkv.rdma.transport.tcp;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.Verb;
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
 */
final class TcpServerHandler extends ChannelInboundHandlerAdapter
{
    private static final Logger LOG = LoggerFactory.getLogger(TcpServerHandler.class);
    private static final int MAX_RPCS_IN_FLIGHT = 1024;

    private final TcpVerbsServer server;
    private final MemoryNodeService service;
    private final UnsafeBuffer flyweight = new UnsafeBuffer(0, 0);
    private final AtomicInteger rpcsInFlight = new AtomicInteger();
    private boolean helloDone;
    private boolean failed;

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
            if (!helloDone && type != TcpFrames.HELLO)
            {
                fail(ctx, "expected HELLO, got frame type " + type);
                return;
            }
            switch (type)
            {
                case TcpFrames.HELLO:
                    hello(ctx, frame);
                    break;
                case TcpFrames.BATCH:
                    batch(ctx, frame);
                    break;
                case TcpFrames.RPC_REQ:
                    rpc(ctx, frame);
                    break;
                case TcpFrames.ECHO:
                    echo(ctx, frame);
                    break;
                default:
                    fail(ctx, "unknown frame type " + type);
                    break;
            }
        }
        catch (final IndexOutOfBoundsException e)
        {
            fail(ctx, "truncated frame: " + e.getMessage());
        }
        finally
        {
            frame.release();
        }
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
        if (cause instanceof TooLongFrameException)
        {
            fail(ctx, "oversized frame: " + cause.getMessage());
        }
        else if (ctx.channel().isActive())
        {
            LOG.debug("{}: connection {} failed", service.name(), ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }

    private void hello(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        if (helloDone)
        {
            fail(ctx, "second HELLO on one connection");
            return;
        }
        final int magic = in.readInt();
        final int protocol = in.readUnsignedShort();
        final int layout = in.readUnsignedShort();
        final int tokenLength = in.readUnsignedShort();
        final byte[] token = new byte[tokenLength];
        in.readBytes(token);
        final String refused = service.checkHello(magic, protocol, layout, token);
        if (refused != null)
        {
            failed = true;
            LOG.warn("{}: refused hello from {}: {}", service.name(), ctx.channel().remoteAddress(), refused);
            ctx.writeAndFlush(TcpFrames.messageFrame(ctx.alloc().buffer(), TcpFrames.HELLO_REFUSED, refused))
                .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        helloDone = true;
        final ByteBuf out = ctx.alloc().buffer();
        out.writeInt(0);
        out.writeByte(TcpFrames.HELLO_OK);
        TcpFrames.writeString(out, service.name());
        out.writeShort(service.layoutVersion());
        TcpFrames.writeString(out, service.shmFile());
        out.writeInt(service.rdmaPort());
        final java.util.List<RegionInfo> infos = service.regionInfos();
        out.writeInt(infos.size());
        for (final RegionInfo r : infos)
        {
            out.writeInt(r.id());
            out.writeLong(r.key());
            out.writeLong(r.length());
            out.writeLong(r.rdmaAddress());
            out.writeInt(r.rdmaKey());
        }
        out.setInt(0, out.writerIndex() - TcpFrames.LENGTH_FIELD);
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void batch(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        final long requestId = in.readLong();
        final int count = in.readUnsignedShort();
        final ByteBuf out = ctx.alloc().directBuffer(64);
        out.writeInt(0);
        out.writeByte(TcpFrames.BATCH_RESP);
        out.writeLong(requestId);
        final int executedAt = out.writerIndex();
        out.writeShort(0);
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
                if (refused == null && op == Verb.READ && (long)out.writerIndex() + length > budget)
                {
                    refused = RemoteAccessException.Reason.BAD_LENGTH;
                }
                if (refused != null)
                {
                    message = VerbExecutor.describe(refused, "memory node " + service.name(), regionId, key, op,
                        offset, length);
                    if (refused == RemoteAccessException.Reason.BAD_LENGTH && op == Verb.READ && length > 0)
                    {
                        message = "memory node " + service.name() + " refused READ of " + length
                            + " bytes: the batch's response would exceed the frame limit of " + server.maxFrame();
                    }
                    break;
                }
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
        }
        catch (final IndexOutOfBoundsException e)
        {
            out.release();
            throw e;
        }
        finally
        {
            flyweight.wrap(0, 0);
        }
        out.setShort(executedAt, executed);
        if (refused == null)
        {
            out.writeByte(TcpFrames.STATUS_OK);
        }
        else
        {
            out.writeByte(TcpFrames.STATUS_REFUSED);
            out.writeShort(executed);
            out.writeByte(refused.ordinal());
            TcpFrames.writeString(out, message, TcpFrames.MAX_REFUSAL_MESSAGE);
        }
        out.setInt(0, out.writerIndex() - TcpFrames.LENGTH_FIELD);
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void rpc(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        final long requestId = in.readLong();
        final int method = in.readInt();
        final Channel channel = ctx.channel();
        if (rpcsInFlight.incrementAndGet() > MAX_RPCS_IN_FLIGHT)
        {
            rpcsInFlight.decrementAndGet();
            channel.writeAndFlush(rpcResponse(channel, requestId, RpcStatus.FAILED, null,
                "memory node " + service.name() + ": too many RPCs in flight on one connection"), channel.voidPromise());
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
            final ByteBuf frame;
            if (error == null)
            {
                frame = rpcResponse(channel, requestId, RpcStatus.OK, response, null);
            }
            else
            {
                final int status = error instanceof RpcException ? ((RpcException)error).status() : RpcStatus.FAILED;
                frame = rpcResponse(channel, requestId, status, null, error.getMessage());
            }
            channel.writeAndFlush(frame, channel.voidPromise());
        });
    }

    private static ByteBuf rpcResponse(final Channel ch, final long requestId, final int status,
        final ByteBuffer payload, final String message)
    {
        final ByteBuf out = ch.alloc().buffer();
        out.writeInt(0);
        out.writeByte(TcpFrames.RPC_RESP);
        out.writeLong(requestId);
        out.writeByte(status);
        if (payload != null)
        {
            out.writeBytes(payload.duplicate());
        }
        else
        {
            out.writeCharSequence(message == null ? "" : message, java.nio.charset.StandardCharsets.UTF_8);
        }
        out.setInt(0, out.writerIndex() - TcpFrames.LENGTH_FIELD);
        return out;
    }

    private void echo(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        final ByteBuf out = ctx.alloc().directBuffer(TcpFrames.LENGTH_FIELD + 1 + in.readableBytes());
        out.writeInt(1 + in.readableBytes());
        out.writeByte(TcpFrames.ECHO_RESP);
        out.writeBytes(in);
        ctx.writeAndFlush(out, ctx.voidPromise());
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
        server.protocolError();
        LOG.warn("{}: closing connection from {}: {}", service.name(), ctx.channel().remoteAddress(), why);
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(TcpFrames.messageFrame(ctx.alloc().buffer(), TcpFrames.ERROR, why))
            .addListener(ChannelFutureListener.CLOSE);
    }
}
