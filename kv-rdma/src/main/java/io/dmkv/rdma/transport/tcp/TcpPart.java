package io.dmkv.rdma.transport.tcp;

import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.transport.PendingPart;

/** A batch part on a tcp connection, from its post to its answer; pooled per connection. */
final class TcpPart extends PendingPart
{
    /** The request id of its frame, in wire order. */
    long id;
    /** Bytes of its frame after the length field. */
    int body;

    void start(final VerbBatch batch, final int part, final long deadlineNs, final int body)
    {
        reset(batch, part, deadlineNs);
        this.body = body;
    }
}
