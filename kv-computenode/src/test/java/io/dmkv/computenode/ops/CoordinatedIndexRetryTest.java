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
import io.dmkv.rdma.VerbsException;

/**
 * A mutation cut off by a memory node's death is retried by the next map only if it never
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

    @Test
    void aMutationCutOffBeforeProposingIsRetriedByTheNewMap() throws Exception
    {
        final Outcome o = deleteCutOff(false);
        assertEquals(2, o.calls(), "the delete ran again");
        assertNull(o.failure());
        assertEquals(Result.DELETED, o.result());
    }
}
