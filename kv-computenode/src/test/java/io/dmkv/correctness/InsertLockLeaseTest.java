package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.Verb;

/**
 * Insert-lock takeover against a slow but live holder (docs/operations.md): a holder H is held
 * past its lease while a second inserter T of the same key takes the lock over. Exactly one of
 * the two INSERTs may succeed, and the key must end in one slot. Leases run on a test clock that
 * moves only while T waits, so "past the lease" is a fact of the test, not a timing.
 */
@Timeout(120)
class InsertLockLeaseTest
{
    private static final int R = 2;
    private static final long LEASE_NS = TimeUnit.SECONDS.toNanos(1);

    /** A clock that stands still, or moves {@code step} at every reading. */
    private static final class SteppingClock implements NanoClock
    {
        final AtomicLong now = new AtomicLong(1_000_000_000L);
        volatile long step;

        @Override
        public long nanoTime()
        {
            return now.addAndGet(step);
        }
    }

    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A key other than {@code key} in the same two combined buckets with the same fingerprint and hash byte. */
    private static String collider(final String key, final int groups)
    {
        final long h = KeyHash.hash(b(key));
        for (int i = 0; ; i++)
        {
            final String x = "x" + i;
            final long g = KeyHash.hash(b(x));
            if ((g & 0xFF) == (h & 0xFF) && KeyHash.fingerprint(g) == KeyHash.fingerprint(h)
                && Subtable.combinedBucket1(g, groups) == Subtable.combinedBucket1(h, groups)
                && Subtable.combinedBucket2(g, groups) == Subtable.combinedBucket2(h, groups))
            {
                return x;
            }
        }
    }

    /**
     * H holds the lock and is held before its next step (its candidate READ); T waits out the lease
     * and takes over, and inserts. When H goes on, its renewal finds the lock taken: it starts
     * over, finds T's key, and reports EXISTS.
     */
    @Test
    void aHolderPausedPastItsLeaseFindsItsLockTakenAndInsertsNothing() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(R, 32L << 20, 8L << 20, "local"))
        {
            final String x;
            try (KvStore formatter = KvStore.open(Fixtures.small(cluster, R).bucketGroups(1).build()))
            {
                x = collider("k", 1);
                formatter.put(b(x), new byte[300]);
            }
            final SteppingClock clock = new SteppingClock();
            final PausingTransport slow = new PausingTransport(cluster.newTransport());
            try (FuseeIndexes clients = new FuseeIndexes(cluster, R))
            {
                final FuseeIndex h = clients.open(slow, clock, LEASE_NS);
                final FuseeIndex t = clients.open(cluster.newTransport(), clock, LEASE_NS);
                // The candidate READ of x's object (READ-only, longer than a 128-byte bucket READ).
                slow.pauseBefore((endpoint, op, region, offset, length) -> op == Verb.READ && length >= 300);
                final CompletableFuture<Result> holder = CompletableFuture.supplyAsync(
                    () -> h.mutate(Mode.INSERT, b("k"), b("from-h")));
                assertTrue(slow.awaitPaused(30), "H reached its candidate READ holding the lock");
                clock.step = TimeUnit.MILLISECONDS.toNanos(5);
                assertEquals(Result.INSERTED, t.mutate(Mode.INSERT, b("k"), b("from-t")));
                clock.step = 0;
                slow.release();
                assertEquals(Result.EXISTS, holder.get(60, TimeUnit.SECONDS));
                assertEquals(1, t.lockTakeovers(), "T took the expired lock over");
                assertEquals(1, h.locksLost(), "H's renewal found its lock taken");
                assertEquals("from-t", new String(h.search(b("k")), StandardCharsets.UTF_8));
            }
            finally
            {
                slow.close();
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
            {
                assertEquals(1, raw.countSlots(b("k")), "k is in exactly one slot");
                raw.assertIndexReplicasEqual();
            }
        }
    }

    /**
     * H is held after SNAPSHOT, before its primary CAS lands; T takes the expired lock over and
     * finds H's proposal on the backups: it settles H's insert instead of inserting its own, and
     * reports EXISTS. H's primary CAS then finds its own value and reports INSERTED.
     */
    @Test
    void aTakerOverSettlesTheProposalOfAHolderPausedBeforeItsPrimaryCas() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(R, 32L << 20, 8L << 20, "local"))
        {
            try (KvStore formatter = KvStore.open(Fixtures.small(cluster, R).bucketGroups(1).build()))
            {
                formatter.put("other", "v");
            }
            final String primaryNode;
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
            {
                // The primary of k's subtable's region: subtables spread over the index regions.
                final long subtable = IndexRoot.entrySubtable(
                    new IndexDirectory(raw.view, raw.client).refresh().entryFor(KeyHash.hash(b("k"))));
                primaryNode = cluster.endpoints().get(raw.view.nodeOf(GlobalAddress.regionId(subtable), 0));
            }
            final SteppingClock clock = new SteppingClock();
            final PausingTransport slow = new PausingTransport(cluster.newTransport());
            try (FuseeIndexes clients = new FuseeIndexes(cluster, R))
            {
                final FuseeIndex h = clients.open(slow, clock, LEASE_NS);
                final FuseeIndex t = clients.open(cluster.newTransport(), clock, LEASE_NS);
                // H's CASes on the primary index node: the lock (step 1), then the primary slot (step 3).
                final AtomicInteger primaryCases = new AtomicInteger();
                slow.pauseBefore((endpoint, op, region, offset, length) -> op == Verb.CAS && endpoint.equals(primaryNode)
                    && primaryCases.incrementAndGet() == 2);
                final CompletableFuture<Result> holder = CompletableFuture.supplyAsync(
                    () -> h.mutate(Mode.INSERT, b("k"), b("from-h")));
                assertTrue(slow.awaitPaused(30), "H reached its primary CAS");
                clock.step = TimeUnit.MILLISECONDS.toNanos(5);
                assertEquals(Result.EXISTS, t.mutate(Mode.INSERT, b("k"), b("from-t")),
                    "T settled H's proposal and found the key");
                clock.step = 0;
                slow.release();
                assertEquals(Result.INSERTED, holder.get(60, TimeUnit.SECONDS));
                assertEquals(1, t.lockTakeovers());
                assertTrue(t.snapshot().stats().helps() >= 1, "T completed H's insert: " + t.snapshot().stats());
                // Settled at the takeover, before T proposed anything: T never lost a SNAPSHOT round
                // (without the settling it would lose on the slot H proposed for, and wait out the help delay).
                assertEquals(0, t.snapshot().stats().losses(), t.snapshot().stats().toString());
                assertEquals("from-h", new String(t.search(b("k")), StandardCharsets.UTF_8));
            }
            finally
            {
                slow.close();
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, R))
            {
                assertEquals(1, raw.countSlots(b("k")), "k is in exactly one slot");
                raw.assertIndexReplicasEqual();
            }
        }
    }
}
