package io.dmkv.computenode.proxy.cache;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.proxy.ProxyIndex;
import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.security.RefusalLog;
import io.dmkv.rdma.server.MemoryNodeService;

/**
 * A proxy's side of the BATCH RPC (docs/flexkv.md §11): each request of a frame is first tried on
 * the network thread that received it (the copy answers a SEARCH, with the value when level 1
 * holds it for the slot found, and a MUTATE posts its write-through), and what would wait runs on
 * this handler's workers; the response leaves when
 * every request is answered, carrying the invalidations queued for the caller by then. A leased
 * SEARCH records the caller as a sharer before it looks the key up; a MUTATE is answered once the
 * directory's fence lets it (the other cachers applied their invalidations or their leases ended).
 */
public final class BatchHandler implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(BatchHandler.class);
    private static final int WORKERS = 8;
    /** A peer sending malformed batches, or a burst of memory-node timeouts, logs once per kind per period. */
    private static final long FAILURE_LOG_PERIOD_S = 60;
    private static final BatchFrame.Answer[] NO_ANSWERS = new BatchFrame.Answer[0];

    private final ProxyIndex index;
    private final CoherenceDirectory directory;
    private final ExecutorService workers;
    private final RefusalLog failures;

    public BatchHandler(final ProxyIndex index, final CoherenceDirectory directory, final String name)
    {
        this(index, directory, name, new RefusalLog(LOG, FAILURE_LOG_PERIOD_S, TimeUnit.SECONDS));
    }

    BatchHandler(final ProxyIndex index, final CoherenceDirectory directory, final String name,
        final RefusalLog failures)
    {
        this.index = index;
        this.directory = directory;
        this.failures = failures;
        final AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(WORKERS, r ->
        {
            final Thread t = new Thread(r, "dmkv-proxy-batch-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Serves BATCH on {@code service} (inline: the handler never blocks the network thread). */
    public void register(final MemoryNodeService service)
    {
        service.handleInline(BatchFrame.BATCH, this::handle);
    }

    CompletableFuture<ByteBuffer> handle(final ByteBuffer frame)
    {
        final BatchFrame.Request q = BatchFrame.parseRequest(frame);
        final int caller = directory.caller(q.caller(), q.nonce());
        directory.ack(caller, q.acked());
        if (q.subs().isEmpty())
        {
            if (q.poll())
            {
                final long park = Math.min(TimeUnit.MILLISECONDS.toNanos(q.parkMs()), directory.leaseNs());
                return directory.park(caller, park).thenApply(o -> response(o, NO_ANSWERS));
            }
            return CompletableFuture.completedFuture(response(directory.drain(caller), NO_ANSWERS));
        }
        @SuppressWarnings("unchecked")
        final CompletableFuture<BatchFrame.Answer>[] answers = new CompletableFuture[q.subs().size()];
        // Value bytes the response may still carry (none for a caller that takes none).
        final int[] room = {q.values() ? BatchFrame.MAX_VALUE_BYTES : 0};
        for (int i = 0; i < answers.length; i++)
        {
            answers[i] = one(q.subs().get(i), caller, room);
        }
        return CompletableFuture.allOf(answers).thenApply(v ->
        {
            final BatchFrame.Answer[] out = new BatchFrame.Answer[answers.length];
            for (int i = 0; i < out.length; i++)
            {
                out[i] = answers[i].join();
            }
            return response(directory.drain(caller), out);
        });
    }

    private ByteBuffer response(final CoherenceDirectory.Outbox o, final BatchFrame.Answer[] answers)
    {
        return BatchFrame.response(directory.leaseNs(), o.needed(), o.seq(), o.hashes(), answers);
    }

    private CompletableFuture<BatchFrame.Answer> one(final BatchFrame.Sub sub, final int caller, final int[] room)
    {
        try
        {
            if (sub.method() == ProxyRpc.MUTATE)
            {
                return mutate(ProxyRpc.parse(ProxyRpc.MUTATE, sub.body()), caller, null);
            }
            if (sub.method() == BatchFrame.VALUED_MUTATE)
            {
                final BatchFrame.Valued v = BatchFrame.valued(sub.body());
                return mutate(ProxyRpc.parse(ProxyRpc.MUTATE, v.mutate()), caller, v.value());
            }
            final ProxyRpc.Request r = ProxyRpc.parse(ProxyRpc.SEARCH, sub.body());
            // Recorded before the lookup, so a write that lands after it invalidates what it returns.
            final boolean leased = sub.method() == BatchFrame.CACHED_SEARCH && directory.grant(r.hash(), caller);
            final long slot = index.trySearch(r.key(), r.hash());
            if (slot == ProxyIndex.ABSENT)
            {
                return CompletableFuture.completedFuture(new BatchFrame.Answer(ProxyRpc.NOT_FOUND, 0, false));
            }
            if (slot != ProxyIndex.BUSY)
            {
                // The value this proxy's level 1 holds for the slot it just found spares the caller its READ.
                final byte[] value = room[0] > 0 ? index.levelOneValue(r.key(), r.hash(), slot) : null;
                if (value != null && value.length <= room[0])
                {
                    room[0] -= value.length;
                    return CompletableFuture.completedFuture(new BatchFrame.Answer(ProxyRpc.FOUND, slot, leased, value));
                }
                return CompletableFuture.completedFuture(new BatchFrame.Answer(ProxyRpc.FOUND, slot, leased));
            }
            return blocking(() ->
            {
                final ProxyRpc.Reply reply = index.search(r.key(), r.hash());
                return new BatchFrame.Answer(reply.status(), reply.slot(), leased && reply.status() == ProxyRpc.FOUND);
            });
        }
        catch (final RuntimeException e)
        {
            return failed(e);
        }
    }

    /** A write; {@code value} (or null) is what the writer wrote, for this proxy's level 1. */
    private CompletableFuture<BatchFrame.Answer> mutate(final ProxyRpc.Request r, final int caller,
        final byte[] value)
    {
        final CompletableFuture<BatchFrame.Answer> answer = new CompletableFuture<>();
        final boolean tried = index.tryMutate(r.mode(), r.key(), r.hash(), r.slot(), r.address(), caller, value,
            ThreadCounters.current(), (reply, failure) ->
            {
                if (failure == null)
                {
                    answer.complete(new BatchFrame.Answer(reply.status(), reply.slot(), false));
                }
                else
                {
                    answer.complete(failedAnswer(failure));
                }
            });
        if (tried)
        {
            return answer;
        }
        return blocking(() ->
        {
            final ProxyRpc.Reply reply = index.mutate(r.mode(), r.key(), r.hash(), r.slot(), r.address(), caller,
                value);
            return new BatchFrame.Answer(reply.status(), reply.slot(), false);
        });
    }

    private CompletableFuture<BatchFrame.Answer> blocking(final Supplier<BatchFrame.Answer> step)
    {
        final CompletableFuture<BatchFrame.Answer> f = new CompletableFuture<>();
        try
        {
            workers.execute(() ->
            {
                try
                {
                    f.complete(step.get());
                }
                catch (final RuntimeException e)
                {
                    f.complete(failedAnswer(e));
                }
            });
        }
        catch (final RejectedExecutionException e)
        {
            f.complete(failedAnswer(e));
        }
        return f;
    }

    private CompletableFuture<BatchFrame.Answer> failed(final Throwable e)
    {
        return CompletableFuture.completedFuture(failedAnswer(e));
    }

    private BatchFrame.Answer failedAnswer(final Throwable e)
    {
        failures.failed(e.getClass().getName(), "proxy request in a batch failed: " + e);
        return new BatchFrame.Answer(BatchFrame.FAILED, 0, false);
    }

    @Override
    public void close()
    {
        workers.shutdownNow();
    }
}
