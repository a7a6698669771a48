package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;

import io.dmkv.KvOutcomeUnknownException;
import io.dmkv.core.cluster.MapLeaseExpiredException;
import io.dmkv.rdma.VerbsException;

/**
 * An operation that finds the map lease lapsed asks the coordinator once to confirm it, and runs
 * only if it does. A mutation cut off by a memory node's death is retried by the next map only if it never
 * proposed its value: once a backup CAS of it was posted, the fail-over may promote it and another
 * client overwrite it, so a retry would apply it a second time (a delete's tombstone promoted, an
 * insert after it, then the delete's retry deleting again).
 */
class CoordinatedIndexRetryTest
{
    /** Fails its first mutation with a node failure (after proposing, if asked); later ones succeed. */
    private static final class CutOffIndex implements KeyIndex
    {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicLong epoch;
        final boolean proposeFirst;

        CutOffIndex(final AtomicLong epoch, final boolean proposeFirst)
        {
            this.epoch = epoch;
            this.proposeFirst = proposeFirst;
        }

        @Override
        public void search(final byte[] key, final long hash, final OpCompletion<byte[]> done)
        {
            done.complete(null, null);
        }

        @Override
        public void mutate(final Mode mode, final byte[] key, final long hash, final byte[] value,
            final OpCompletion<Result> done)
        {
            if (calls.incrementAndGet() > 1)
            {
                done.complete(Result.DELETED, null);
                return;
            }
            if (proposeFirst)
            {
                done.proposed();
            }
            // The fail-over's map is out by the time the failure is seen.
            epoch.incrementAndGet();
            done.complete(null, new VerbsException("memory node 0 closed the connection"));
        }

        @Override
        public void flush()
        {
        }
    }

    private record Outcome(Result result, Throwable failure, int calls)
    {
    }

    private static Outcome deleteCutOff(final boolean proposeFirst) throws Exception
    {
        final AtomicLong epoch = new AtomicLong(1);
        final CutOffIndex delegate = new CutOffIndex(epoch, proposeFirst);
        try (OpRuntime runtime = new OpRuntime(null, new SystemNanoClock()))
        {
            final CoordinatedIndex index = new CoordinatedIndex(delegate, new StubRouting(() -> { }, epoch::get),
                runtime, TimeUnit.SECONDS.toNanos(30));
            final CompletableFuture<Outcome> done = new CompletableFuture<>();
            index.mutate(Mode.DELETE, new byte[] {'k'}, 7L, null,
                (result, failure) -> done.complete(new Outcome(result, failure, delegate.calls.get())));
            return done.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aMutationThatProposedIsNotRunAgainButReportedUnknown() throws Exception
    {
        final Outcome o = deleteCutOff(true);
        assertEquals(1, o.calls(), "the delete ran once");
        assertNull(o.result());
        assertInstanceOf(KvOutcomeUnknownException.class, o.failure());
    }

    /** Puts through an index whose map lease lapsed; the coordinator confirms it again if {@code answers}. */
    private static Outcome putWithLapsedLease(final boolean answers, final AtomicInteger reconfirms) throws Exception
    {
        final AtomicLong epoch = new AtomicLong(1);
        final CutOffIndex delegate = new CutOffIndex(epoch, false);
        delegate.calls.set(1); // it succeeds at once
        final AtomicInteger confirmed = new AtomicInteger();
        try (OpRuntime runtime = new OpRuntime(null, new SystemNanoClock()))
        {
            final Runnable lease = () ->
            {
                if (confirmed.get() == 0)
                {
                    throw new MapLeaseExpiredException("map regions was last confirmed 2004 ms ago");
                }
            };
            final Runnable reconfirm = () ->
            {
                reconfirms.incrementAndGet();
                if (answers)
                {
                    confirmed.set(1);
                }
            };
            final CoordinatedIndex index = new CoordinatedIndex(delegate, new StubRouting(lease, epoch::get, reconfirm),
                runtime, TimeUnit.SECONDS.toNanos(30));
            final CompletableFuture<Outcome> done = new CompletableFuture<>();
            index.mutate(Mode.PUT, new byte[] {'k'}, 7L, new byte[] {1},
                (result, failure) -> done.complete(new Outcome(result, failure, delegate.calls.get() - 1)));
            return done.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aLapsedLeaseTheCoordinatorConfirmsAgainDelaysTheOperationInsteadOfFailingIt() throws Exception
    {
        final AtomicInteger reconfirms = new AtomicInteger();
        final Outcome o = putWithLapsedLease(true, reconfirms);
        assertNull(o.failure());
        assertEquals(1, o.calls(), "the put ran once, after the map was confirmed");
        assertEquals(1, reconfirms.get());
    }

    @Test
    void aLapsedLeaseTheCoordinatorDoesNotConfirmFailsTheOperationWithNothingRouted() throws Exception
    {
        final AtomicInteger reconfirms = new AtomicInteger();
        final Outcome o = putWithLapsedLease(false, reconfirms);
        assertInstanceOf(MapLeaseExpiredException.class, o.failure());
        assertEquals(0, o.calls(), "nothing was routed by the unconfirmed map");
        assertEquals(1, reconfirms.get(), "the coordinator was asked once");
    }

    @Test
    void aMutationCutOffBeforeProposingIsRetriedByTheNewMap() throws Exception
    {
        final Outcome o = deleteCutOff(false);
        assertEquals(2, o.calls(), "the delete ran again");
        assertNull(o.failure());
        assertEquals(Result.DELETED, o.result());
    }
}
