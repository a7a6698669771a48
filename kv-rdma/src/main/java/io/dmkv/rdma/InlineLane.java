package io.dmkv.rdma;

/**
 * A connection on which the calling thread does a batch part's round trip itself: it writes the
 * part and later reads the answer, with no network thread between and no wake-up to hand the
 * answer over. A channel offers one ({@link VerbsChannel#inlineLane}) to a thread that waits for
 * what it posts anyway ({@link CallerWaits}); {@link VerbBatch} sends every part of a batch
 * before it reads any answer, so a batch to several nodes is still one round trip.
 */
public interface InlineLane
{
    /** Writes part {@code part} of {@code batch}; null, or why it failed (the part then fails with it). */
    Throwable send(VerbBatch batch, int part);

    /** Reads the answer to the part {@link #send} wrote and fills in its results; null, or the part's failure. */
    Throwable receive(VerbBatch batch, int part);
}
