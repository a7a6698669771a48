package io.dmkv.rdma.transport.rdma;

import java.util.Objects;
import java.util.function.Supplier;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * Tuning of the {@code rdma} transport, per channel (queue pair). Immutable; start from
 * {@link #defaults()}.
 *
 * @param sendQueueDepth work requests a queue pair may have outstanding (its send queue and
 *                       completion queue size); posting beyond waits for completions.
 * @param maxWrPerPost   work requests chained into one {@code ibv_post_send} (one doorbell); a
 *                       larger batch part is posted in several chained lists.
 * @param stagingBytes   registered memory per channel that READ data, WRITE data and atomic
 *                       results pass through; bounds both the bytes in flight and the longest verb.
 * @param cmTimeoutMs    how long DiSNI's connection manager waits per event poll (also the
 *                       address and route resolution timeout).
 * @param idleStrategy   how the completion poller idles when no completion arrived: busy spinning
 *                       gives the lowest latency, backing off spares a core.
 */
public record RdmaOptions(int sendQueueDepth, int maxWrPerPost, int stagingBytes, int cmTimeoutMs,
    Supplier<IdleStrategy> idleStrategy)
{
    public static final int DEFAULT_SEND_QUEUE_DEPTH = 256;
    public static final int DEFAULT_MAX_WR_PER_POST = 32;
    public static final int DEFAULT_STAGING_BYTES = 8 << 20;
    public static final int DEFAULT_CM_TIMEOUT_MS = 1_000;
    public static final int MAX_SEND_QUEUE_DEPTH = 16_384;
    public static final int MIN_STAGING_BYTES = 4_096;

    /** Validates every field; a bad one fails with a message naming it. */
    public RdmaOptions
    {
        if (sendQueueDepth < 1 || sendQueueDepth > MAX_SEND_QUEUE_DEPTH)
        {
            throw new IllegalArgumentException("sendQueueDepth must be in 1.." + MAX_SEND_QUEUE_DEPTH + ": "
                + sendQueueDepth);
        }
        if (maxWrPerPost < 1 || maxWrPerPost > sendQueueDepth)
        {
            throw new IllegalArgumentException("maxWrPerPost must be in 1..sendQueueDepth (" + sendQueueDepth + "): "
                + maxWrPerPost);
        }
        if (stagingBytes < MIN_STAGING_BYTES || (stagingBytes & 7) != 0)
        {
            throw new IllegalArgumentException("stagingBytes must be a multiple of 8 and at least " + MIN_STAGING_BYTES
                + ": " + stagingBytes);
        }
        if (cmTimeoutMs < 1)
        {
            throw new IllegalArgumentException("cmTimeoutMs must be positive: " + cmTimeoutMs);
        }
        Objects.requireNonNull(idleStrategy, "idleStrategy");
    }

    /** Defaults: 256-deep send queues, 32 requests per doorbell, 8 MiB staging, backing-off poller. */
    public static RdmaOptions defaults()
    {
        return new RdmaOptions(DEFAULT_SEND_QUEUE_DEPTH, DEFAULT_MAX_WR_PER_POST, DEFAULT_STAGING_BYTES,
            DEFAULT_CM_TIMEOUT_MS, RdmaOptions::backoff);
    }

    /** A copy with {@code depth} outstanding requests per queue pair (maxWrPerPost capped to it). */
    public RdmaOptions withSendQueueDepth(final int depth)
    {
        return new RdmaOptions(depth, Math.min(maxWrPerPost, depth), stagingBytes, cmTimeoutMs, idleStrategy);
    }

    /** A copy chaining at most {@code n} requests per doorbell. */
    public RdmaOptions withMaxWrPerPost(final int n)
    {
        return new RdmaOptions(sendQueueDepth, n, stagingBytes, cmTimeoutMs, idleStrategy);
    }

    /** A copy with {@code bytes} of registered staging memory per channel. */
    public RdmaOptions withStagingBytes(final int bytes)
    {
        return new RdmaOptions(sendQueueDepth, maxWrPerPost, bytes, cmTimeoutMs, idleStrategy);
    }

    /** A copy with a connection-manager timeout of {@code ms}. */
    public RdmaOptions withCmTimeoutMs(final int ms)
    {
        return new RdmaOptions(sendQueueDepth, maxWrPerPost, stagingBytes, ms, idleStrategy);
    }

    /** A copy whose poller idles with a fresh strategy from {@code strategy}. */
    public RdmaOptions withIdleStrategy(final Supplier<IdleStrategy> strategy)
    {
        return new RdmaOptions(sendQueueDepth, maxWrPerPost, stagingBytes, cmTimeoutMs, strategy);
    }

    /** Spins, then yields, then parks from 1 µs up to 50 µs: microsecond wake-ups without pinning a core. */
    private static IdleStrategy backoff()
    {
        return new BackoffIdleStrategy(200, 20, 1_000, 50_000);
    }
}
