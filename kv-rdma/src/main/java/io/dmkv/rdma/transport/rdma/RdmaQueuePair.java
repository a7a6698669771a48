package io.dmkv.rdma.transport.rdma;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What a channel needs from one connected RC queue pair: prebuilt work request chains, a
 * completion queue to poll and registered staging memory. DiSNI provides the real one
 * ({@link DisniQueuePair}); tests provide a software NIC that executes the encoded requests, so
 * the channel's bookkeeping is tested where no RNIC exists. Called only under the channel's lock.
 */
interface RdmaQueuePair
{
    /** How many completions one {@link #poll} returns at most. */
    int POLL_BATCH = 32;

    /** The reusable chain of {@code n} requests (1 ≤ n ≤ the channel's maxWrPerPost). */
    WorkRequestList workRequests(int n) throws IOException;

    /**
     * Polls the completion queue into {@code wrIds} and {@code statuses} (each at least
     * {@link #POLL_BATCH} long); returns how many completions were read.
     */
    int poll(long[] wrIds, int[] statuses) throws IOException;

    /** The registered staging memory, little-endian, direct. */
    ByteBuffer staging();

    /** Virtual address of the first staging byte, as the NIC sees it. */
    long stagingAddress();

    /** Local key of the staging registration. */
    int stagingLkey();

    /** Releases the queue pair, its completion queue and the staging registration. */
    void close();
}
