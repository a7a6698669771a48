package io.dmkv.computenode.proxy.cache;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.agrona.concurrent.NanoClock;

import io.dmkv.rdma.CallerWaits;
import io.dmkv.rdma.InlineLane;
import io.dmkv.rdma.VerbsChannel;

/**
 * This compute node's requests to one proxy (docs/flexkv.md §11): they leave in batch frames,
 * with at most {@code framesInFlight} frames in flight; requests made while those are out leave
 * together in the next frame (natural batching: a lone request leaves at once). Every response
 * carries the proxy's invalidations for this node, which are applied to the cache before the
 * response's requests complete, and acknowledged in the next frame. While this node holds
 * leases from the proxy, a poll frame waits at the proxy for invalidations, so they arrive even
 * when no request flows. No thread: everything runs on the caller's or the network's thread.
 *
 * <p>A caller that waits for its answer anyway (inside a blocking store call: {@link CallerWaits})
 * and has a lane to the proxy ({@link InlineLane}) sends its request in a frame of its own on that
 * lane and reads the answer itself: no event loop between it and the socket, no hand-off of the
 * answer and no wake-up, as its verbs to memory nodes. Such frames do not count against
 * {@code framesInFlight}; the proxy orders them with the others by the invalidation numbering,
 * which does not depend on the connection a frame took.
 */
final class ProxyLink
{
    private final String endpoint;
    private final Supplier<VerbsChannel> channel;
    private final ValueCache cache;
    private final NanoClock clock;
    private final byte[] name;
    private long nonce;
    private final int framesInFlight;
    private final int parkMs;
    private final ProxyClient.Counters counters;
    private final List<Pending> queue = new ArrayList<>();
    private int inFlight;
    /** Invalidation batches applied: all up to {@code applied}, and these beyond it. */
    private long applied;
    private final TreeSet<Long> appliedAhead = new TreeSet<>();
    /** Responses whose requests wait for invalidation batches still on their way. */
    private final List<Held> held = new ArrayList<>();
    private boolean polling;
    private long leasesUntil;
    /** How long a response may wait for an earlier batch before this node gives up on the proxy's numbering. */
    private final long leaseGuessNs;

    /** A request waiting for its frame. */
    private record Pending(BatchFrame.Sub sub, CompletableFuture<Reply> reply)
    {
    }

    /** A response held until every invalidation batch up to {@code needed} is applied. */
    private record Held(long needed, Runnable deliver, long since)
    {
    }

    /** A request frame and the incarnation ({@code nonce}) whose numbering its acknowledgement and answer follow. */
    private record Outgoing(ByteBuffer bytes, long nonce)
    {
    }

    /** One request's answer and, for a leased lookup, the lease's length (0: no lease). */
    record Reply(BatchFrame.Answer answer, long leaseNs)
    {
    }

    ProxyLink(final String endpoint, final Supplier<VerbsChannel> channel, final ValueCache cache,
        final NanoClock clock, final byte[] name, final long nonce, final int framesInFlight, final int parkMs,
        final ProxyClient.Counters counters)
    {
        this.endpoint = endpoint;
        this.channel = channel;
        this.cache = cache;
        this.clock = clock;
        this.name = name;
        this.nonce = nonce;
        this.leaseGuessNs = Math.max(1, parkMs) * 1_000_000L;
        this.framesInFlight = framesInFlight;
        this.parkMs = parkMs;
        this.counters = counters;
    }

    String endpoint()
    {
        return endpoint;
    }

    /** Sends {@code sub} in the next frame; null when no connection is open (the caller takes its blocking path). */
    CompletableFuture<Reply> submit(final BatchFrame.Sub sub)
    {
        final VerbsChannel c = channel.get();
        if (c == null)
        {
            return null;
        }
        final InlineLane lane = CallerWaits.active() ? c.inlineLane() : null;
        if (lane != null)
        {
            return onLane(c, lane, sub);
        }
        final CompletableFuture<Reply> reply = new CompletableFuture<>();
        final List<Pending> frame;
        synchronized (this)
        {
            queue.add(new Pending(sub, reply));
            frame = takeFrame();
        }
        if (frame != null)
        {
            send(c, frame);
        }
        return reply;
    }

    /** {@code sub} in a frame of its own, written and answered on the calling thread's lane. */
    private CompletableFuture<Reply> onLane(final VerbsChannel c, final InlineLane lane, final BatchFrame.Sub sub)
    {
        final List<Pending> frame = List.of(new Pending(sub, new CompletableFuture<>()));
        counters.laneFrame();
        final long sentAt = clock.nanoTime();
        final Outgoing out = request(frame);
        ByteBuffer response = null;
        Throwable failure = null;
        try
        {
            response = lane.rpc(BatchFrame.BATCH, out.bytes());
        }
        catch (final RuntimeException e)
        {
            failure = e;
        }
        final BatchFrame.Response r = answered(frame, sentAt, out.nonce(), response, failure);
        if (r != null && r.seq() != 0)
        {
            // The proxy's writes wait for this acknowledgement; no frame of this thread may follow soon.
            sendAck(c);
        }
        return frame.get(0).reply();
    }

    /** The queued requests as the next frame, if one may leave now (under the lock). */
    private List<Pending> takeFrame()
    {
        if (queue.isEmpty() || inFlight >= framesInFlight)
        {
            return null;
        }
        inFlight++;
        final List<Pending> frame = new ArrayList<>(queue);
        queue.clear();
        return frame;
    }

    /** The request frame carrying {@code frame}'s requests and the acknowledgement of what this node applied. */
    private Outgoing request(final List<Pending> frame)
    {
        final List<BatchFrame.Sub> subs = new ArrayList<>(frame.size());
        for (final Pending p : frame)
        {
            subs.add(p.sub());
        }
        final long ack;
        final long n;
        synchronized (this)
        {
            ack = applied;
            n = nonce;
        }
        counters.frame(frame.size());
        return new Outgoing(BatchFrame.request(BatchFrame.VALUES, n, ack, 0, name, subs), n);
    }

    private void send(final VerbsChannel c, final List<Pending> frame)
    {
        final long sentAt = clock.nanoTime();
        final Outgoing out = request(frame);
        final CompletableFuture<ByteBuffer> sent;
        try
        {
            sent = c.rpc(BatchFrame.BATCH, out.bytes());
        }
        catch (final RuntimeException e)
        {
            frameDone(frame, sentAt, out.nonce(), null, e);
            return;
        }
        sent.whenComplete((response, failure) -> frameDone(frame, sentAt, out.nonce(), response, failure));
    }

    private void frameDone(final List<Pending> frame, final long sentAt, final long sentUnder,
        final ByteBuffer response, final Throwable failure)
    {
        final BatchFrame.Response r = answered(frame, sentAt, sentUnder, response, failure);
        final VerbsChannel c = channel.get();
        final List<Pending> next;
        synchronized (this)
        {
            inFlight--;
            next = takeFrame();
        }
        if (next != null && c == null)
        {
            // The connection is gone: the requests that queued behind this frame take their blocking path.
            final Throwable gone = new ProxyClient.NotSent("the connection to proxy " + endpoint + " is gone");
            for (final Pending p : next)
            {
                p.reply().completeExceptionally(gone);
            }
            synchronized (this)
            {
                inFlight--;
            }
        }
        else if (next != null)
        {
            send(c, next);
        }
        else if (r != null && r.seq() != 0)
        {
            // Nothing else leaves now to carry the acknowledgement the proxy's writes wait for.
            sendAck(c);
        }
    }

    /**
     * Completes {@code frame}'s requests with the proxy's {@code response} (once the invalidations
     * before it are applied) or with {@code failure}; the parsed response, or null on a failure.
     */
    private BatchFrame.Response answered(final List<Pending> frame, final long sentAt, final long sentUnder,
        final ByteBuffer response, final Throwable failure)
    {
        BatchFrame.Response r = null;
        Throwable error = failure;
        if (error == null)
        {
            try
            {
                r = BatchFrame.parseResponse(response, frame.size());
            }
            catch (final RuntimeException e)
            {
                error = e;
            }
        }
        if (error != null)
        {
            lost();
            for (final Pending p : frame)
            {
                p.reply().completeExceptionally(error);
            }
            return null;
        }
        final BatchFrame.Response ok = r;
        boolean leased = false;
        for (final BatchFrame.Answer a : ok.answers())
        {
            leased |= a.leased();
        }
        if (leased)
        {
            // Before the requests complete: on a lane the caller's operation goes on inside the completion.
            leasesFrom(sentAt, ok.leaseNs());
        }
        received(ok, sentUnder, () ->
        {
            for (int i = 0; i < frame.size(); i++)
            {
                frame.get(i).reply().complete(new Reply(ok.answers()[i], ok.answers()[i].leased() ? ok.leaseNs() : 0));
            }
        });
        return ok;
    }

    /**
     * Applies a response's invalidations, then runs {@code deliver} once every batch the proxy sent
     * before the response is applied (an earlier batch may travel in a response still on its way).
     * A response to a frame sent under an incarnation that {@link #lost} has since ended
     * ({@code sentUnder}, its nonce) is numbered by that incarnation: its batch is not one of the
     * current numbering, and the batches it names may never come, so it is delivered at once, as
     * {@link #lost} delivered the responses it found held. Holding it would wait for traffic that
     * may never come: its caller may be the only one this link has, waiting for this very answer.
     */
    private void received(final BatchFrame.Response r, final long sentUnder, final Runnable deliver)
    {
        if (r.seq() != 0)
        {
            cache.invalidate(r.hashes());
            counters.invalidations(r.hashes().length);
        }
        final List<Runnable> ready = new ArrayList<>(1);
        final long now = clock.nanoTime();
        boolean stuck = false;
        synchronized (this)
        {
            if (sentUnder != nonce)
            {
                ready.add(deliver);
            }
            else
            {
                sequence(r.seq());
                if (r.needed() <= applied)
                {
                    ready.add(deliver);
                }
                else
                {
                    held.add(new Held(r.needed(), deliver, now));
                }
            }
            held.removeIf(h ->
            {
                if (h.needed() <= applied)
                {
                    ready.add(h.deliver());
                    return true;
                }
                return false;
            });
            stuck = !held.isEmpty() && now - held.get(0).since() > 5 * leaseGuessNs;
        }
        ready.forEach(Runnable::run);
        if (stuck)
        {
            // A batch this node waits for never came (sent on a connection that broke meanwhile).
            lost();
        }
    }

    /** Counts batch {@code seq} (0: none) as applied, with every batch before it that arrived (under the lock). */
    private void sequence(final long seq)
    {
        if (seq == applied + 1)
        {
            applied++;
            while (!appliedAhead.isEmpty() && appliedAhead.first() == applied + 1)
            {
                applied = appliedAhead.pollFirst();
            }
        }
        else if (seq > applied)
        {
            appliedAhead.add(seq);
        }
    }

    /** Remembers that this node holds leases from the proxy until then, and keeps a poll waiting there. */
    private void leasesFrom(final long sentAt, final long leaseNs)
    {
        final boolean start;
        synchronized (this)
        {
            leasesUntil = Math.max(leasesUntil, sentAt + leaseNs);
            start = !polling;
            polling = true;
        }
        if (start)
        {
            poll(channel.get(), BatchFrame.POLL);
        }
    }

    private void sendAck(final VerbsChannel c)
    {
        if (c != null)
        {
            poll(c, 0);
        }
    }

    /** A frame with no request: POLL waits at the proxy for invalidations; without it, it only acknowledges. */
    private void poll(final VerbsChannel c, final int flags)
    {
        if (c == null)
        {
            pollEnded(flags);
            return;
        }
        final long ack;
        final long n;
        synchronized (this)
        {
            ack = applied;
            n = nonce;
        }
        counters.poll();
        final CompletableFuture<ByteBuffer> sent;
        try
        {
            sent = c.rpc(BatchFrame.BATCH, BatchFrame.request(flags, n, ack, flags == 0 ? 0 : parkMs, name,
                List.of()));
        }
        catch (final RuntimeException e)
        {
            lost();
            pollEnded(flags);
            return;
        }
        sent.whenComplete((response, failure) ->
        {
            BatchFrame.Response r = null;
            if (failure == null)
            {
                try
                {
                    r = BatchFrame.parseResponse(response, 0);
                }
                catch (final RuntimeException e)
                {
                    r = null;
                }
            }
            if (r == null)
            {
                lost();
                pollEnded(flags);
                return;
            }
            received(r, n, () -> { });
            if (flags == 0)
            {
                if (r.seq() != 0)
                {
                    sendAck(channel.get());
                }
                return;
            }
            final boolean again;
            synchronized (this)
            {
                again = r.seq() != 0 || clock.nanoTime() - leasesUntil < 0;
                polling = again;
            }
            if (again)
            {
                poll(channel.get(), BatchFrame.POLL);
            }
        });
    }

    private void pollEnded(final int flags)
    {
        if (flags != 0)
        {
            synchronized (this)
            {
                polling = false;
            }
        }
    }

    /**
     * The connection failed, or a batch of invalidations never came: what the proxy sent may be
     * lost, so every value it granted is dropped (and fills under way refused), and this node
     * talks to it as a new incarnation from now on, whose numbering starts again; the proxy then
     * releases the writes that waited for the old one. Held responses are delivered: nothing
     * from this proxy is cached any more.
     */
    private void lost()
    {
        final List<Runnable> ready = new ArrayList<>();
        synchronized (this)
        {
            cache.dropEndpoint(endpoint);
            nonce = ProxyClient.newNonce();
            applied = 0;
            appliedAhead.clear();
            held.forEach(h -> ready.add(h.deliver()));
            held.clear();
        }
        counters.resync();
        ready.forEach(Runnable::run);
    }
}
