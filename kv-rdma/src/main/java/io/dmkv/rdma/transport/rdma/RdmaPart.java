package io.dmkv.rdma.transport.rdma;

import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.transport.PendingPart;

/** One batch part as it passes through an rdma channel: which of its verbs are still to post. */
final class RdmaPart extends PendingPart
{
    final int verbs;
    /** The verb the channel refused before posting (the part completes with it), or null. */
    final RemoteAccessException refusal;
    int nextVerb;
    int toPost;

    RdmaPart(final VerbBatch batch, final int part, final int first, final int verbs, final long deadlineNs,
        final RemoteAccessException refusal)
    {
        reset(batch, part, deadlineNs);
        this.refusal = refusal;
        this.nextVerb = first;
        this.verbs = verbs;
        this.toPost = verbs;
    }
}
