// Over 500 lines: one connection's life in one place (posting, deadlines, the hello's
// outcome, closing, and when a caller may take a lane instead); its frame format, wire writes,
// answers, the client's side of the hello and lanes live apart (TcpFrames, TcpWire, TcpAnswers,
// TcpHello, TcpLanes).
package io.dmkv.rdma.transport.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.InlineLane;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.ProtocolException;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.transport.InFlightParts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * A client's tcp connection to one memory node. A batch part is checked and counted on the
 * caller's thread and handed to the connection's {@link TcpWire}, which writes it from the
 * caller's thread or through the event loop. The memory node answers in order, so answers are
 * matched to the oldest part in flight, on the event loop, which completes the part there
 * ({@link TcpAnswers}). A sweep on the event loop fails parts past their deadline and closes a
 * connection whose oldest part is long overdue. Steady-state posting allocates nothing: parts are
 * pooled.
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
    private final TcpAnswers answers = new TcpAnswers();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    private final ArrayList<TcpPart> done = new ArrayList<>();
    private final Function<TcpPart, Throwable> timeoutError;
    private final TcpRpcs rpcs;
    final CompletableFuture<MemoryNodeInfo> hello = new CompletableFuture<>();
    /** The client's side of the hello; used on the event loop. */
    private final TcpHello greeting;
    volatile Channel channel;
    private volatile TcpWire wire;
    private volatile MemoryNodeInfo info;
    private volatile List<RemoteRegion> regions = List.of();
    private volatile boolean open = true;
    private volatile String closeReason;
    private volatile ScheduledFuture<?> sweep;
    private final TcpLanes lanes;

    TcpVerbsChannel(final String endpoint, final ClientOptions options, final int maxFrame)
    {
        this.endpoint = endpoint;
        this.options = options;
        this.clock = options.clock();
        this.timeoutNs = options.requestTimeoutNs();
        this.maxFrame = maxFrame;
        this.rpcs = new TcpRpcs(this::closed, counters, this::writeControl);
        this.greeting = new TcpHello(endpoint, options);
        this.lanes = new TcpLanes(this, endpoint, options);
        this.timeoutError = p -> new VerbsTimeoutException("batch of " + p.batch().size() + " verbs to " + info
            + " timed out after " + options.requestTimeout().toMillis() + " ms");
    }

    String endpoint()
    {
        return endpoint;
    }

    /** Writes this connection's HELLO into {@code out}. */
    void writeHello(final ByteBuf out)
    {
        greeting.writeHello(out, options.layoutVersion());
    }

    /** Called on connect, before the hello. */
    void connected(final Channel ch)
    {
        channel = ch;
        wire = new TcpWire(ch, drainTask);
    }

    /** Once the hello is done: direct writes may start, and the deadline sweep. */
    void startSweep()
    {
        wire.start();
        final long periodNs = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(timeoutNs / 4,
            TimeUnit.MILLISECONDS.toNanos(50)));
        sweep = channel.eventLoop().scheduleAtFixedRate(this::sweep, periodNs, periodNs, TimeUnit.NANOSECONDS);
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
        final Throwable refused = admit(batch, part);
        if (refused != null)
        {
            batch.partCompleted(part, refused);
            return;
        }
        final TcpPart p = answers.take(batch, part, clock.nanoTime() + timeoutNs);
        final TcpWire w = wire;
        try
        {
            if (!w.tryDirect(p))
            {
                w.offer(p);
                scheduleDrain();
            }
        }
        catch (final IOException e)
        {
            LOG.debug("writing to {} failed", endpoint, e);
            closeReason = "connection to " + info + " failed: " + e.getMessage();
            close();
        }
        catch (final RejectedExecutionException e)
        {
            if (closeReason == null)
            {
                closeReason = "the tcp transport of the channel to " + info + " was closed";
            }
            open = false;
            failAll();
        }
    }

    /**
     * Checks that part {@code part} fits a frame and counts it: null, or why it cannot be sent
     * (the connection is closed, the part is too large).
     */
    Throwable admit(final VerbBatch batch, final int part)
    {
        if (!open)
        {
            return closed();
        }
        final int body = TcpFrames.requestLength(batch, part);
        final long response = TcpFrames.responseLength(batch, part);
        if (body > maxFrame - TcpFrames.LENGTH_FIELD || response > maxFrame - TcpFrames.BATCH_RESP_TRAILER_MAX)
        {
            return new RemoteAccessException(RemoteAccessException.Reason.BAD_LENGTH, -1,
                "batch to " + info + " needs a frame of " + Math.max(body, response) + " bytes; the limit is "
                    + maxFrame + ": split it");
        }
        if (TcpFrames.verbCount(batch, part) > TcpFrames.MAX_VERBS_PER_FRAME)
        {
            return new RemoteAccessException(RemoteAccessException.Reason.BAD_LENGTH, -1,
                "a batch part holds at most " + TcpFrames.MAX_VERBS_PER_FRAME + " verbs");
        }
        if (batch.isEcho())
        {
            counters.roundTrip();
        }
        else
        {
            counters.part(batch, part, Integer.MAX_VALUE);
        }
        return null;
    }

    /**
     * The calling thread's own lane to this node ({@link TcpLanes}), or null: with TLS, before
     * the hello, once the channel closed, while a part posted through the event loop is out, at
     * the lane limit, or for a second after a lane failed to open.
     */
    @Override
    public InlineLane inlineLane()
    {
        // What this connection carries completes in the order posted: a part the node has not
        // answered yet could be overtaken by one on a lane, so while any is out the lane waits.
        if (!answers.allAnswered() || !open || sweep == null)
        {
            return null;
        }
        return lanes.forThread();
    }

    /** Lanes open now (one per thread that made inline round trips). */
    int laneCount()
    {
        return lanes.count();
    }

    boolean isClosed()
    {
        return !open;
    }

    /** The deadline of a round trip that starts now, by the channel's clock. */
    long deadline()
    {
        return clock.nanoTime() + timeoutNs;
    }

    VerbsTimeoutException timeoutError()
    {
        return new VerbsTimeoutException("batch to " + info + " timed out after " + options.requestTimeout().toMillis()
            + " ms");
    }

    int maxFrame()
    {
        return maxFrame;
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        if (!open)
        {
            return CompletableFuture.failedFuture(closed());
        }
        final RpcException tooLarge = TcpFrames.rpcTooLarge(request.remaining(), maxFrame);
        if (tooLarge != null)
        {
            return CompletableFuture.failedFuture(tooLarge);
        }
        return rpcs.send(channel.alloc(), method, request, clock.nanoTime() + timeoutNs);
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
        lanes.closeAll();
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
                    answered(ctx, answers.batch(wire, frame));
                    break;
                case TcpFrames.ECHO_RESP:
                    answered(ctx, answers.echo(wire, frame));
                    break;
                case TcpFrames.RPC_RESP:
                    rpcs.response(frame);
                    break;
                case TcpFrames.HELLO_OK:
                    helloOk(ctx, frame);
                    break;
                case TcpFrames.HELLO_CHALLENGE:
                    challenge(ctx, frame);
                    break;
                case TcpFrames.HELLO_REFUSED:
                    refused(ctx, greeting.refused(frame).getMessage());
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
        // The reason first: a thread that sees the channel closed reads it (closed()).
        if (closeReason == null)
        {
            closeReason = "connection to " + (info == null ? "memory node at " + endpoint : info.toString()) + " closed";
        }
        open = false;
        if (sweep != null)
        {
            sweep.cancel(false);
        }
        lanes.closeAll();
        failAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        final String refusal = TcpHello.refusal(endpoint, cause);
        if (refusal != null)
        {
            refused(ctx, refusal);
        }
        else if (cause instanceof TooLongFrameException)
        {
            shutdown(ctx, "memory node at " + endpoint + " sent an oversized frame: " + cause.getMessage());
        }
        else
        {
            LOG.debug("connection to {} failed", endpoint, cause);
            shutdown(ctx, "connection to memory node at " + endpoint + " failed: " + cause.getMessage());
        }
    }

    private void drain()
    {
        drainScheduled.set(false);
        if (!open)
        {
            // Parts offered while the connection went: fail them rather than write to a closed socket.
            failAll();
            return;
        }
        wire.drain();
    }

    private void scheduleDrain()
    {
        if (drainScheduled.compareAndSet(false, true))
        {
            channel.eventLoop().execute(drainTask);
        }
    }

    /** Queues an RPC frame behind whatever is being written; may run on any thread. */
    private void writeControl(final ByteBuf frame)
    {
        wire.offerControl(frame);
        scheduleDrain();
    }

    /** A node with a secret challenges the HELLO: answer with the proof, or refuse. */
    private void challenge(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        if (hello.isDone())
        {
            refused(ctx, "memory node at " + endpoint + " sent a second challenge");
            return;
        }
        final ByteBuf proof = ctx.alloc().buffer();
        try
        {
            greeting.answerChallenge(in, proof);
        }
        catch (final HandshakeException e)
        {
            proof.release();
            refused(ctx, e.getMessage());
            return;
        }
        catch (final RuntimeException e)
        {
            // A challenge cut short: channelRead closes the connection; the buffer must not leak.
            proof.release();
            throw e;
        }
        ctx.writeAndFlush(proof);
    }

    /** HELLO_OK: with a secret, the node's proof is checked before anything it sent is used. */
    private void helloOk(final ChannelHandlerContext ctx, final ByteBuf in)
    {
        try
        {
            greeting.checkOk(in);
        }
        catch (final HandshakeException e)
        {
            refused(ctx, e.getMessage());
            return;
        }
        final MemoryNodeInfo node = TcpFrames.decodeHelloOk(in, endpoint);
        final List<RemoteRegion> list = new ArrayList<>(node.regions().size());
        for (final RegionInfo r : node.regions())
        {
            list.add(new RemoteRegion(this, r));
        }
        regions = List.copyOf(list);
        info = node;
        hello.complete(node);
    }

    /** The hello failed for a reason the user must fix: a {@link HandshakeException}, and close. */
    private void refused(final ChannelHandlerContext ctx, final String why)
    {
        if (closeReason == null)
        {
            closeReason = why;
        }
        hello.completeExceptionally(new HandshakeException(why));
        shutdown(ctx, why);
    }

    /** Closes the connection if the answer just matched was wrong ({@code wrong} says how). */
    private void answered(final ChannelHandlerContext ctx, final String wrong)
    {
        if (wrong != null)
        {
            shutdown(ctx, "memory node at " + endpoint + " " + wrong);
        }
    }

    private void sweep()
    {
        final long now = clock.nanoTime();
        final long overdue = wire.overdueNs(now);
        if (overdue > 2 * timeoutNs)
        {
            shutdown(channel.pipeline().firstContext(), info + " stopped answering: oldest request is "
                + TimeUnit.NANOSECONDS.toMillis(overdue + timeoutNs) + " ms old");
            return;
        }
        wire.expire(now, timeoutError, done);
        lanes.expire(now);
        InFlightParts.deliver(done);
        rpcs.expire(now, "to " + info + " timed out after " + options.requestTimeout().toMillis() + " ms");
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
        answers.failUnmatched(closed());
        ctx.close();
    }

    private void failAll()
    {
        final TcpWire w = wire;
        if (w != null)
        {
            // A list of its own: a post whose event loop is gone fails everything from its own thread.
            final ArrayList<TcpPart> failed = new ArrayList<>();
            w.failAll(closed(), failed);
            InFlightParts.deliver(failed);
        }
        rpcs.failAll();
        if (!hello.isDone())
        {
            hello.completeExceptionally(closed());
        }
    }

    ConnectionException closed()
    {
        final String reason = closeReason;
        return new ConnectionException(reason != null ? reason : "channel to memory node at " + endpoint + " is closed");
    }
}
