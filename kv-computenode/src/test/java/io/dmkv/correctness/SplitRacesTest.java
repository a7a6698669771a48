package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.computenode.index.IndexChecks;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.RaceSplitter;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.Verb;

/**
 * Operations caught by a subtable split at exact points (docs/index-split.md), each held by a
 * {@link PausingTransport} between two round trips while a split runs: a write whose CAS missed
 * the split's copy, a SNAPSHOT loser whose slot the split emptied, and an inserter whose insert
 * lock lives in a header the split rewrites.
 */
@Timeout(120)
class SplitRacesTest
{
    private EmbeddedCluster cluster;
    private String primaryNode;
    private FuseeIndexes clients;
    private Fixtures.Raw raw;
    private final ExecutorService pool = Executors.newFixedThreadPool(3);
    private final List<PausingTransport> pausing = new ArrayList<>();

    /** Two nodes, r = 2, one subtable of one bucket group (21 slots) at depth 0: a few inserts split it. */
    @BeforeEach
    void start()
    {
        cluster = Fixtures.cluster(2, 32L << 20, 8L << 20, "local");
        try (KvStore formatter = KvStore.open(Fixtures.small(cluster, 2).bucketGroups(1).initialDepth(0).build()))
        {
            formatter.put("format", "x");
        }
        primaryNode = cluster.endpoints().get(0);
        clients = new FuseeIndexes(cluster, 2);
        raw = new Fixtures.Raw(cluster, 2);
    }

    @AfterEach
    void stop() throws Exception
    {
        pausing.forEach(PausingTransport::release);
        pool.shutdownNow();
        clients.close();
        raw.close();
        pausing.forEach(PausingTransport::close);
        cluster.close();
    }

    private PausingTransport pausingTransport()
    {
        final PausingTransport t = new PausingTransport(cluster.newTransport());
        pausing.add(t);
        return t;
    }

    /** Matches a client's CAS on a slot (not a bucket header) of the subtable at {@code base}, on the primary. */
    private PausingTransport.Trigger primarySlotCas(final long base)
    {
        return (endpoint, op, region, offset, length) -> op == Verb.CAS && endpoint.equals(primaryNode) && region == 0
            && offset > base && (offset - base) % Bucket.LENGTH != 0;
    }

    /**
     * The writer's client holds its primary CAS; the splitter's client fills the subtable until
     * its split is held just before unfreezing (the copy and the directory switch are done); then
     * the writer's CAS goes on and lands on S's frozen copy of the key, which moves to S'. The
     * copy never saw it, so the writer must take its value back out of S and redo the update in
     * S'. Without that, S keeps a value for a key it does not cover and the update is lost.
     */
    @Test
    void aWriteThatMissedTheSplitCopyIsWithdrawnAndRedoneInTheNewHalf() throws Exception
    {
        final PausingTransport splitterSide = pausingTransport();
        final PausingTransport writerSide = pausingTransport();
        final FuseeIndex filler = clients.open(splitterSide);
        final FuseeIndex writer = clients.open(writerSide);

        // A key that moves to the new half when the depth-0 subtable splits (hash bit 0 set).
        final byte[] key = keyWith(1, -1);
        assertEquals(Result.INSERTED, writer.mutate(Mode.INSERT, key, Fixtures.utf8("v1")));
        final long subtable = IndexRoot.entrySubtable(writer.directory().current().entryFor(KeyHash.hash(key)));
        final long base = GlobalAddress.offset(subtable);
        final long firstHeader = base + Bucket.HEADER_OFFSET;

        // The writer stops before its primary CAS on a slot (not a header) of S.
        writerSide.pauseBefore(primarySlotCas(base));
        final Future<Result> update = pool.submit(() -> writer.mutate(Mode.UPDATE, key, Fixtures.utf8("v2")));
        assertTrue(writerSide.awaitPaused(30), "the writer reached its primary CAS");

        // The filler splits S and is held before step 8 (unfreeze): S' holds the copy.
        splitterSide.pauseBefore((endpoint, op, region, offset, length) ->
            op == Verb.WRITE && length == 8 && region == 0 && offset == firstHeader);
        final Future<?> fill = pool.submit(() ->
        {
            for (int n = 0; n < 200 && !splitterSide.isPaused(); n++)
            {
                filler.mutate(Mode.INSERT, Fixtures.utf8("filler-" + n), Fixtures.utf8("f"));
            }
            return null;
        });
        assertTrue(splitterSide.awaitPaused(30), "the split reached step 8");

        // The writer's CAS lands on S's frozen copy; its fence sees FROZEN and it waits
        // for the split to finish. Let the split finish.
        writerSide.release();
        Thread.sleep(200);
        assertFalse(update.isDone(), "the writer waits out the split");
        splitterSide.release();
        assertEquals(Result.UPDATED, update.get(60, TimeUnit.SECONDS));
        fill.get(60, TimeUnit.SECONDS);

        final String last = Fixtures.string(clients.open().search(key));
        assertAll(
            () -> assertEquals("v2", last, "the update is not lost"),
            () -> IndexChecks.assertQuietIndexConsistent(raw.view, raw.client),
            () -> assertEquals(1, writer.snapshot().stats().withdrawn(), "the writer withdrew its stranded value"));
    }

    /**
     * The ABA a split can hand a losing inserter. Inserters W and L (keys in different lock
     * buckets) race for one empty slot X; W proposes first, L loses, and L is held before its
     * first look at the primary. W completes; a split then copies W's value to S' and empties X.
     * When L looks, X is empty again, as when it started: only the bucket header (new local
     * depth) tells it the slot was taken and moved. L must see the fence and redo its insert, not
     * wait for a winner that already left.
     */
    @Test
    void aLoserWhoseSlotWasEmptiedByASplitRedoesInsteadOfWaiting() throws Exception
    {
        final PausingTransport winnerSide = pausingTransport();
        final PausingTransport loserSide = pausingTransport();
        final FuseeIndex winner = clients.open(winnerSide);
        final FuseeIndex loser = clients.open(loserSide);
        final FuseeIndex filler = clients.open();
        // W's key moves at the split (hash bit 0 set); both keys see the same two combined
        // buckets (one group: 0 and 1) but lock different ones (their first bucket).
        final byte[] w = keyWith(1, 0);
        final byte[] l = keyWith(-1, 1);
        final long hash = KeyHash.hash(w);
        final long subtable = IndexRoot.entrySubtable(winner.directory().current().entryFor(hash));
        final long base = GlobalAddress.offset(subtable);

        winnerSide.pauseBefore(primarySlotCas(base));
        final Future<Result> first = pool.submit(() -> winner.mutate(Mode.INSERT, w, Fixtures.utf8("w")));
        assertTrue(winnerSide.awaitPaused(30), "W proposed and reached its primary CAS");

        // L's first poll of the primary reads the slot's whole bucket (64 bytes).
        loserSide.pauseBefore((endpoint, op, region, offset, length) -> op == Verb.READ
            && endpoint.equals(primaryNode) && region == 0 && length == Bucket.LENGTH);
        final Future<Result> second = pool.submit(() -> loser.mutate(Mode.INSERT, l, Fixtures.utf8("l")));
        assertTrue(loserSide.awaitPaused(30), "L lost on the backup and waits for the winner");
        assertEquals(1, loser.snapshot().stats().losses(), "L lost the race for the slot");

        winnerSide.release();
        assertEquals(Result.INSERTED, first.get(30, TimeUnit.SECONDS));
        for (int n = 0; n < 200 && IndexRoot.entrySubtable(filler.directory().current().entryFor(hash)) == subtable;
            n++)
        {
            filler.mutate(Mode.INSERT, Fixtures.utf8("filler-" + n), Fixtures.utf8("f"));
        }
        assertTrue(IndexRoot.entrySubtable(filler.directory().current().entryFor(hash)) != subtable,
            "the subtable split and W's key moved");

        loserSide.release();
        assertEquals(Result.INSERTED, second.get(60, TimeUnit.SECONDS));
        final FuseeIndex reader = clients.open();
        assertAll(
            () -> assertEquals("w", Fixtures.string(reader.search(w))),
            () -> assertEquals("l", Fixtures.string(reader.search(l))),
            () -> assertEquals(1, loser.snapshot().stats().fenced(), "L's wait ended at the fence"),
            () -> IndexChecks.assertQuietIndexConsistent(raw.view, raw.client));
    }

    /**
     * A split rewrites the headers of S, which carry the insert locks. Inserter I1 of a key that
     * stays in S holds its bucket's lock and is held before its primary CAS while a split of S
     * runs to the end. Inserter I2 of the same key must still find the lock taken; if the split
     * dropped it, I2 would insert the key in another slot before I1's CAS lands, and the key
     * would be in the index twice.
     */
    @Test
    void aSplitKeepsTheInsertLockOfAnInserterItCaught() throws Exception
    {
        final PausingTransport firstSide = pausingTransport();
        final FuseeIndex first = clients.open(firstSide);
        final byte[] key = keyWith(0, 0);
        final long hash = KeyHash.hash(key);
        final long subtable = IndexRoot.entrySubtable(first.directory().current().entryFor(hash));
        final long base = GlobalAddress.offset(subtable);

        firstSide.pauseBefore(primarySlotCas(base));
        final Future<Result> i1 = pool.submit(() -> first.mutate(Mode.INSERT, key, Fixtures.utf8("one")));
        assertTrue(firstSide.awaitPaused(30), "I1 holds the lock and reached its primary CAS");

        // Split S directly (filling it would have other inserters compete for I1's slot).
        final IndexDirectory directory = new IndexDirectory(raw.view, raw.client);
        final RaceSplitter splitter = new RaceSplitter(raw.view, raw.client, directory, new SnapshotReplicator(raw.view,
            SystemNanoClock.INSTANCE, TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(30)),
            SystemNanoClock.INSTANCE, TimeUnit.SECONDS.toNanos(30));
        assertTrue(splitter.split(hash, directory.refresh().entryFor(hash)));
        assertEquals(1, splitter.splits(), "S split");

        final FuseeIndex second = clients.open();
        final Future<Result> i2 = pool.submit(() -> second.mutate(Mode.INSERT, key, Fixtures.utf8("two")));
        Thread.sleep(300);
        firstSide.release();
        final Result r1 = i1.get(30, TimeUnit.SECONDS);
        final Result r2 = i2.get(30, TimeUnit.SECONDS);
        final String last = Fixtures.string(clients.open().search(key));
        assertAll(
            () -> assertEquals(Result.INSERTED, r1, "I1 held the lock through the split"),
            () -> assertEquals(Result.EXISTS, r2, "I2 waited for I1's lock and found the key"),
            () -> assertEquals("one", last),
            () -> assertEquals(1, raw.countSlots(key), "slots holding the key"),
            () -> IndexChecks.assertQuietIndexConsistent(raw.view, raw.client));
    }

    /**
     * A key whose hash has bit 0 = {@code bit0} and whose first combined bucket is {@code c1} (and
     * its second the other one); either may be negative for any.
     */
    private static byte[] keyWith(final int bit0, final int c1)
    {
        for (int n = 0; ; n++)
        {
            final byte[] key = Fixtures.utf8("race-" + bit0 + "-" + n);
            final long hash = KeyHash.hash(key);
            final int first = Subtable.combinedBucket1(hash, 1);
            if ((bit0 < 0 || (hash & 1) == bit0) && (c1 < 0 || (first == c1 && Subtable.combinedBucket2(hash, 1) != c1)))
            {
                return key;
            }
        }
    }
}
