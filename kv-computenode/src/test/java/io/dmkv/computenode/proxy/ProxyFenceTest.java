package io.dmkv.computenode.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.dmkv.core.cluster.CoordinationException;

/**
 * A proxy's fence on a manual clock: it admits for one lease from when a confirmed map read was
 * sent, closes at once on a suspended or lost session, reopens only on the same session, and
 * never after the session changed.
 */
class ProxyFenceTest
{
    private static final long LEASE = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(5_000_000_000L);
    private final AtomicLong session = new AtomicLong(0x51);
    /** What the map read does: nothing (answered), or the session changes while it is under way, or it fails. */
    private final AtomicReference<Runnable> read = new AtomicReference<>(() -> { });
    private final ProxyFence fence = new ProxyFence("cn-test", now::get, LEASE, session::get, () -> read.get().run());

    @Test
    void itRefusesUntilTheFirstConfirmationThenAdmitsForOneLeaseFromWhenTheReadWasSent()
    {
        assertFalse(fence.admits(), "no confirmation yet");
        read.set(() -> now.addAndGet(300_000_000L));
        fence.keep();
        assertTrue(fence.admits());
        now.addAndGet(LEASE - 300_000_000L - 1);
        assertTrue(fence.admits(), "one nanosecond of the lease left (it runs from when the read was sent)");
        now.addAndGet(1);
        assertFalse(fence.admits(), "the lease ended with no confirmation since: a process stopped this long refuses");
        assertEquals(2, fence.refused());
        read.set(() -> { });
        fence.keep();
        assertTrue(fence.admits(), "a confirmation on the same session reopens it");
    }

    @Test
    void aSuspendedConnectionClosesItAtOnceAndTheSameSessionReopensIt()
    {
        fence.keep();
        assertTrue(fence.admits());
        fence.suspended();
        assertFalse(fence.admits(), "closed at the event, long before the lease ends");
        fence.keep();
        assertTrue(fence.admits(), "reconnected on the same session: no one can have taken the partitions");
        assertFalse(fence.stale());
    }

    @Test
    void aConfirmationThatRacedAnEventDoesNotReopenIt()
    {
        fence.keep();
        read.set(fence::suspended);
        fence.keep();
        assertFalse(fence.admits(), "the read was answered, but the connection was suspended while it was under way");
    }

    @Test
    void aLostSessionClosesItForGood()
    {
        fence.keep();
        fence.lost();
        assertFalse(fence.admits());
        assertTrue(fence.stale());
        fence.keep();
        assertFalse(fence.admits(), "a lost session never reopens it");
    }

    @Test
    void aReadAnsweredUnderANewSessionMakesItStaleEvenBeforeTheLostEventArrives()
    {
        fence.keep();
        now.addAndGet(10 * LEASE);
        // Resumed after a stop: the old session expired and the client connected a new one.
        read.set(() -> session.set(0x52));
        fence.keep();
        assertFalse(fence.admits());
        assertTrue(fence.stale(), "the partitions may have moved and been written meanwhile");
        read.set(() -> { });
        fence.keep();
        assertFalse(fence.admits(), "reads on the new session never reopen it");
    }

    @Test
    void anUnansweredReadLeavesItToCloseByTheClock()
    {
        fence.keep();
        read.set(() ->
        {
            throw new CoordinationException("unreachable");
        });
        now.addAndGet(LEASE / 2);
        assertThrows(CoordinationException.class, fence::keep);
        assertTrue(fence.admits(), "the last confirmation still holds");
        now.addAndGet(LEASE / 2);
        assertFalse(fence.admits());
    }
}
