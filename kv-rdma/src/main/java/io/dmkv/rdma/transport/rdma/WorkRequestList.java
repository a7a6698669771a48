package io.dmkv.rdma.transport.rdma;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A prebuilt chain of work requests, one scatter/gather entry each, serialised once into native
 * memory and posted many times: the channel rewrites the fields of each request in {@link #buffer()}
 * with {@link SendWrEncoder} and then posts the whole chain with one doorbell.
 */
interface WorkRequestList
{
    /** Number of chained requests. */
    int size();

    /** The serialised requests (little-endian; absolute offsets below). */
    ByteBuffer buffer();

    /** Offset in {@link #buffer()} of request {@code i}'s {@code struct ibv_send_wr}. */
    int wrOffset(int i);

    /** Offset in {@link #buffer()} of request {@code i}'s only {@code struct ibv_sge}. */
    int sgeOffset(int i);

    /** Posts every request of the chain with one {@code ibv_post_send}. */
    void post() throws IOException;
}
