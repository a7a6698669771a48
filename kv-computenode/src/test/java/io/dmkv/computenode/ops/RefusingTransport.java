package io.dmkv.computenode.ops;

import java.util.concurrent.atomic.AtomicReference;

import io.dmkv.computenode.ForwardingChannel;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;

/**
 * A transport over another whose channels refuse one chosen part of a batch, as a memory node that
 * re-keyed the region for a fail-over refuses a verb carrying the old key: none of the part's
 * verbs runs, and the part fails with {@link RemoteAccessException.Reason#UNKNOWN_REGION}. The
 * test arms it with a rule that picks the part; the rule fires once.
 */
final class RefusingTransport implements VerbsTransport
{
    /** Picks the part of a batch to refuse. */
    @FunctionalInterface
    interface Rule
    {
        boolean refuse(VerbBatch batch, int part);
    }

    private final VerbsTransport inner;
    private final AtomicReference<Rule> armed = new AtomicReference<>();

    RefusingTransport(final VerbsTransport inner)
    {
        this.inner = inner;
    }

    /** Refuses the next part {@code rule} picks (once). */
    void arm(final Rule rule)
    {
        armed.set(rule);
    }

    /** True once the armed rule has fired. */
    boolean fired()
    {
        return armed.get() == null;
    }

    @Override
    public String name()
    {
        return inner.name();
    }

    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        return new Channel(inner.connect(endpoint, options));
    }

    @Override
    public void close()
    {
        inner.close();
    }

    private final class Channel extends ForwardingChannel
    {
        Channel(final VerbsChannel real)
        {
            super(real);
        }

        @Override
        public void submit(final VerbBatch batch, final int part)
        {
            final Rule rule = armed.get();
            if (rule != null && rule.refuse(batch, part) && armed.compareAndSet(rule, null))
            {
                batch.partCompleted(part, new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, -1,
                    real().node() + " refused the part: its region was re-keyed (test)"));
                return;
            }
            real().submit(batch, part);
        }
    }
}
