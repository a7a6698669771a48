package io.dmkv.rdma;

import java.nio.ByteBuffer;

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

    /**
     * Sends RPC {@code method} with {@code request} and reads its answer on this thread, as
     * {@link VerbsChannel#rpc} would without the network thread: the answer's payload, read-only and
     * valid until this lane's next round trip (the lane's own buffer: nothing is allocated for it).
     *
     * @throws RpcException        the handler failed or refused (the lane stays usable).
     * @throws VerbsException      the connection failed or the answer did not come in the request
     *                             timeout (the lane is closed; the request may have been served).
     */
    ByteBuffer rpc(int method, ByteBuffer request);
}
