package io.dmkv.computenode.ops;

import java.util.concurrent.locks.LockSupport;

import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * An {@link OpDriver} for tests that drive one protocol part step by step on the test's thread:
 * every post executes its batch and then runs the continuation; a failure is kept and rethrown
 * by {@link #check()}.
 */
public final class BlockingDriver implements OpDriver
{
    private final VerbsClient client;
    private Throwable failure;

    public BlockingDriver(final VerbsClient client)
    {
        this.client = client;
    }

    @Override
    public void post(final VerbBatch batch, final Runnable then)
    {
        client.execute(batch);
        then.run();
    }

    @Override
    public void after(final long delayNs, final Runnable then)
    {
        LockSupport.parkNanos(delayNs);
        then.run();
    }

    @Override
    public void offload(final Runnable blocking, final Runnable then)
    {
        blocking.run();
        then.run();
    }

    @Override
    public void fail(final Throwable t)
    {
        failure = t;
    }

    @Override
    public long nanoTime()
    {
        return System.nanoTime();
    }

    /** Rethrows the failure a step reported, if any. */
    public void check()
    {
        if (failure instanceof RuntimeException)
        {
            throw (RuntimeException)failure;
        }
        if (failure != null)
        {
            throw new AssertionError(failure);
        }
    }
}
