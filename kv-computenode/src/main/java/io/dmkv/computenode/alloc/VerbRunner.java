package io.dmkv.computenode.alloc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Posts verbs that need no result in batches of at most {@link #MAX_VERBS}, so one call covering
 * thousands of blocks neither builds a frame beyond a transport's limit nor costs one round trip
 * per verb. A blocking runner ({@link #blocking}) waits for each full batch; an asynchronous one
 * ({@link #async}) posts full batches without waiting and {@link #complete()} says when all have
 * landed. Not thread-safe.
 */
final class VerbRunner
{
    /** Verbs per batch: far below the tcp frame's 65,535 and its 16 MiB. */
    static final int MAX_VERBS = 4096;

    private final VerbsClient client;
    private final List<CompletableFuture<VerbBatch>> posted;
    private VerbBatch batch = new VerbBatch();

    private VerbRunner(final VerbsClient client, final boolean async)
    {
        this.client = client;
        this.posted = async ? new ArrayList<>() : null;
    }

    /** A runner whose {@link #flush()} posts and waits. */
    static VerbRunner blocking(final VerbsClient client)
    {
        return new VerbRunner(client, false);
    }

    /** A runner that never waits: use {@link #complete()}, not {@link #flush()}. */
    static VerbRunner async(final VerbsClient client)
    {
        return new VerbRunner(client, true);
    }

    /** The batch to add one verb to; posts what it holds first if it is full. */
    VerbBatch next()
    {
        if (batch.size() >= MAX_VERBS)
        {
            if (posted == null)
            {
                flush();
            }
            else
            {
                posted.add(client.executeAsync(batch));
                batch = new VerbBatch();
            }
        }
        return batch;
    }

    /** Posts what is pending and waits for it (blocking runner). */
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

    /**
     * Posts what is pending (asynchronous runner); the future completes when every batch this
     * runner posted has completed, and fails if any of them failed. The runner is then empty.
     */
    CompletableFuture<Void> complete()
    {
        if (!batch.isEmpty())
        {
            posted.add(client.executeAsync(batch));
            batch = new VerbBatch();
        }
        final CompletableFuture<?>[] all = posted.toArray(new CompletableFuture<?>[0]);
        posted.clear();
        return CompletableFuture.allOf(all);
    }
}
