package io.dmkv.computenode.ops;

/**
 * FUSEE's one-sided index path behind the {@link KeyIndex} seam: every operation runs on the
 * memory nodes' RACE index with SNAPSHOT replication ({@link FuseeClient}).
 */
public final class FuseeIndex implements KeyIndex
{
    private final FuseeClient fusee;

    public FuseeIndex(final FuseeClient fusee)
    {
        this.fusee = fusee;
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        final byte[] value;
        try
        {
            value = fusee.search(key, hash);
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
            return;
        }
        done.complete(value, null);
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        final Result result;
        try
        {
            result = fusee.mutate(mode, key, hash, value);
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
            return;
        }
        done.complete(result, null);
    }

    @Override
    public void flush()
    {
        fusee.flushAll();
    }
}
