package io.dmkv.computenode.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.RemoteAccessException;

/**
 * What every client-side caller does when a memory node refuses a verb for a key it no longer
 * honours: learn the keys again and try once more. A node re-keys a region whenever the region map
 * changes its entry (docs/coordination.md, "Fencing"), and it applies the map on its own schedule:
 * a client that routes by the new map may have learnt its keys a moment before the node re-keyed, and
 * then holds a stale key <em>at the map's epoch</em>: no newer map will come to cure it. So a refusal
 * is cured by asking the nodes for their keys ({@link ClusterView#relearnKeys}), not by waiting for
 * an epoch. Operations do it through {@code CoordinatedIndex}; the background steps (client
 * recovery, the reclaim, the heartbeat, the copier, block set-up) through {@link #retrying}. A
 * region sealed for the last pass of a copy is refused the same way (its replicas are
 * write-protected); a fresh key does not help there, so the attempts are bounded and the caller
 * treats the last refusal as it treats any failure.
 */
public final class RefusedKeys
{
    private static final Logger LOG = LoggerFactory.getLogger(RefusedKeys.class);

    /** Attempts of a step in all, the first included. */
    public static final int ATTEMPTS = 3;

    /** Pause before the n-th attempt is {@code n - 1} times this (a node may still be applying its map). */
    static final long PAUSE_MS = 50;

    private RefusedKeys()
    {
    }

    /** True if {@code failure}, or one of its causes, is a memory node refusing a key (or a sealed replica). */
    public static boolean refusedKey(final Throwable failure)
    {
        for (Throwable t = failure; t != null; t = t.getCause())
        {
            if (t instanceof RemoteAccessException r && r.reason() == RemoteAccessException.Reason.UNKNOWN_REGION)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs {@code step}; while it fails with a refused key, learns the keys through {@code view} and
     * runs it again, {@link #ATTEMPTS} times in all. The step must be safe to repeat. Blocking: never
     * on a completion thread.
     */
    public static <T> T retrying(final ClusterView view, final String what, final Supplier<T> step)
    {
        return retrying(view::relearnKeys, what, step);
    }

    /** As {@link #retrying(ClusterView, String, Supplier)} for a step without a result. */
    public static void retrying(final ClusterView view, final String what, final Runnable step)
    {
        retrying(view::relearnKeys, what, () ->
        {
            step.run();
            return null;
        });
    }

    /** As {@link #retrying(ClusterView, String, Supplier)}, learning the keys with {@code relearn}. */
    public static <T> T retrying(final Runnable relearn, final String what, final Supplier<T> step)
    {
        return retrying(relearn, ATTEMPTS, what, step);
    }

    /** As {@link #retrying(Runnable, String, Supplier)}, {@code attempts} times in all. */
    public static <T> T retrying(final Runnable relearn, final int attempts, final String what, final Supplier<T> step)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return step.get();
            }
            catch (final RuntimeException e)
            {
                if (attempt >= attempts || !refusedKey(e))
                {
                    throw e;
                }
                LOG.debug("{} met a refused key ({}): learning the keys again", what, e.getMessage());
                pause(PAUSE_MS * attempt);
                relearn.run();
            }
        }
    }

    /**
     * The asynchronous form, for steps that may start on a completion thread: a refusal learns the
     * keys off the completion threads (the refresh blocks) after {@code pauseMs}, then runs
     * {@code step} again, {@code attempts} times in all (a block set-up waits out a seal this way).
     */
    public static <T> CompletableFuture<T> retryingAsync(final ClusterView view, final int attempts, final long pauseMs,
        final Supplier<CompletableFuture<T>> step)
    {
        return retryingAsync(view, attempts, pauseMs, step, 1);
    }

    private static <T> CompletableFuture<T> retryingAsync(final ClusterView view, final int attempts,
        final long pauseMs, final Supplier<CompletableFuture<T>> step, final int attempt)
    {
        return step.get().handle((done, failure) ->
        {
            if (failure == null)
            {
                return CompletableFuture.completedFuture(done);
            }
            final Throwable cause = unwrap(failure);
            if (attempt >= attempts || !refusedKey(cause))
            {
                return CompletableFuture.<T>failedFuture(cause);
            }
            return CompletableFuture.supplyAsync(() ->
            {
                view.relearnKeys();
                return retryingAsync(view, attempts, pauseMs, step, attempt + 1);
            }, CompletableFuture.delayedExecutor(pauseMs, TimeUnit.MILLISECONDS)).thenCompose(next -> next);
        }).thenCompose(next -> next);
    }

    private static Throwable unwrap(final Throwable failure)
    {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null)
        {
            t = t.getCause();
        }
        return t;
    }

    private static void pause(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while learning region keys again", e);
        }
    }
}
