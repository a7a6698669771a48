package io.dmkv.rdma.transport.tcp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import io.dmkv.rdma.transport.InFlightParts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;

/**
 * The sending side of one tcp client connection and the parts it has sent, in wire order.
 *
 * <p>Two ways onto the wire. <b>Direct</b>: when the connection runs on native epoll with
 * nothing in its pipeline but the frame decoder and the channel (no TLS), Netty has nothing
 * queued and no other thread is writing, a posting thread that is not the event loop encodes its
 * part and writes it to the socket itself: no hand-off to the event loop, no wake-up of it, one
 * {@code write} per post. <b>Outbox</b>: otherwise the part waits in an outbox and the event
 * loop takes everything waiting at once, encodes it into one buffer and writes it with one flush,
 * so parts posted by several threads, or by the completions of one read burst, leave in one
 * {@code write}. A direct write that the socket does not take whole hands its rest to Netty and
 * turns direct writing off until Netty has written everything; control frames (RPCs) always go
 * through the event loop. One lock orders every write to the socket and the in-flight queue, so
 * the bytes of two frames never interleave and answers match the oldest part.
 */
final class TcpWire
{
    /** Parts waiting for the event loop; past this, a post hands its part to the loop as a task of its own. */
    private static final int OUTBOX = 4096;
    /** Encoded bytes after which a drain writes what it has and starts another buffer. */
    private static final int WRITE_BYTES = 256 << 10;
    private static final List<String> PLAIN_PIPELINE = List.of("frames", "verbs");

    private final Channel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final InFlightParts<TcpPart> inFlight = new InFlightParts<>();
    private final ManyToManyConcurrentArrayQueue<TcpPart> outbox = new ManyToManyConcurrentArrayQueue<>(OUTBOX);
    private final FileDescriptor fd;
    private ByteBuf directBuffer;
    private boolean direct;
    private long nextRequestId;

    TcpWire(final Channel channel)
    {
        this.channel = channel;
        final boolean plain = PLAIN_PIPELINE.equals(List.copyOf(channel.pipeline().toMap().keySet()));
        this.fd = plain && channel instanceof UnixChannel ? ((UnixChannel)channel).fd() : null;
    }

    /** Whether posting threads may write to the socket themselves (epoll, plain pipeline). */
    boolean directCapable()
    {
        return fd != null;
    }

    /** Allows direct writes from now on (after the hello), where the connection is capable of them. */
    void start()
    {
        if (fd != null)
        {
            lock.lock();
            try
            {
                directBuffer = channel.alloc().directBuffer(4096);
                direct = true;
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    /**
     * Writes {@code p} from the calling thread if the connection allows it now; false if it must
     * go through the outbox.
     *
     * @throws IOException when the socket failed (the caller closes the connection; {@code p} is
     *                     in flight and fails with it).
     */
    boolean tryDirect(final TcpPart p) throws IOException
    {
        // On the event loop (a completion posting its next step) the outbox is cheaper: the loop is
        // awake, and what its completions post during one read burst leaves in one write. A busy
        // lock means another thread is writing: queueing lets the loop coalesce instead of waiting.
        if (fd == null || !direct || !outbox.isEmpty() || channel.eventLoop().inEventLoop() || !lock.tryLock())
        {
            return false;
        }
        try
        {
            if (!direct || !outbox.isEmpty())
            {
                return false;
            }
            final ByteBuf buf = directBuffer;
            buf.clear();
            encode(buf, p);
            final int length = buf.readableBytes();
            final int n = fd.writeAddress(buf.memoryAddress(), 0, length);
            if (n < length)
            {
                // The socket is full: Netty writes the rest when it can, and everything after it.
                direct = false;
                final ByteBuf rest = channel.alloc().directBuffer(length - n);
                rest.writeBytes(buf, n, length - n);
                channel.eventLoop().execute(() -> writeLocked(rest));
            }
            return true;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Queues {@code p} for the event loop; false when the outbox is full. */
    boolean offer(final TcpPart p)
    {
        return outbox.offer(p);
    }

    /** On the event loop: encodes every waiting part into one buffer and writes it with one flush. */
    void drain()
    {
        lock.lock();
        try
        {
            ByteBuf out = null;
            TcpPart p;
            boolean wrote = false;
            while ((p = outbox.poll()) != null)
            {
                if (out == null)
                {
                    out = channel.alloc().directBuffer(Math.max(1024, TcpFrames.LENGTH_FIELD + p.body));
                }
                encode(out, p);
                if (out.writerIndex() >= WRITE_BYTES)
                {
                    channel.write(out, channel.voidPromise());
                    out = null;
                    wrote = true;
                }
            }
            if (out != null)
            {
                channel.write(out, channel.voidPromise());
                wrote = true;
            }
            if (wrote)
            {
                flushLocked();
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /** On the event loop: one part that did not fit the outbox, after everything that did. */
    void send(final TcpPart p)
    {
        lock.lock();
        try
        {
            drain();
            final ByteBuf out = channel.alloc().directBuffer(TcpFrames.LENGTH_FIELD + p.body);
            encode(out, p);
            channel.write(out, channel.voidPromise());
            flushLocked();
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Writes a control frame (RPC) through the event loop, ordered with every other write. */
    void writeControl(final ByteBuf frame, final Runnable onFailure)
    {
        channel.eventLoop().execute(() ->
        {
            lock.lock();
            try
            {
                channel.write(frame).addListener(f ->
                {
                    if (!f.isSuccess())
                    {
                        onFailure.run();
                    }
                });
                flushLocked();
            }
            finally
            {
                lock.unlock();
            }
        });
    }

    private void writeLocked(final ByteBuf frame)
    {
        lock.lock();
        try
        {
            channel.write(frame, channel.voidPromise());
            flushLocked();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Flushes on the event loop, holding the lock. If the socket did not take everything, Netty
     * writes the rest later, outside the lock: direct writes stay off until then.
     */
    private void flushLocked()
    {
        channel.flush();
        if (fd == null)
        {
            return;
        }
        final ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
        if (pending == null || pending.totalPendingWriteBytes() == 0)
        {
            direct = directBuffer != null;
        }
        else
        {
            direct = false;
            channel.write(channel.alloc().buffer(0)).addListener(f -> channel.eventLoop().execute(this::retryDirect));
            channel.flush();
        }
    }

    /** On the event loop, once Netty wrote what it held: direct writes may resume. */
    private void retryDirect()
    {
        lock.lock();
        try
        {
            final ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
            if (channel.isActive() && (pending == null || pending.totalPendingWriteBytes() == 0))
            {
                direct = directBuffer != null;
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    private void encode(final ByteBuf out, final TcpPart p)
    {
        p.id = ++nextRequestId;
        TcpFrames.encodeBatch(out, p.batch().isEcho() ? TcpFrames.ECHO : TcpFrames.BATCH, p.id, p.batch(), p.part());
        inFlight.add(p);
    }

    /** The oldest part in flight, taken off the queue (its answer arrived), or null. */
    TcpPart poll()
    {
        lock.lock();
        try
        {
            return inFlight.poll();
        }
        finally
        {
            lock.unlock();
        }
    }

    /** See {@link InFlightParts#overdueNs}. */
    long overdueNs(final long nowNs)
    {
        lock.lock();
        try
        {
            return inFlight.overdueNs(nowNs);
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Times out parts past their deadline into {@code done} (they stay in flight until answered). */
    void expire(final long nowNs, final Function<TcpPart, Throwable> timeout, final ArrayList<TcpPart> done)
    {
        lock.lock();
        try
        {
            inFlight.expire(nowNs, timeout, done);
        }
        finally
        {
            lock.unlock();
        }
    }

    /** The connection is gone: every part in flight or waiting fails with {@code error} into {@code done}. */
    void failAll(final Throwable error, final ArrayList<TcpPart> done)
    {
        lock.lock();
        try
        {
            direct = false;
            inFlight.failAll(error, done);
            TcpPart p;
            while ((p = outbox.poll()) != null)
            {
                if (p.finish(error))
                {
                    done.add(p);
                }
            }
            if (directBuffer != null)
            {
                directBuffer.release();
                directBuffer = null;
            }
        }
        finally
        {
            lock.unlock();
        }
    }
}
