package io.dmkv.computenode.ops;

/**
 * A {@link KeyIndex} that routes a key only while the cluster map it routes by is under its
 * lease (coordinated mode): every operation, reads included, first asks {@code lease}, which
 * throws when the coordinator has not confirmed the map recently enough.
 */
public final class LeasedIndex implements KeyIndex
{
    private final KeyIndex delegate;
    private final Runnable lease;

    public LeasedIndex(final KeyIndex delegate, final Runnable lease)
    {
        this.delegate = delegate;
        this.lease = lease;
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        try
        {
            lease.run();
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
            return;
        }
        delegate.search(key, hash, done);
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        try
        {
            lease.run();
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
            return;
        }
        delegate.mutate(mode, key, hash, value, done);
    }

    @Override
    public void flush()
    {
        delegate.flush();
    }
}
