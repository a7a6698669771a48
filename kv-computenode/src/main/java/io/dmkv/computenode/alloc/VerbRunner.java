package io.dmkv.computenode.alloc;

import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Posts verbs that need no result in batches of at most {@link #MAX_VERBS}, so one call covering
 * thousands of blocks neither builds a frame beyond a transport's limit nor costs one round trip
 * per verb. Not thread-safe.
 */
final class VerbRunner
{
    /** Verbs per batch: far below the tcp frame's 65,535 and its 16 MiB. */
    static final int MAX_VERBS = 4096;

    private final VerbsClient client;
    private final VerbBatch batch = new VerbBatch();

    VerbRunner(final VerbsClient client)
    {
        this.client = client;
    }

    /** The batch to add one verb to; posts what it holds first if it is full. */
    VerbBatch next()
    {
        if (batch.size() >= MAX_VERBS)
        {
            flush();
        }
        return batch;
    }

    /** Posts what is pending and waits for it. */
    void flush()
    {
        if (!batch.isEmpty())
        {
            try
            {
                client.execute(batch);
            }
            finally
            {
                batch.reset();
            }
        }
    }
}
