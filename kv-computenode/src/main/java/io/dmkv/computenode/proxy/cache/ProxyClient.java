package io.dmkv.computenode.proxy.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.ValueSink;
import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.VerbsChannel;

/**
 * A compute node's side of RPC-aggregated caching (docs/flexkv.md §11): its requests to each
 * proxy leave in batch frames ({@link ProxyLink}), and the values it reads from other proxies'
 * partitions are cached under their leases ({@link ValueCache}), kept coherent by the
 * invalidations those proxies send back.
 */
public final class ProxyClient
{
    private final byte[] name;
    private final Function<String, VerbsChannel> channels;
    private final NanoClock clock;
    private final ValueCache cache;
    private final long marginNs;
    private final int framesInFlight;
    private final int parkMs;
    private final long nonce = newNonce();
    private final Map<String, ProxyLink> links = new ConcurrentHashMap<>();
    private final Counters counters = new Counters();

    /**
     * @param name          this compute node's member name (its identity at the proxies).
     * @param channels      the open connection to a proxy's endpoint, or null when there is none.
     * @param cacheBytes    the value cache's budget; 0: no cache (requests are still batched).
     * @param marginNs      how much earlier than granted this node ends a lease (the drift it tolerates).
     * @param parkMs        how long a poll waits at a proxy (below the request timeout).
     */
    public ProxyClient(final String name, final Function<String, VerbsChannel> channels, final NanoClock clock,
        final long cacheBytes, final long marginNs, final int framesInFlight, final int parkMs)
    {
        this.name = name.getBytes(StandardCharsets.UTF_8);
        this.channels = channels;
        this.clock = clock;
        this.cache = cacheBytes > 0 ? new ValueCache(clock, cacheBytes) : null;
        this.marginNs = marginNs;
        this.framesInFlight = framesInFlight;
        this.parkMs = parkMs;
    }

    /** A request that never left (its connection went while it queued): a write's outcome is known, not applied. */
    public static final class NotSent extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        NotSent(final String message)
        {
            super(message);
        }
    }

    /** True when {@code failure} (possibly wrapped by a dependent future) is {@link NotSent}. */
    public static boolean notSent(final Throwable failure)
    {
        return failure instanceof NotSent || failure != null && failure.getCause() instanceof NotSent;
    }

    static long newNonce()
    {
        return ThreadLocalRandom.current().nextLong() | 1;
    }

    private ProxyLink link(final String endpoint)
    {
        return links.computeIfAbsent(endpoint, e -> new ProxyLink(e, () -> channels.apply(e),
            cache != null ? cache : new ValueCache(clock, 0), clock, name, nonce, framesInFlight, parkMs, counters));
    }

    /**
     * Sends a SEARCH or MUTATE body (ProxyRpc's encoding) in the next batch frame to the proxy at
     * {@code endpoint}; null when no connection to it is open.
     */
    public CompletableFuture<ProxyRpc.Reply> call(final String endpoint, final int method, final ByteBuffer body)
    {
        return call(endpoint, new BatchFrame.Sub(method, body));
    }

    /** Sends {@code sub} in the next batch frame to the proxy at {@code endpoint}; null when no connection is open. */
    public CompletableFuture<ProxyRpc.Reply> call(final String endpoint, final BatchFrame.Sub sub)
    {
        final CompletableFuture<ProxyLink.Reply> r = link(endpoint).submit(sub);
        return r == null ? null : r.thenApply(ProxyClient::plain);
    }

    private static ProxyRpc.Reply plain(final ProxyLink.Reply r)
    {
        if (r.answer().status() == BatchFrame.FAILED)
        {
            throw new IllegalStateException("the proxy failed the request (see its log)");
        }
        return ProxyRpc.Reply.of(r.answer().status(), r.answer().slot());
    }

    /** The value of {@code key} cached under a live lease from {@code owner}, or null. */
    public byte[] cached(final byte[] key, final long hash, final String owner)
    {
        return cache == null ? null : cache.get(key, hash, owner);
    }

    /** A lookup's answer; {@link #fill} caches the value read for it when the proxy leased it. */
    public final class Lookup
    {
        private final ProxyRpc.Reply reply;
        private final byte[] key;
        private final long hash;
        private final long stamp;
        private final long validUntil;
        private final String owner;
        private final String endpoint;
        private final byte[] value;

        private Lookup(final ProxyRpc.Reply reply, final byte[] key, final long hash, final long stamp,
            final long validUntil, final String owner, final String endpoint, final byte[] value)
        {
            this.reply = reply;
            this.value = value;
            this.key = key;
            this.hash = hash;
            this.stamp = stamp;
            this.validUntil = validUntil;
            this.owner = owner;
            this.endpoint = endpoint;
        }

        public ProxyRpc.Reply reply()
        {
            return reply;
        }

        /** The key's value when the proxy sent it with a FOUND answer (no READ needed), else null. */
        public byte[] value()
        {
            return value;
        }

        /**
         * {@code done} as a completion that caches the value it gets (under the lease, unless an
         * invalidation came meanwhile) and hands it on.
         */
        public OpCompletion<byte[]> fill(final OpCompletion<byte[]> done)
        {
            if (validUntil == 0)
            {
                return done;
            }
            return (value, failure) ->
            {
                if (failure == null && value != null)
                {
                    cache.install(key, hash, value.clone(), stamp, validUntil, owner, endpoint);
                }
                deliver(done, value, failure);
            };
        }
    }

    /**
     * Looks {@code key} up at the proxy {@code owner} (at {@code endpoint}), asking for a lease
     * when this node caches; null when no connection to it is open.
     */
    public CompletableFuture<Lookup> lookup(final String endpoint, final String owner, final long epoch,
        final byte[] key, final long hash)
    {
        final long stamp = cache == null ? 0 : cache.stamp(hash);
        final long sentAt = clock.nanoTime();
        final CompletableFuture<ProxyLink.Reply> r = link(endpoint).submit(new BatchFrame.Sub(
            cache == null ? ProxyRpc.SEARCH : BatchFrame.CACHED_SEARCH, ProxyRpc.search(epoch, hash, key)));
        if (r == null)
        {
            return null;
        }
        return r.thenApply(x ->
        {
            final long lease = x.leaseNs() > marginNs ? x.leaseNs() - marginNs : 0;
            if (x.answer().value() != null)
            {
                counters.value();
            }
            return new Lookup(plain(x), key, hash, stamp, lease == 0 ? 0 : sentAt + lease, owner, endpoint,
                x.answer().value());
        });
    }

    /** Completes {@code done} with {@code value}, through its sink if it is one. */
    public static void deliver(final OpCompletion<byte[]> done, final byte[] value, final Throwable failure)
    {
        if (failure == null && value != null && value != ValueSink.DELIVERED && done instanceof ValueSink sink)
        {
            final DirectBuffer b = new UnsafeBuffer(value);
            sink.value(b, 0, value.length);
            done.complete(ValueSink.DELIVERED, null);
        }
        else
        {
            done.complete(value, failure);
        }
    }

    /** The cache's figures, or null without a cache. */
    public ValueCache.Stats cacheStats()
    {
        return cache == null ? null : cache.stats();
    }

    /**
     * Frames sent and the requests in them, the frames of those that callers sent on their own lanes,
     * lookups answered with their value, polls, invalidations applied, restarts of a proxy's numbering.
     */
    public record Stats(long frames, long requests, long laneFrames, long values, long polls, long invalidations,
        long resyncs)
    {
        /** Requests per batch frame. */
        public double requestsPerFrame()
        {
            return frames == 0 ? 0 : (double)requests / frames;
        }
    }

    public Stats stats()
    {
        return counters.snapshot();
    }

    /** Counters shared by the links. */
    static final class Counters
    {
        private final LongAdder frames = new LongAdder();
        private final LongAdder requests = new LongAdder();
        private final LongAdder laneFrames = new LongAdder();
        private final LongAdder values = new LongAdder();
        private final LongAdder polls = new LongAdder();
        private final LongAdder invalidations = new LongAdder();
        private final LongAdder resyncs = new LongAdder();

        void frame(final int n)
        {
            frames.increment();
            requests.add(n);
        }

        void laneFrame()
        {
            laneFrames.increment();
        }

        void value()
        {
            values.increment();
        }

        void poll()
        {
            polls.increment();
        }

        void invalidations(final int n)
        {
            invalidations.add(n);
        }

        void resync()
        {
            resyncs.increment();
        }

        Stats snapshot()
        {
            return new Stats(frames.sum(), requests.sum(), laneFrames.sum(), values.sum(), polls.sum(),
                invalidations.sum(), resyncs.sum());
        }
    }
}
