package io.dmkv.rdma.transport.tcp;

import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import io.dmkv.rdma.VerbBatch;
import io.netty.buffer.ByteBuf;

/**
 * The parts of one tcp connection's event-loop path ({@link TcpVerbsChannel}) and the node's
 * answers to them. Parts come from a pool, so steady-state posting allocates nothing. The node
 * answers in the order it was sent to, so each answer belongs to the oldest part in flight
 * ({@link TcpWire#poll}); answers are matched on the event loop only.
 */
final class TcpAnswers
{
    private static final int POOL = 256;

    private final ManyToManyConcurrentArrayQueue<TcpPart> pool = new ManyToManyConcurrentArrayQueue<>(POOL);
    /** Parts taken for the event-loop path, and (written by the event loop only) parts the node answered. */
    private final AtomicLong sent = new AtomicLong();
    private volatile long answered;
    /** On the event loop: the part an answer for another request was matched against. */
    private TcpPart unmatched;

    /** A part for {@code part} of {@code batch}, due by {@code deadlineNs}, counted as sent. */
    TcpPart take(final VerbBatch batch, final int part, final long deadlineNs)
    {
        TcpPart p = pool.poll();
        if (p == null)
        {
            p = new TcpPart();
        }
        p.start(batch, part, deadlineNs, TcpFrames.requestLength(batch, part));
        sent.incrementAndGet();
        return p;
    }

    /** True while every part taken has had its answer: nothing on this path could be overtaken. */
    boolean allAnswered()
    {
        return sent.get() == answered;
    }

    /**
     * An ECHO_RESP (its type byte read from {@code in}): completes the oldest part, which must be
     * the echo it answers.
     *
     * @return null, or what the node did wrong: the connection must close, and then
     *         {@link #failUnmatched} fails the part the answer was matched against.
     */
    String echo(final TcpWire wire, final ByteBuf in)
    {
        return answer(wire, in, true);
    }

    /**
     * A BATCH_RESP (its type byte read from {@code in}): completes the oldest part, which must be
     * the batch it answers, with its results, or drops them if that part timed out already (its
     * batch may be in use again).
     *
     * @return null, or what the node did wrong: the connection must close, and then
     *         {@link #failUnmatched} fails the part the answer was matched against.
     */
    String batch(final TcpWire wire, final ByteBuf in)
    {
        return answer(wire, in, false);
    }

    /**
     * Fails the part an answer was being matched against when the connection had to close: an
     * answer for another request ({@link #batch}), or one cut short (a decoder's
     * {@link IndexOutOfBoundsException} while its results were read).
     */
    void failUnmatched(final Throwable error)
    {
        final TcpPart p = unmatched;
        unmatched = null;
        if (p != null && p.finish(error))
        {
            p.deliver();
        }
    }

    private String answer(final TcpWire wire, final ByteBuf in, final boolean echo)
    {
        final TcpPart p = wire.poll();
        answered++;
        if (p == null)
        {
            return (echo ? "echoed" : "answered") + " a request it was not sent";
        }
        // Until its answer is read whole: an answer cut short fails the part with the connection.
        unmatched = p;
        final long id = in.readLong();
        // A part that timed out may have its batch in use again: only the id says which it was.
        if (p.id != id || !p.finished() && p.batch().isEcho() != echo)
        {
            return (echo ? "echoed" : "answered") + " request " + id + " out of order: request " + p.id
                + (p.id == id ? " was not " + (echo ? "an echo" : "a batch") : " was due");
        }
        final Throwable results = echo || p.finished() ? null : TcpFrames.readBatchResults(in, p.batch(), p.part());
        unmatched = null;
        if (!p.finished())
        {
            complete(p, results);
        }
        return null;
    }

    /** Completes a part that was answered and puts it back in the pool. */
    private void complete(final TcpPart p, final Throwable error)
    {
        if (p.finish(error))
        {
            p.deliver();
        }
        p.start(null, 0, 0, 0);
        pool.offer(p);
    }
}
