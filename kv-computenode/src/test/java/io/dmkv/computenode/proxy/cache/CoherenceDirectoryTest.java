package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The proxy's coherence directory on a manual clock: what a write waits for, and for how long. */
class CoherenceDirectoryTest
{
    private static final long LEASE = 100_000_000L;
    private static final long KEY = 0x1234_5678_9ABCL;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final CoherenceDirectory d = new CoherenceDirectory(now::get, LEASE, 1_000, 3);

    @Test
    void aWriteOfACachedKeyWaitsUntilTheCacherAcknowledgesItsInvalidation()
    {
        final int a = d.caller("cn-1", 7);
        final int b = d.caller("cn-2", 7);
        assertTrue(d.grant(KEY, a));
        final CompletableFuture<Void> write = d.written(KEY, b);
        assertFalse(write.isDone(), "a cacher holds the key");
        assertNull(d.written(KEY + 1, b), "an uncached key waits for nothing");
        final CoherenceDirectory.Outbox o = d.drain(a);
        assertEquals(1, o.seq());
        assertArrayEquals(new long[] {KEY}, o.hashes());
        assertEquals(1, o.needed());
        assertEquals(0, d.drain(b).seq(), "the writer cached nothing");
        d.ack(a, 0);
        assertFalse(write.isDone());
        d.ack(a, 1);
        assertTrue(write.isDone());
    }

    @Test
    void aSilentCacherHoldsAWriteOnlyUntilItsLeaseEndsByTheClock()
    {
        final int a = d.caller("cn-1", 7);
        d.grant(KEY, a);
        now.addAndGet(LEASE / 2);
        final CompletableFuture<Void> write = d.written(KEY, CoherenceDirectory.NO_CALLER);
        d.drain(a);
        d.expire();
        assertFalse(write.isDone(), "half the lease left");
        now.addAndGet(LEASE / 2 - 1);
        d.expire();
        assertFalse(write.isDone(), "one nanosecond left");
        now.addAndGet(1);
        d.expire();
        assertTrue(write.isDone(), "the lease ended");
        assertEquals(1, d.stats().expiredWaits());
        assertEquals(1, d.entries(), "entries are swept once a lease");
        now.addAndGet(LEASE);
        d.expire();
        assertEquals(0, d.entries(), "an entry without a live lease or a pending write is dropped");
    }

    @Test
    void aLaterWriteWaitsForTheInvalidationsOfAnEarlierOne()
    {
        final int a = d.caller("cn-1", 7);
        d.grant(KEY, a);
        final CompletableFuture<Void> first = d.written(KEY, CoherenceDirectory.NO_CALLER);
        final CompletableFuture<Void> second = d.written(KEY, CoherenceDirectory.NO_CALLER);
        assertFalse(second.isDone(), "cn-1 may still serve the value from before both writes");
        d.ack(a, d.drain(a).seq());
        assertTrue(first.isDone());
        assertTrue(second.isDone());
    }

    @Test
    void theWriterIsInvalidatedButNotWaitedFor()
    {
        final int a = d.caller("cn-1", 7);
        d.grant(KEY, a);
        assertNull(d.written(KEY, a), "the writer applies its invalidation before it sees the reply");
        assertArrayEquals(new long[] {KEY}, d.drain(a).hashes());
    }

    @Test
    void aParkedPollIsAnsweredByAnInvalidationOrAfterItsTime()
    {
        final int a = d.caller("cn-1", 7);
        final CompletableFuture<CoherenceDirectory.Outbox> poll = d.park(a, LEASE);
        assertFalse(poll.isDone());
        d.grant(KEY, a);
        d.written(KEY, CoherenceDirectory.NO_CALLER);
        assertTrue(poll.isDone());
        assertArrayEquals(new long[] {KEY}, poll.join().hashes());
        final CompletableFuture<CoherenceDirectory.Outbox> idle = d.park(a, LEASE);
        now.addAndGet(LEASE);
        d.expire();
        assertTrue(idle.isDone());
        assertEquals(0, idle.join().seq());
        assertEquals(1, idle.join().needed(), "it tells which batches were sent before it");
    }

    @Test
    void aRestartedCacherReleasesTheWritesThatWaitedForItsPredecessor()
    {
        final int a = d.caller("cn-1", 7);
        d.grant(KEY, a);
        final CompletableFuture<Void> write = d.written(KEY, CoherenceDirectory.NO_CALLER);
        d.drain(a);
        assertEquals(a, d.caller("cn-1", 9));
        assertTrue(write.isDone());
        assertEquals(0, d.drain(a).needed(), "its numbering starts again");
    }

    @Test
    void leasesAreBoundedByEntriesAndCallers()
    {
        final CoherenceDirectory small = new CoherenceDirectory(now::get, LEASE, 2, 3);
        final int a = small.caller("cn-1", 1);
        assertTrue(small.grant(1, a));
        assertTrue(small.grant(2, a));
        assertFalse(small.grant(3, a), "full");
        assertTrue(small.grant(2, a), "a tracked key is granted again");
        for (int i = 2; i <= 64; i++)
        {
            assertEquals(i - 1, small.caller("cn-" + i, 1));
        }
        assertEquals(CoherenceDirectory.NO_CALLER, small.caller("cn-65", 1));
        assertFalse(small.grant(1, CoherenceDirectory.NO_CALLER));
    }

    @Test
    void revokingAPartitionInvalidatesItsKeysOnly()
    {
        final int a = d.caller("cn-1", 7);
        final long inP1 = 0x10 | 1;
        final long inP2 = 0x10 | 2;
        d.grant(inP1, a);
        d.grant(inP2, a);
        final CompletableFuture<Void> revoked = d.revoke(1);
        assertFalse(revoked.isDone());
        final CoherenceDirectory.Outbox o = d.drain(a);
        assertArrayEquals(new long[] {inP1}, o.hashes());
        d.ack(a, o.seq());
        assertTrue(revoked.isDone());
    }

    @Test
    void aKeyWrittenTooOftenIsNoLongerLeasedSoItsWritesWaitForNoOne()
    {
        final CoherenceDirectory hot = new CoherenceDirectory(now::get, LEASE, 1_000, 3, 4, 2);
        final int a = hot.caller("cn-1", 7);
        assertTrue(hot.grant(KEY, a));
        for (int i = 0; i < 3; i++)
        {
            assertFalse(hot.written(KEY, CoherenceDirectory.NO_CALLER).isDone(), "write " + i + " waits for cn-1");
            assertTrue(hot.grant(KEY, a), "3 writes in a lease: still leased");
        }
        final CompletableFuture<Void> fourth = hot.written(KEY, CoherenceDirectory.NO_CALLER);
        assertFalse(fourth.isDone(), "the lease granted before the key turned hot is still invalidated");
        assertFalse(hot.grant(KEY, a), "4 writes in a lease: write-hot, no lease");
        assertEquals(1, hot.stats().writeHot());
        hot.ack(a, hot.drain(a).seq());
        assertTrue(fourth.isDone());
        now.addAndGet(LEASE / 2);
        assertNull(hot.written(KEY, CoherenceDirectory.NO_CALLER), "no sharer: the write waits for no one");
        assertEquals(0, hot.drain(a).seq(), "and sends no invalidation");
        assertTrue(hot.grant(KEY + 1, a), "other keys are leased");
    }

    @Test
    void aWriteHotKeyCoolsOnlyOnceItsWritesFallBelowHalfTheThreshold()
    {
        final CoherenceDirectory hot = new CoherenceDirectory(now::get, LEASE, 1_000, 3, 4, 2);
        final int a = hot.caller("cn-1", 7);
        writeHot(hot, a);
        assertFalse(hot.grant(KEY, a));
        // Two writes a lease: below the threshold of 4, not below the 2 that cool it.
        for (int period = 0; period < 3; period++)
        {
            now.addAndGet(LEASE);
            hot.written(KEY, CoherenceDirectory.NO_CALLER);
            hot.written(KEY, CoherenceDirectory.NO_CALLER);
            hot.expire();
            assertFalse(hot.grant(KEY, a), "period " + period + ": still write-hot (hysteresis)");
            assertEquals(1, hot.entries(), "a write-hot key keeps its entry");
        }
        // One write a lease: the next full window with it cools the key.
        now.addAndGet(LEASE);
        hot.written(KEY, CoherenceDirectory.NO_CALLER);
        assertFalse(hot.grant(KEY, a), "the last full window held 2 writes");
        now.addAndGet(LEASE);
        assertTrue(hot.grant(KEY, a), "a full window with 1 write and none since: leased again");
        assertFalse(hot.written(KEY, CoherenceDirectory.NO_CALLER).isDone(), "and its writes wait for cn-1 again");
    }

    @Test
    void aWriteHotEntryIsSweptOnceItCooled()
    {
        final CoherenceDirectory hot = new CoherenceDirectory(now::get, LEASE, 1_000, 3, 2, 2);
        final int a = hot.caller("cn-1", 7);
        hot.grant(KEY, a);
        hot.written(KEY, CoherenceDirectory.NO_CALLER);
        hot.written(KEY, CoherenceDirectory.NO_CALLER);
        hot.ack(a, hot.drain(a).seq());
        now.addAndGet(LEASE + 1);
        hot.expire();
        assertEquals(1, hot.entries(), "the last full window held 2 writes: still write-hot");
        now.addAndGet(2 * LEASE);
        hot.expire();
        assertEquals(0, hot.entries(), "cooled, no lease, no pending write: dropped");
    }

    @Test
    void aFrequentlyWrittenKeyIsKeptLeasedWhileItsReadersComeBackBetweenWrites()
    {
        final CoherenceDirectory hot = new CoherenceDirectory(now::get, LEASE, 1_000, 3, 4, 2);
        final int[] cn = {hot.caller("cn-1", 7), hot.caller("cn-2", 7), hot.caller("cn-3", 7)};
        for (final int c : cn)
        {
            hot.grant(KEY, c);
        }
        for (int w = 0; w < 6; w++)
        {
            hot.written(KEY, CoherenceDirectory.NO_CALLER);
            for (final int c : cn)
            {
                hot.ack(c, hot.drain(c).seq());
                assertTrue(hot.grant(KEY, c), "write " + w + ": 3 lookups a write, leased (YCSB B's hot keys)");
            }
        }
        assertEquals(0, hot.stats().writeHot());
    }

    @Test
    void aWriteHotKeyWhoseLookupsGrowIsLeasedAgain()
    {
        final CoherenceDirectory hot = new CoherenceDirectory(now::get, LEASE, 1_000, 3, 4, 2);
        final int a = hot.caller("cn-1", 7);
        writeHot(hot, a);
        // 4 writes: write-hot until 8 lookups (2 a write) came in these two windows.
        for (int i = 1; i < 8; i++)
        {
            assertFalse(hot.grant(KEY, a), "lookup " + i);
        }
        assertTrue(hot.grant(KEY, a), "the 8th lookup: 2 a write, leased again");
    }

    /** cn-1 leases KEY, which is then written 4 times (write-hot) and cn-1 acknowledges. */
    private static void writeHot(final CoherenceDirectory hot, final int a)
    {
        hot.grant(KEY, a);
        for (int i = 0; i < 4; i++)
        {
            hot.written(KEY, CoherenceDirectory.NO_CALLER);
        }
        hot.ack(a, hot.drain(a).seq());
    }
}
