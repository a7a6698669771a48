package io.dmkv.rdma.transport.rdma;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;

/** One posted chain of work requests (one doorbell): preallocated, reused round the channel's ring. */
final class RdmaChain
{
    /** Batch index of each request's verb. */
    final int[] verbs;
    /** Where each request's data sits in staging memory. */
    final int[] stagingOffsets;
    RdmaPart part;
    int count;
    long firstWrId;
    long lastWrId;
    long stagingMark;
    boolean lastOfPart;

    RdmaChain(final int capacity)
    {
        verbs = new int[capacity];
        stagingOffsets = new int[capacity];
    }

    /** The chain completed: copies READ data and atomics' old values out of {@code staging} into the batch. */
    void copyResults(final UnsafeBuffer staging)
    {
        final VerbBatch batch = part.batch();
        for (int j = 0; j < count; j++)
        {
            final int i = verbs[j];
            final int offset = stagingOffsets[j];
            switch (batch.op(i))
            {
                case Verb.READ:
                    staging.getBytes(offset, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                    break;
                case Verb.CAS:
                case Verb.FAA:
                    batch.setResult(i, staging.getLong(offset));
                    break;
                default:
                    break;
            }
        }
    }
}
