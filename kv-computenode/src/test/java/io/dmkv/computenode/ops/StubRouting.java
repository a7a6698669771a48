package io.dmkv.computenode.ops;

import java.util.function.LongSupplier;

/**
 * Routing for tests of {@link CoordinatedIndex}: a lease check, a reconfirmation and a map epoch,
 * always writable, never sealed.
 */
public final class StubRouting implements CoordinatedIndex.Routing
{
    private final Runnable lease;
    private final LongSupplier epoch;
    private final Runnable reconfirm;

    /**
     * @param lease what {@link #checkLease} runs (it throws when the lease is out).
     * @param epoch the map epoch the client routes by.
     */
    public StubRouting(final Runnable lease, final LongSupplier epoch)
    {
        this(lease, epoch, () -> { });
    }

    /** @param reconfirm what {@link #reconfirm} runs. */
    public StubRouting(final Runnable lease, final LongSupplier epoch, final Runnable reconfirm)
    {
        this.lease = lease;
        this.epoch = epoch;
        this.reconfirm = reconfirm;
    }

    @Override
    public void checkLease()
    {
        lease.run();
    }

    @Override
    public void checkWritable()
    {
    }

    @Override
    public boolean writesHeld()
    {
        return false;
    }

    @Override
    public void refresh()
    {
    }

    @Override
    public void reconfirm()
    {
        reconfirm.run();
    }

    @Override
    public long mapEpoch()
    {
        return epoch.getAsLong();
    }

    @Override
    public String lostRegions()
    {
        return null;
    }
}
