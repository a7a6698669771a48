package io.dmkv.rdma.transport.tcp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

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
 * {@code write}.
 *
 * <p>A lock orders every write to the socket, so the bytes of two frames never interleave. The
 * event loop never waits for it while the connection is up: when a posting thread holds it, the
 * loop leaves a note and that thread, once it let go, hands the drain back to the loop. A
 * posting thread hands what it wrote to the loop through a single-producer queue (the lock makes
 * its producers one at a time); the loop moves those parts into its own in-flight queue, in wire
 * order, before it matches an answer or writes. A direct write the socket does not take whole
 * leaves its rest for the loop to write before anything else, and direct writing stays off until
 * Netty has written everything. Control frames (RPCs) always go through the event loop.
 */
final class TcpWire
{
    /** Parts waiting for the event loop in the allocation-free outbox; past this they wait in a linked overflow. */
    private static final int OUTBOX = 4096;
    /** Parts written directly and not yet seen by the loop; past this, posts go through the outbox. */
    private static final int SENT = 4096;
    /** Encoded bytes after which a drain writes what it has and starts another buffer. */
    private static final int WRITE_BYTES = 256 << 10;
    private static final List<String> PLAIN_PIPELINE = List.of("frames", "verbs");

    private final Channel channel;
    private final ReentrantLock lock = new ReentrantLock();
    /** Owned by the event loop. */
    private final InFlightParts<TcpPart> inFlight = new InFlightParts<>();
    private final OneToOneConcurrentArrayQueue<TcpPart> sent = new OneToOneConcurrentArrayQueue<>(SENT);
    private final ManyToManyConcurrentArrayQueue<TcpPart> outbox = new ManyToManyConcurrentArrayQueue<>(OUTBOX);
    /** Used only while the outbox is full, and then by every post until it is empty again (order). */
    private final ConcurrentLinkedQueue<TcpPart> overflow = new ConcurrentLinkedQueue<>();
    private final ArrayList<ByteBuf> control = new ArrayList<>();
    /** Set by {@link #start} (after the hello, when the guard has left the pipeline); guarded by the lock. */
    private FileDescriptor fd;
    private final Runnable retry;
    /** Guarded by the lock: the rest of a direct write the socket did not take, to write first. */
    private ByteBuf rest;
    private ByteBuf directBuffer;
    private volatile boolean direct;
    /** The loop found the lock taken: the thread that holds it schedules the drain again. */
    private final AtomicBoolean drainWanted = new AtomicBoolean();
    /** Guarded by the lock. */
    private long nextRequestId;
    /** Guarded by the lock: {@link #failAll} ran, so nothing allocated later would be freed. */
    private boolean failed;

    /** @param retry runs {@link #drain} again on the event loop (when a posting thread held the lock). */
    TcpWire(final Channel channel, final Runnable retry)
    {
        this.channel = channel;
        this.retry = retry;
    }

    /** Allows direct writes from now on (after the hello), where the connection is capable of them. */
    void start()
    {
        final boolean plain = PLAIN_PIPELINE.equals(List.copyOf(channel.pipeline().toMap().keySet()));
        if (plain && channel instanceof UnixChannel)
        {
            lock.lock();
            try
            {
                if (failed || !channel.isActive())
                {
                    // The node closed right after its hello: failAll ran (or will find nothing to free).
                    return;
                }
                fd = ((UnixChannel)channel).fd();
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
        if (!direct || !outbox.isEmpty() || !overflow.isEmpty() || channel.eventLoop().inEventLoop()
            || !lock.tryLock())
        {
            return false;
        }
        try
        {
            if (!direct || !outbox.isEmpty() || !overflow.isEmpty() || rest != null || sent.remainingCapacity() == 0)
            {
                return false;
            }
            final ByteBuf buf = directBuffer;
            buf.clear();
            encode(buf, p);
            sent.offer(p);
            final int length = buf.readableBytes();
            final int n = fd.writeAddress(buf.memoryAddress(), 0, length);
            if (n < length)
            {
                // The socket is full: the loop writes the rest through Netty, before anything else.
                direct = false;
                rest = channel.alloc().directBuffer(length - n).writeBytes(buf, n, length - n);
                channel.eventLoop().execute(retry);
            }
            return true;
        }
        finally
        {
            lock.unlock();
            if (drainWanted.get() && drainWanted.compareAndSet(true, false))
            {
                channel.eventLoop().execute(retry);
            }
        }
    }

    /** Queues {@code p} for the event loop (the caller then schedules a drain). */
    void offer(final TcpPart p)
    {
        if (!overflow.isEmpty() || !outbox.offer(p))
        {
            overflow.add(p);
        }
    }

    /** Queues a control frame (an RPC) for the event loop; the caller then schedules a drain. */
    void offerControl(final ByteBuf frame)
    {
        synchronized (control)
        {
            control.add(frame);
        }
    }

    /**
     * On the event loop: writes whatever waits (a direct write's rest, control frames, the
     * outbox) with one flush. Writes nothing when a posting thread holds the lock: that thread
     * runs the drain again on the loop once it let go.
     */
    void drain()
    {
        drainWanted.set(true);
        if (!lock.tryLock())
        {
            return;
        }
        drainWanted.set(false);
        try
        {
            moveSent();
            boolean wrote = false;
            if (rest != null)
            {
                channel.write(rest, channel.voidPromise());
                rest = null;
                wrote = true;
            }
            synchronized (control)
            {
                for (final ByteBuf frame : control)
                {
                    channel.write(frame, channel.voidPromise());
                    wrote = true;
                }
                control.clear();
            }
            ByteBuf out = null;
            TcpPart p;
            while ((p = outbox.poll()) != null || (p = overflow.poll()) != null)
            {
                if (out == null)
                {
                    out = channel.alloc().directBuffer(Math.max(1024, TcpFrames.LENGTH_FIELD + p.body));
                }
                encode(out, p);
                inFlight.add(p);
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
            else if (fd != null && !direct && directBuffer != null && nothingPending())
            {
                direct = true;
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Flushes on the event loop, holding the lock. If the socket did not take everything, Netty
     * writes the rest later, outside the lock: direct writes stay off until a later drain finds
     * Netty's buffer empty.
     */
    private void flushLocked()
    {
        channel.flush();
        if (fd == null || directBuffer == null)
        {
            return;
        }
        if (nothingPending())
        {
            direct = true;
        }
        else
        {
            direct = false;
            channel.write(channel.alloc().buffer(0)).addListener(f -> channel.eventLoop().execute(retry));
            channel.flush();
        }
    }

    private boolean nothingPending()
    {
        final ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
        return channel.isActive() && (pending == null || pending.totalPendingWriteBytes() == 0);
    }

    private void encode(final ByteBuf out, final TcpPart p)
    {
        p.id = ++nextRequestId;
        TcpFrames.encodeBatch(out, p.batch().isEcho() ? TcpFrames.ECHO : TcpFrames.BATCH, p.id, p.batch(), p.part());
    }

    /** On the event loop: parts written by posting threads join the in-flight queue, in wire order. */
    private void moveSent()
    {
        TcpPart p;
        while ((p = sent.poll()) != null)
        {
            inFlight.add(p);
        }
    }

    /** On the event loop: the oldest part in flight, taken off the queue (its answer arrived), or null. */
    TcpPart poll()
    {
        moveSent();
        return inFlight.poll();
    }

    /** On the event loop: see {@link InFlightParts#overdueNs}. */
    long overdueNs(final long nowNs)
    {
        moveSent();
        return inFlight.overdueNs(nowNs);
    }

    /** On the event loop: times out parts past their deadline into {@code done} (they stay until answered). */
    void expire(final long nowNs, final Function<TcpPart, Throwable> timeout, final ArrayList<TcpPart> done)
    {
        moveSent();
        inFlight.expire(nowNs, timeout, done);
    }

    /**
     * The connection is gone (on the event loop, or on a posting thread once the loop is gone):
     * every part in flight or waiting fails with {@code error} into {@code done}.
     */
    void failAll(final Throwable error, final ArrayList<TcpPart> done)
    {
        direct = false;
        lock.lock();
        try
        {
            failed = true;
            moveSent();
            inFlight.failAll(error, done);
            TcpPart p;
            while ((p = outbox.poll()) != null || (p = overflow.poll()) != null)
            {
                if (p.finish(error))
                {
                    done.add(p);
                }
            }
            synchronized (control)
            {
                control.forEach(ByteBuf::release);
                control.clear();
            }
            if (rest != null)
            {
                rest.release();
                rest = null;
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
