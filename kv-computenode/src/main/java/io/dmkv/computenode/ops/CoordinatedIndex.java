package io.dmkv.computenode.ops;

import java.util.concurrent.Executor;

import io.dmkv.rdma.RemoteAccessException;

/**
 * The {@link KeyIndex} of a coordinated client, in front of the protocol's index:
 * <ul>
 * <li>it routes a key only while the cluster map is under its lease: every operation, reads
 * included, first asks {@code lease}, which throws when the coordinator has not confirmed the
 * map recently enough (or the client's session was lost);</li>
 * <li>an operation refused by a memory node for a key it no longer honours (the node re-keyed the
 * region: the cluster's map changed, docs/coordination.md) is retried once after {@code refresh}
 * re-read the map and learnt the new keys. The refresh is blocking (a hello per node), so it runs
 * on {@code refresher}, never on the completion thread that saw the refusal.</li>
 * </ul>
 * Each operation carries a small record of its arguments for the retry: the one allocation this
 * layer adds per operation.
 */
public final class CoordinatedIndex implements KeyIndex
{
    private final KeyIndex delegate;
    private final Runnable lease;
    private final Runnable refresh;
    private final Executor refresher;

    public CoordinatedIndex(final KeyIndex delegate, final Runnable lease, final Runnable refresh,
        final Executor refresher)
    {
        this.delegate = delegate;
        this.lease = lease;
        this.refresh = refresh;
        this.refresher = refresher;
    }

    @Override
    public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
    {
        new Call<>(null, key, hash, null, done).start();
    }

    @Override
    public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
        final OpCompletion<Result> done)
    {
        new Call<>(mode, key, hash, value, done).start();
    }

    @Override
    public void flush()
    {
        delegate.flush();
    }

    /** True for a refusal that a map refresh and new keys can cure. */
    static boolean refusedKey(final Throwable failure)
    {
        return failure instanceof RemoteAccessException
            && ((RemoteAccessException)failure).reason() == RemoteAccessException.Reason.UNKNOWN_REGION;
    }

    /** One operation and its one retry. */
    private final class Call<T> implements OpCompletion<T>
    {
        private final Mode mode;
        private final byte[] key;
        private final long hash;
        private final byte[] value;
        private final OpCompletion<T> done;
        private boolean retried;

        Call(final Mode mode, final byte[] key, final long hash, final byte[] value, final OpCompletion<T> done)
        {
            this.mode = mode;
            this.key = key;
            this.hash = hash;
            this.value = value;
            this.done = done;
        }

        @SuppressWarnings("unchecked")
        void start()
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
            if (mode == null)
            {
                delegate.search(key, hash, (OpCompletion<byte[]>)this);
            }
            else
            {
                delegate.mutate(mode, key, hash, value, (OpCompletion<Result>)this);
            }
        }

        @Override
        public void complete(final T result, final Throwable failure)
        {
            if (failure == null || retried || !refusedKey(failure))
            {
                done.complete(result, failure);
                return;
            }
            retried = true;
            try
            {
                refresher.execute(() ->
                {
                    try
                    {
                        refresh.run();
                    }
                    catch (final RuntimeException e)
                    {
                        failure.addSuppressed(e);
                        done.complete(null, failure);
                        return;
                    }
                    start();
                });
            }
            catch (final RuntimeException e)
            {
                done.complete(null, failure);
            }
        }
    }
}
