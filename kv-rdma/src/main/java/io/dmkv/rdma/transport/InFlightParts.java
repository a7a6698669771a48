package io.dmkv.rdma.transport;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.function.Function;

/**
 * The parts a channel has accepted, oldest first, with their deadlines: what the tcp and rdma
 * channels both keep to match answers in order, to time parts out and to fail everything when
 * the connection goes. Not thread-safe: one thread (or one lock) owns it.
 *
 * <p>Parts that finish here are collected into a list and handed over by {@link #deliver} once
 * the owner may run listeners (the rdma channel delivers outside its lock, since a listener may
 * post again).
 */
public final class InFlightParts<P extends PendingPart>
{
    private final ArrayDeque<P> parts = new ArrayDeque<>();

    public void add(final P part)
    {
        parts.addLast(part);
    }

    /** The oldest part, or null. */
    public P peek()
    {
        return parts.peekFirst();
    }

    /** Takes the oldest part, or null. */
    public P poll()
    {
        return parts.pollFirst();
    }

    public boolean isEmpty()
    {
        return parts.isEmpty();
    }

    /** Drops finished parts from the front: no answer is awaited for them any more. */
    public void dropFinished()
    {
        while (!parts.isEmpty() && parts.peekFirst().finished())
        {
            parts.pollFirst();
        }
    }

    /**
     * Finishes every part past its deadline with the error {@code timeout} makes for it, oldest
     * first, and stops at the first part still in time (later parts have later deadlines). The
     * parts stay: an answer may still come for them and must be matched. Returns how many timed out.
     */
    public int expire(final long nowNs, final Function<? super P, Throwable> timeout, final ArrayList<? super P> done)
    {
        int expired = 0;
        for (final P p : parts)
        {
            if (nowNs - p.deadlineNs() < 0)
            {
                break;
            }
            if (!p.finished() && p.finish(timeout.apply(p)))
            {
                done.add(p);
                expired++;
            }
        }
        return expired;
    }

    /**
     * How long the oldest part has been past its deadline when it timed out and still got no
     * answer (a connection that stopped answering); 0 otherwise.
     */
    public long overdueNs(final long nowNs)
    {
        final P head = parts.peekFirst();
        return head != null && head.finished() && nowNs - head.deadlineNs() > 0 ? nowNs - head.deadlineNs() : 0;
    }

    /** Finishes every part with {@code error} and forgets them all. */
    public void failAll(final Throwable error, final ArrayList<? super P> done)
    {
        P p;
        while ((p = parts.pollFirst()) != null)
        {
            if (p.finish(error))
            {
                done.add(p);
            }
        }
    }

    /** Hands the outcome of every part in {@code done} to its batch, in order, and empties the list. */
    public static void deliver(final ArrayList<? extends PendingPart> done)
    {
        for (int i = 0, n = done.size(); i < n; i++)
        {
            done.get(i).deliver();
        }
        done.clear();
    }
}
