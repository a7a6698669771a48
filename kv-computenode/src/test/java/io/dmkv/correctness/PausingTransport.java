package io.dmkv.correctness;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.dmkv.computenode.ForwardingChannel;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;

/**
 * A transport that wraps another and can hold, once, the first batch part that contains a
 * matching verb, before it reaches the memory node, until the test releases it. With it a test
 * stops one client at an exact protocol step (between two round trips) and lets the others run.
 */
final class PausingTransport implements VerbsTransport
{
    /** Which verb to stop before. */
    @FunctionalInterface
    interface Trigger
    {
        boolean matches(String endpoint, byte op, int regionId, long offset, int length);
    }

    private final VerbsTransport delegate;
    private final AtomicReference<Trigger> armed = new AtomicReference<>();
    private volatile CountDownLatch paused = new CountDownLatch(1);
    private volatile CountDownLatch go = new CountDownLatch(1);

    PausingTransport(final VerbsTransport delegate)
    {
        this.delegate = delegate;
    }

    /** Holds the next batch part with a verb that {@code trigger} matches. */
    void pauseBefore(final Trigger trigger)
    {
        paused = new CountDownLatch(1);
        go = new CountDownLatch(1);
        armed.set(trigger);
    }

    /** Waits until a batch is held. */
    boolean awaitPaused(final long seconds) throws InterruptedException
    {
        return paused.await(seconds, TimeUnit.SECONDS);
    }

    boolean isPaused()
    {
        return paused.getCount() == 0;
    }

    /** Lets the held batch (if any) go on; disarms. */
    void release()
    {
        armed.set(null);
        go.countDown();
    }

    @Override
    public String name()
    {
        return delegate.name();
    }

    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        return new Channel(delegate.connect(endpoint, options), endpoint);
    }

    @Override
    public void close()
    {
        release();
        delegate.close();
    }

    private final class Channel extends ForwardingChannel
    {
        private final String endpoint;

        Channel(final VerbsChannel channel, final String endpoint)
        {
            super(channel);
            this.endpoint = endpoint;
        }

        @Override
        public void submit(final VerbBatch batch, final int part)
        {
            final Trigger t = armed.get();
            if (t != null && matches(t, batch, part) && armed.compareAndSet(t, null))
            {
                final CountDownLatch resume = go;
                paused.countDown();
                try
                {
                    resume.await(60, TimeUnit.SECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
            }
            real().submit(batch, part);
        }

        private boolean matches(final Trigger t, final VerbBatch batch, final int part)
        {
            for (int i = 0; i < batch.size(); i++)
            {
                if (batch.partOf(i) == part
                    && t.matches(endpoint, batch.op(i), batch.region(i).id(), batch.offset(i), batch.length(i)))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
