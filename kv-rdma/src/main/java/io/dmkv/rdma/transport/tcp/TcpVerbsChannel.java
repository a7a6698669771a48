package io.dmkv.rdma.transport.tcp;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.ProtocolException;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

/**
 * A client's tcp connection to one memory node. Batches are encoded on the caller's thread and
 * handed to the event loop, which queues them in wire order; the memory node answers in the same
 * order, so responses are matched to the head of the queue. A sweep on the event loop fails
 * requests past their deadline and closes a connection whose oldest request is long overdue.
 */
public final class TcpVerbsChannel extends ChannelInboundHandlerAdapter implements VerbsChannel
{
    private static final Logger LOG = LoggerFactory.getLogger(TcpVerbsChannel.class);

    private final String endpoint;
    private final ClientOptions options;
    private final NanoClock clock;
    private final long timeoutNs;
    private final int maxFrame;
    private final VerbCounters counters = new VerbCounters();
    private final ArrayDeque<PendingBatch> inFlight = new ArrayDeque<>();
    private final Map<Long, PendingRpc> rpcs = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<MemoryNodeInfo> hello = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile MemoryNodeInfo info;
    private volatile List<RemoteRegion> regions = List.of();
    private volatile boolean open = true;
    private volatile String closeReason;
    private ScheduledFuture<?> sweep;

    private TcpVerbsChannel(final String endpoint, final ClientOptions options, final int maxFrame)
    {
        this.endpoint = endpoint;
        this.options = options;
        this.clock = options.clock();
        this.timeoutNs = options.requestTimeoutNs();
        this.maxFrame = maxFrame;
    }

    static TcpVerbsChannel connect(final EventLoopGroup group, final String endpoint, final ClientOptions options,
        final int maxFrame)
    {
        final String[] hp = TcpVerbsTransport.hostPort(endpoint);
        final TcpVerbsChannel c = new TcpVerbsChannel(endpoint, options, maxFrame);
        final long connectMs = options.connectTimeout().toMillis();
        final Bootstrap b = new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)Math.min(Integer.MAX_VALUE, connectMs))
            .handler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(maxFrame, 0,
                        TcpFrames.LENGTH_FIELD, 0, TcpFrames.LENGTH_FIELD));
                    ch.pipeline().addLast("verbs", c);
                }
            });
        final long start = System.nanoTime();
        final ChannelFuture cf;
        try
        {
            cf = b.connect(hp[0], Integer.parseInt(hp[1]));
        }
        catch (final RejectedExecutionException e)
        {
            throw new ConnectionException("tcp transport is closed", e);
        }
        if (!cf.awaitUninterruptibly(connectMs + 100))
        {
            cf.cancel(false);
            cf.channel().close();
            throw new ConnectionException("cannot reach memory node at " + endpoint + " within " + connectMs + " ms");
        }
        if (!cf.isSuccess())
        {
            throw new ConnectionException("cannot reach memory node at " + endpoint + ": " + cf.cause().getMessage(),
                cf.cause());
        }
        c.channel = cf.channel();
        final ByteBuf frame = c.channel.alloc().buffer();
        frame.writeInt(0);
        frame.writeByte(TcpFrames.HELLO);
        frame.writeInt(ProtocolVersion.MAGIC);
        frame.writeShort(ProtocolVersion.PROTOCOL);
        frame.writeShort(options.layoutVersion());
        frame.writeShort(options.authToken().length);
        frame.writeBytes(options.authToken());
        frame.setInt(0, frame.writerIndex() - TcpFrames.LENGTH_FIELD);
        c.channel.writeAndFlush(frame);
        final long left = Math.max(1, TimeUnit.MILLISECONDS.toNanos(connectMs) - (System.nanoTime() - start));
        try
        {
            c.hello.get(left, TimeUnit.NANOSECONDS);
        }
        catch (final ExecutionException e)
        {
            c.channel.close();
            throw e.getCause() instanceof VerbsException ? (VerbsException)e.getCause()
                : new ConnectionException("hello with memory node at " + endpoint + " failed: " + e.getCause(), e.getCause());
        }
        catch (final TimeoutException e)
        {
            c.channel.close();
            throw new ConnectionException("memory node at " + endpoint + " did not answer the hello within "
                + connectMs + " ms");
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            c.channel.close();
            throw new ConnectionException("interrupted while connecting to " + endpoint, e);
        }
        final long periodNs = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(timeoutPeriod(c.timeoutNs),
            TimeUnit.MILLISECONDS.toNanos(50)));
        c.sweep = c.channel.eventLoop().scheduleAtFixedRate(c::sweep, periodNs, periodNs, TimeUnit.NANOSECONDS);
        return c;
    }

    private static long timeoutPeriod(final long timeoutNs)
    {
        return timeoutNs / 4;
    }

    @Override
    public MemoryNodeInfo node()
    {
        return info;
    }

    @Override
    public List<RemoteRegion> regions()
    {
        return regions;
    }

    @Override
    public void submit(final VerbBatch batch, final int part)
    {
        final PendingBatch p = new PendingBatch(batch, part);
        if (!open)
        {
            batch.partCompleted(part, closed());
            return;
        }
        final int body = TcpFrames.requestLength(batch, part);
        final long response = TcpFrames.responseLength(batch, part);
        if (body > maxFrame - TcpFrames.LENGTH_FIELD || response > maxFrame - TcpFrames.BATCH_RESP_TRAILER_MAX)
        {
            batch.partCompleted(part, new RemoteAccessException(RemoteAccessException.Reason.BAD_LENGTH, -1,
                "batch to " + info + " needs a frame of " + Math.max(body, response) + " bytes; the limit is "
                    + maxFrame + ": split it"));
            return;
        }
        final ByteBuf frame = channel.alloc().directBuffer(TcpFrames.LENGTH_FIELD + body);
        final int count = TcpFrames.encodeBatch(frame, batch.isEcho() ? TcpFrames.ECHO : TcpFrames.BATCH, p.id,
            batch, part, body);
        if (count > TcpFrames.MAX_VERBS_PER_FRAME)
        {
            frame.release();
            batch.partCompleted(part, new RemoteAccessException(RemoteAccessException.Reason.BAD_LENGTH, -1,
                "a batch part holds at most " + TcpFrames.MAX_VERBS_PER_FRAME + " verbs"));
            return;
        }
        if (!batch.isEcho())
        {
            for (int i = 0, n = batch.size(); i < n; i++)
            {
                if (batch.partOf(i) == part)
                {
                    counters.verb(batch.op(i), batch.length(i));
                }
            }
        }
        counters.roundTrip();
        p.frame = frame;
        p.deadline = clock.nanoTime() + timeoutNs;
        try
        {
            channel.eventLoop().execute(p);
        }
        catch (final RejectedExecutionException e)
        {
            frame.release();
            batch.partCompleted(part, closed());
        }
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        if (!open)
        {
            return CompletableFuture.failedFuture(closed());
        }
        final long id = ids.incrementAndGet();
        final int requestBytes = request.remaining();
        if (requestBytes > maxFrame - 64)
        {
            return CompletableFuture.failedFuture(new RpcException(RpcStatus.BAD_REQUEST,
                "RPC request of " + requestBytes + " bytes exceeds the frame limit of " + maxFrame));
        }
        final PendingRpc p = new PendingRpc(method, requestBytes, clock.nanoTime() + timeoutNs);
        rpcs.put(id, p);
        final ByteBuf frame = channel.alloc().buffer(TcpFrames.LENGTH_FIELD + 13 + requestBytes);
        frame.writeInt(1 + 8 + 4 + requestBytes);
        frame.writeByte(TcpFrames.RPC_REQ);
        frame.writeLong(id);
        frame.writeInt(method);
        frame.writeBytes(request.duplicate());
        channel.writeAndFlush(frame).addListener(f ->
        {
            if (!f.isSuccess())
            {
                final PendingRpc gone = rpcs.remove(id);
                if (gone != null)
                {
                    gone.future.completeExceptionally(closed());
                }
            }
        });
        return p.future;
    }

    @Override
    public VerbCounters counters()
    {
        return counters;
    }

    @Override
    public boolean isOpen()
    {
        return open;
    }

    @Override
    public void close()
    {
        if (open)
        {
            closeReason = "channel to " + (info == null ? endpoint : info.toString()) + " was closed";
        }
        open = false;
        final Channel ch = channel;
        if (ch != null)
        {
            ch.close();
        }
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        final ByteBuf frame = (ByteBuf)msg;
        try
        {
            final byte type = frame.readByte();
            switch (type)
            {
                case TcpFrames.BATCH_RESP:
                    batchResponse(frame, false);
                    break;
                case TcpFrames.ECHO_RESP:
                    batchResponse(frame, true);
                    break;
                case TcpFrames.RPC_RESP:
                    rpcResponse(frame);
                    break;
                case TcpFrames.HELLO_OK:
                    helloOk(frame);
                    break;
                case TcpFrames.HELLO_REFUSED:
                    hello.completeExceptionally(new HandshakeException("memory node at " + endpoint + " refused the hello: "
                        + TcpFrames.readString(frame)));
                    ctx.close();
                    break;
                case TcpFrames.ERROR:
                    shutdown(ctx, "memory node at " + endpoint + " closed the connection: " + TcpFrames.readString(frame));
                    break;
                default:
                    shutdown(ctx, "memory node at " + endpoint + " sent unknown frame type " + type);
                    break;
            }
        }
        catch (final IndexOutOfBoundsException e)
        {
            shutdown(ctx, "memory node at " + endpoint + " sent a truncated frame: " + e.getMessage());
        }
        finally
        {
            frame.release();
        }
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        open = false;
        if (closeReason == null)
        {
            closeReason = "connection to " + (info == null ? "memory node at " + endpoint : info.toString()) + " closed";
        }
        if (sweep != null)
        {
            sweep.cancel(false);
        }
        failAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        if (cause instanceof TooLongFrameException)
        {
            shutdown(ctx, "memory node at " + endpoint + " sent an oversized frame: " + cause.getMessage());
        }
        else
        {
            LOG.debug("connection to {} failed", endpoint, cause);
            shutdown(ctx, "connection to memory node at " + endpoint + " failed: " + cause.getMessage());
        }
    }

    private void helloOk(final ByteBuf in)
    {
        final String name = TcpFrames.readString(in);
        final int layout = in.readUnsignedShort();
        final String shm = TcpFrames.readString(in);
        final int rdmaPort = in.readInt();
        final int count = in.readInt();
        if (count < 0 || count > in.readableBytes() / 32)
        {
            throw new IndexOutOfBoundsException("region count " + count);
        }
        final List<RegionInfo> infos = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            infos.add(new RegionInfo(in.readInt(), in.readLong(), in.readLong(), in.readLong(), in.readInt()));
        }
        final MemoryNodeInfo node = new MemoryNodeInfo(name, endpoint, layout, infos, shm, rdmaPort);
        final List<RemoteRegion> list = new ArrayList<>(count);
        for (final RegionInfo r : infos)
        {
            list.add(new RemoteRegion(this, r));
        }
        regions = List.copyOf(list);
        info = node;
        hello.complete(node);
    }

    private void batchResponse(final ByteBuf in, final boolean echo)
    {
        final PendingBatch p = inFlight.poll();
        if (echo)
        {
            if (p == null)
            {
                shutdown(channel.pipeline().firstContext(), "memory node at " + endpoint + " echoed an unknown request");
                return;
            }
            complete(p, null);
            return;
        }
        final long id = in.readLong();
        if (p == null || p.id != id)
        {
            shutdown(channel.pipeline().firstContext(), "memory node at " + endpoint + " answered request " + id
                + " out of order");
            if (p != null)
            {
                complete(p, closed());
            }
            return;
        }
        final int executed = in.readUnsignedShort();
        if (p.finished)
        {
            return;
        }
        final VerbBatch batch = p.batch;
        int k = 0;
        int batchIndex = -1;
        for (int i = 0, n = batch.size(); i < n && k <= executed; i++)
        {
            if (batch.partOf(i) != p.part)
            {
                continue;
            }
            if (k == executed)
            {
                batchIndex = i;
                break;
            }
            switch (batch.op(i))
            {
                case Verb.READ:
                {
                    final int len = batch.length(i);
                    if (len > in.readableBytes())
                    {
                        throw new IndexOutOfBoundsException("READ result overruns the frame");
                    }
                    TcpFrames.copyOut(in, in.readerIndex(), batch.readBuffer(i), batch.bufferOffset(i), len);
                    in.skipBytes(len);
                    break;
                }
                case Verb.WRITE:
                    break;
                default:
                    batch.setResult(i, in.readLong());
                    break;
            }
            k++;
        }
        final byte status = in.readByte();
        Throwable error = null;
        if (status != TcpFrames.STATUS_OK)
        {
            in.readUnsignedShort();
            final int reason = in.readUnsignedByte();
            final String message = TcpFrames.readString(in);
            error = new RemoteAccessException(RemoteAccessException.Reason.fromCode(reason), batchIndex, message);
        }
        complete(p, error);
    }

    private void rpcResponse(final ByteBuf in)
    {
        final long id = in.readLong();
        final int status = in.readUnsignedByte();
        final PendingRpc p = rpcs.remove(id);
        if (p == null)
        {
            return;
        }
        if (status == RpcStatus.OK)
        {
            final ByteBuffer response = ByteBuffer.allocate(in.readableBytes());
            in.readBytes(response);
            response.flip();
            counters.rpc(p.requestBytes, response.remaining());
            p.future.complete(response);
        }
        else
        {
            counters.rpc(p.requestBytes, in.readableBytes());
            p.future.completeExceptionally(new RpcException(status, in.toString(StandardCharsets.UTF_8)));
        }
    }

    private void sweep()
    {
        final long now = clock.nanoTime();
        PendingBatch head = inFlight.peek();
        if (head != null && head.finished && now - head.deadline > 2 * timeoutNs)
        {
            shutdown(channel.pipeline().firstContext(), info + " stopped answering: oldest request is "
                + TimeUnit.NANOSECONDS.toMillis(now - head.deadline + timeoutNs) + " ms old");
            return;
        }
        for (final PendingBatch p : inFlight)
        {
            if (now - p.deadline < 0)
            {
                break;
            }
            if (!p.finished)
            {
                complete(p, new VerbsTimeoutException("batch of " + p.batch.size() + " verbs to " + info
                    + " timed out after " + options.requestTimeout().toMillis() + " ms"));
            }
        }
        for (final Map.Entry<Long, PendingRpc> e : rpcs.entrySet())
        {
            final PendingRpc p = e.getValue();
            if (now - p.deadline >= 0 && rpcs.remove(e.getKey(), p))
            {
                p.future.completeExceptionally(new VerbsTimeoutException("RPC " + p.method + " to " + info
                    + " timed out after " + options.requestTimeout().toMillis() + " ms"));
            }
        }
    }

    private void complete(final PendingBatch p, final Throwable error)
    {
        if (!p.finished)
        {
            p.finished = true;
            p.batch.partCompleted(p.part, error);
        }
    }

    private void shutdown(final ChannelHandlerContext ctx, final String reason)
    {
        if (closeReason == null)
        {
            closeReason = reason;
        }
        if (open)
        {
            LOG.warn(reason);
        }
        open = false;
        hello.completeExceptionally(new ProtocolException(reason));
        failAll();
        ctx.close();
    }

    private void failAll()
    {
        PendingBatch p;
        while ((p = inFlight.poll()) != null)
        {
            complete(p, closed());
        }
        for (final Long id : rpcs.keySet())
        {
            final PendingRpc r = rpcs.remove(id);
            if (r != null)
            {
                r.future.completeExceptionally(closed());
            }
        }
        if (!hello.isDone())
        {
            hello.completeExceptionally(closed());
        }
    }

    private ConnectionException closed()
    {
        final String reason = closeReason;
        return new ConnectionException(reason != null ? reason : "channel to memory node at " + endpoint + " is closed");
    }

    /** A batch part on its way: runs on the event loop to take its place in the wire order. */
    private final class PendingBatch implements Runnable
    {
        final VerbBatch batch;
        final int part;
        final long id = ids.incrementAndGet();
        ByteBuf frame;
        long deadline;
        boolean finished;

        PendingBatch(final VerbBatch batch, final int part)
        {
            this.batch = batch;
            this.part = part;
        }

        @Override
        public void run()
        {
            if (!open)
            {
                frame.release();
                complete(this, closed());
                return;
            }
            inFlight.add(this);
            channel.writeAndFlush(frame, channel.voidPromise());
            frame = null;
        }
    }

    private static final class PendingRpc
    {
        final CompletableFuture<ByteBuffer> future = new CompletableFuture<>();
        final int method;
        final int requestBytes;
        final long deadline;

        PendingRpc(final int method, final int requestBytes, final long deadline)
        {
            this.method = method;
            this.requestBytes = requestBytes;
            this.deadline = deadline;
        }
    }
}
