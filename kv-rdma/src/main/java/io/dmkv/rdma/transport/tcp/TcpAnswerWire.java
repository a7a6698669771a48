package io.dmkv.rdma.transport.tcp;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;

/**
 * The sending side of one server connection (a memory node's, or a peer's that only answers RPCs):
 * every write to its socket, so that an RPC answered off the event loop can leave from the thread
 * that completed it.
 *
 * <p>An inline RPC handler whose answer waits for verbs it posted to another node completes on
 * that connection's event loop, not on this one: handing the answer to this connection's loop
 * costs a wake-up of that loop (an eventfd write, its epoll return, a task) per answer, on
 * machines where wake-ups are much of what a core spends its time on. <b>Direct</b>: when the
 * connection runs on native epoll with nothing in its pipeline but the frame decoder and the
 * handler (no TLS), and Netty has nothing queued, the completing thread writes the answer to the
 * socket itself. <b>Through the loop</b>: otherwise, as before.
 *
 * <p>A lock orders every write to the socket, so the bytes of two frames never interleave: the
 * loop's writes and flushes take it, and a direct write happens only under it with Netty's
 * outbound buffer empty (Netty counts a message as pending until every byte of it is written, so
 * an empty buffer means the loop is not half-way through one). A direct write the socket does not
 * take whole leaves its rest for the loop to write before anything else, and direct writes stay
 * off until a flush of the loop finds Netty's buffer empty. Answers to different requests may
 * leave in another order than they completed: RPC answers are matched by request id, and only
 * RPC answers go direct (batch answers, whose order is the verbs' order, always leave through
 * the loop, as do answers that complete on it).
 */
final class TcpAnswerWire
{
    private static final List<String> PLAIN_PIPELINE = List.of("frames", "verbs");

    private final Channel channel;
    private final TcpVerbsServer server;
    private final ReentrantLock lock = new ReentrantLock();
    /** Set by {@link #start} where direct writes are possible; guarded by the lock. */
    private FileDescriptor fd;
    private volatile boolean direct;
    /** Guarded by the lock: the rest of a direct write the socket did not take, written first. */
    private ByteBuf rest;
    /** Guarded by the lock: the connection failed or closed; nothing is written directly any more. */
    private boolean stopped;
    private final Runnable flushRest = () -> write(null, true);

    TcpAnswerWire(final Channel channel, final TcpVerbsServer server)
    {
        this.channel = channel;
        this.server = server;
    }

    /** On the event loop, once the hello is done (the guard has left the pipeline): allows direct writes where possible. */
    void start()
    {
        lock.lock();
        try
        {
            final boolean plain = PLAIN_PIPELINE.equals(List.copyOf(channel.pipeline().toMap().keySet()));
            if (plain && channel instanceof UnixChannel && !stopped && channel.isActive())
            {
                fd = ((UnixChannel)channel).fd();
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * On the event loop: writes {@code buf} (null: nothing new) after whatever a direct write left,
     * and flushes if {@code flush}. Direct writes are on after a flush that left nothing pending.
     */
    void write(final ByteBuf buf, final boolean flush)
    {
        lock.lock();
        try
        {
            final Channel c = channel;
            if (rest != null)
            {
                c.write(rest, c.voidPromise());
                rest = null;
            }
            if (buf != null)
            {
                c.write(buf, c.voidPromise());
            }
            if (flush)
            {
                c.flush();
                direct = fd != null && !stopped && nothingPending();
            }
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Off the event loop: an answer {@code frame} (a direct buffer), written from this thread if
     * the connection allows it now, otherwise handed to the loop. Takes ownership of {@code frame}.
     */
    void answer(final ByteBuf frame)
    {
        if (!tryDirect(frame))
        {
            try
            {
                channel.eventLoop().execute(() -> write(frame, true));
            }
            catch (final RejectedExecutionException e)
            {
                // The loop is shut down: the connection is gone, and so is its answer.
                frame.release();
            }
        }
    }

    private boolean tryDirect(final ByteBuf frame)
    {
        if (!direct || !frame.hasMemoryAddress() || !lock.tryLock())
        {
            return false;
        }
        try
        {
            if (!direct || stopped || rest != null || !nothingPending())
            {
                return false;
            }
            final int length = frame.readableBytes();
            final int n;
            try
            {
                n = fd.writeAddress(frame.memoryAddress(), frame.readerIndex(), frame.writerIndex());
            }
            catch (final IOException e)
            {
                // Nothing was written: the loop's write meets the same failure and closes the connection.
                direct = false;
                return false;
            }
            if (n < length)
            {
                // The socket is full: the loop writes the rest through Netty before anything else.
                direct = false;
                rest = frame.skipBytes(n);
                server.answeredDirect(true);
                channel.eventLoop().execute(flushRest);
                return true;
            }
            frame.release();
            server.answeredDirect(false);
            return true;
        }
        catch (final RejectedExecutionException e)
        {
            // The loop is shut down with the rest unwritten: the connection is gone.
            stopLocked();
            return true;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** The connection failed or closed: no more direct writes; a rest not written is dropped. */
    void stop()
    {
        lock.lock();
        try
        {
            stopLocked();
        }
        finally
        {
            lock.unlock();
        }
    }

    private void stopLocked()
    {
        stopped = true;
        direct = false;
        if (rest != null)
        {
            rest.release();
            rest = null;
        }
    }

    private boolean nothingPending()
    {
        final ChannelOutboundBuffer pending = channel.unsafe().outboundBuffer();
        return channel.isActive() && pending != null && pending.totalPendingWriteBytes() == 0;
    }
}
