package io.dmkv.computenode.ops;

import io.dmkv.rdma.VerbBatch;

/**
 * How a protocol step moves an asynchronous operation on: post a batch and continue when it
 * completes, or continue after a delay. The parts of an operation (bucket probing, insert
 * locks, SNAPSHOT, the log) take the driver of the operation they serve, so each part reads as
 * its own step list while one state machine runs them all.
 *
 * <p>Every call here must be the last thing a step does: the continuation may already run
 * inside it (an inline completion on the posting thread).
 */
public interface OpDriver
{
    /** Posts {@code batch}; {@code then} runs when it completed without failure (a failure fails the operation). */
    void post(VerbBatch batch, Runnable then);

    /** Runs {@code then} after {@code delayNs} on the store's timer, never holding a thread meanwhile. */
    void after(long delayNs, Runnable then);

    /** Runs {@code then} on the store's maintenance thread, for the rare steps written as blocking code (splits). */
    void offload(Runnable blocking, Runnable then);

    /** Ends the operation with {@code failure}. */
    void fail(Throwable failure);

    /** Current time on the store's clock. */
    long nanoTime();
}
