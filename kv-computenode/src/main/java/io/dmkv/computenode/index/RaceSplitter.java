// Over 500 lines: the split protocol of docs/index-split.md in one place (root lock, frozen
// headers, copying and cleaning on r replicas, directory doubling) and the wait for another
// client's split, which must read the same root word the protocol writes.
package io.dmkv.computenode.index;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.KvTimeoutException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.OpDriver;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * RACE subtable splits under the protocol of docs/index-split.md: one splitter at a time (the
 * root lock), writers fenced by frozen bucket headers, moved slots found by the hash byte each
 * slot keeps.
 */
public final class RaceSplitter implements SubtableSplitter
{
    private static final Logger LOG = LoggerFactory.getLogger(RaceSplitter.class);
    /** Verbs per batch when a split touches every header of a subtable. */
    private static final int CHUNK = 4096;

    private final ClusterView view;
    private final VerbsClient client;
    private final IndexDirectory directory;
    private final SnapshotReplicator snapshot;
    private final NanoClock clock;
    private final long waitLimitNs;
    private final int groups;
    private final int maxGlobalDepth;
    private final long indexAreaEnd;
    private final int indexRegions;
    private final LongAdder splits = new LongAdder();
    private final LongAdder doublings = new LongAdder();

    /** @param waitLimitNs how long to wait for another client's split before giving up with a timeout. */
    public RaceSplitter(final ClusterView view, final VerbsClient client, final IndexDirectory directory, final SnapshotReplicator snapshot,
        final NanoClock clock, final long waitLimitNs)
    {
        this.view = view;
        this.client = client;
        this.directory = directory;
        this.snapshot = snapshot;
        this.clock = clock;
        this.waitLimitNs = waitLimitNs;
        this.groups = view.descriptor().bucketGroups();
        this.maxGlobalDepth = view.descriptor().maxGlobalDepth();
        this.indexAreaEnd = RegionLayout.INDEX_AREA_OFFSET + (long)view.descriptor().indexAreaLength();
        this.indexRegions = RegionLayout.indexRegions(view.regionsAtFormat(), view.descriptor().nodeHashes().length);
    }

    /** Subtable splits this client performed. */
    public long splits()
    {
        return splits.sum();
    }

    /** Directory doublings this client performed. */
    public long doublings()
    {
        return doublings.sum();
    }

    private RemoteRegion root(final int j)
    {
        return view.replica(RegionLayout.ROOT_REGION_ID, j);
    }

    private int rootReplicas()
    {
        return view.replicaCount(RegionLayout.ROOT_REGION_ID);
    }

    @Override
    public boolean split(final long hash, final long entry)
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        b.read(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, word, 0, 8);
        client.execute(b);
        final long rootWord = word.getLong(0);
        if (IndexRoot.isLocked(rootWord))
        {
            awaitUnlocked();
            return true;
        }
        final long locked = IndexRoot.rootWord(IndexRoot.globalDepth(rootWord), true, IndexRoot.version(rootWord));
        final int at = b.reset().cas(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, rootWord, locked);
        client.execute(b);
        if (!b.casSucceeded(at))
        {
            awaitUnlocked();
            return true;
        }
        long held = locked;
        try
        {
            final IndexDirectory.Snapshot dir = directory.refresh();
            final long now = dir.entryFor(hash);
            if (IndexRoot.entrySubtable(now) != IndexRoot.entrySubtable(entry)
                || IndexRoot.entryLocalDepth(now) != IndexRoot.entryLocalDepth(entry))
            {
                return true;
            }
            final int d = IndexRoot.entryLocalDepth(now);
            int g = dir.globalDepth();
            if (d == g)
            {
                if (g >= maxGlobalDepth)
                {
                    return false;
                }
                held = doubleDirectory(dir, held);
                g++;
            }
            final long sibling = claimSubtable(KeyHash.suffix(hash, d) | (1 << d));
            if (sibling == 0)
            {
                LOG.warn("the index areas of {} bytes in {} regions are full: no room for another subtable",
                    view.descriptor().indexAreaLength(), indexRegions);
                return false;
            }
            splitSubtable(IndexRoot.entrySubtable(now), d, KeyHash.suffix(hash, d), g, sibling);
            splits.increment();
            return true;
        }
        finally
        {
            final long unlocked = IndexRoot.rootWord(IndexRoot.globalDepth(held), false, IndexRoot.version(held) + 1);
            for (int j = 1; j < rootReplicas(); j++)
            {
                b.reset().write(root(j), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, longBuffer(unlocked), 0, 8);
                client.execute(b);
            }
            b.reset().cas(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, held, unlocked);
            client.execute(b);
            directory.refresh();
        }
    }

    /**
     * Claims room for subtable number {@code number} (the new half's suffix) in index region
     * number mod k, or the next one with room, so subtables spread over the index regions'
     * primaries ({@link RegionLayout#indexRegionOf}); 0 if every index area is full.
     */
    private long claimSubtable(final int number)
    {
        final int length = Subtable.allocationLength(groups);
        final VerbBatch b = new VerbBatch();
        for (int tried = 0; tried < indexRegions; tried++)
        {
            final int g = (RegionLayout.indexRegionOf(number, indexRegions) + tried) % indexRegions;
            final int claim = b.reset().faa(view.replica(g, 0), RegionLayout.INDEX_NEXT_FREE_OFFSET, length);
            client.execute(b);
            final long offset = b.result(claim);
            if (offset + length <= indexAreaEnd)
            {
                return GlobalAddress.pack(g, (int)offset);
            }
        }
        return 0;
    }

    private long doubleDirectory(final IndexDirectory.Snapshot dir, final long held)
    {
        final int g = dir.globalDepth();
        final int n = 1 << g;
        final UnsafeBuffer upper = new UnsafeBuffer(new byte[8 * n]);
        for (int i = 0; i < n; i++)
        {
            upper.putLong(8 * i, dir.entries()[i]);
        }
        final VerbBatch b = new VerbBatch();
        for (int j = rootReplicas() - 1; j >= 0; j--)
        {
            b.reset().write(root(j), RegionLayout.ROOT_OFFSET + IndexRoot.entryOffset(n), upper, 0, 8 * n);
            client.execute(b);
        }
        final long deeper = IndexRoot.rootWord(g + 1, true, IndexRoot.version(held));
        for (int j = 1; j < rootReplicas(); j++)
        {
            b.reset().write(root(j), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, longBuffer(deeper), 0, 8);
            client.execute(b);
        }
        final int at = b.reset().cas(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, held, deeper);
        client.execute(b);
        if (!b.casSucceeded(at))
        {
            throw new IllegalStateException("the index root changed under its lock (0x" + Long.toHexString(b.result(at))
                + ")");
        }
        doublings.increment();
        LOG.info("index directory doubled to global depth {}", g + 1);
        return deeper;
    }

    private void splitSubtable(final long subtable, final int d, final int s, final int g, final long sibling)
    {
        final RemoteRegion primary = view.replicaOf(subtable, 0);
        final long base = GlobalAddress.offset(subtable);
        final int length = Subtable.length(groups);
        final int buckets = 3 * groups;
        final UnsafeBuffer image = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
        final VerbBatch b = new VerbBatch();

        try
        {
            // Freeze S on the primary: after this, every writer's fence sees FROZEN.
            b.read(primary, base, image, 0, length);
            client.execute(b);
            final int[] pending = new int[buckets];
            int left = buckets;
            for (int k = 0; k < buckets; k++)
            {
                pending[k] = k;
            }
            while (left > 0)
            {
                int next = 0;
                for (int from = 0; from < left; from += CHUNK)
                {
                    b.reset();
                    final int to = Math.min(left, from + CHUNK);
                    for (int k = from; k < to; k++)
                    {
                        final int bucket = pending[k];
                        final long header = image.getLong(bucket * Bucket.LENGTH);
                        b.cas(primary, base + (long)bucket * Bucket.LENGTH, header, header | Bucket.FROZEN);
                    }
                    client.execute(b);
                    for (int k = from; k < to; k++)
                    {
                        final int i = k - from;
                        if (!b.casSucceeded(i))
                        {
                            image.putLong(pending[k] * Bucket.LENGTH, b.result(i));
                            pending[next++] = pending[k];
                        }
                    }
                }
                left = next;
            }

            // Copy after the freeze; build S' from the slots of S whose hash bit d is set.
            b.reset().read(primary, base, image, 0, length);
            client.execute(b);
            final UnsafeBuffer sib = new UnsafeBuffer(ByteBuffer.allocateDirect(length));
            final long siblingHeader = Bucket.header(d + 1, s | (1 << d));
            for (int bucket = 0; bucket < buckets; bucket++)
            {
                final int at = bucket * Bucket.LENGTH;
                sib.putLong(at, siblingHeader);
                for (int i = 0; i < Bucket.SLOT_COUNT; i++)
                {
                    final long slot = image.getLong(at + Bucket.slotOffset(i));
                    sib.putLong(at + Bucket.slotOffset(i), movesToSibling(slot, d, s) ? slot : Slot.EMPTY);
                }
            }
            for (int j = 0; j < view.replicasOf(sibling); j++)
            {
                b.reset().write(view.replicaOf(sibling, j), GlobalAddress.offset(sibling), sib, 0, length);
                client.execute(b);
            }
        }
        catch (final RuntimeException e)
        {
            // Nothing points at S' yet: give S back its old headers so writers do not wait on a
            // split that will never finish, then report the failure.
            try
            {
                rewriteHeaders(subtable, image, Bucket.header(d, s), false);
            }
            catch (final RuntimeException again)
            {
                e.addSuppressed(again);
            }
            LOG.warn("split of subtable {} failed before the directory switch; subtable unfrozen",
                GlobalAddress.toString(subtable), e);
            throw e;
        }

        // Point the directory at both halves (backups first).
        final long stay = IndexRoot.entry(subtable, d + 1, false);
        final long move = IndexRoot.entry(sibling, d + 1, false);
        for (int j = rootReplicas() - 1; j >= 0; j--)
        {
            b.reset();
            for (int i = s; i < (1 << g); i += 1 << d)
            {
                b.write(root(j), RegionLayout.ROOT_OFFSET + IndexRoot.entryOffset(i),
                    longBuffer(((i >>> d) & 1) == 1 ? move : stay), 0, 8);
            }
            client.execute(b);
        }

        // Unfreeze S with its new depth on every replica (insert locks carry over).
        rewriteHeaders(subtable, image, Bucket.header(d + 1, s), true);

        cleanMovedSlots(subtable, image, d, s);
        LOG.debug("split subtable {} (depth {}, suffix {}) into {} and {}", GlobalAddress.toString(subtable), d, s,
            GlobalAddress.toString(subtable), GlobalAddress.toString(sibling));
    }

    /**
     * Rewrites every bucket header of the subtable at {@code subtable} to {@code plainHeader},
     * unfrozen. The backups (which never hold locks) get a WRITE, if {@code backups}; the primary
     * gets a CAS from the value {@code image} holds (re-tried from what it finds), which keeps an
     * insert lock's bits: the holder releases its lock from the new header (FuseeClient), so no
     * insert loses its lock to a split.
     */
    private void rewriteHeaders(final long subtable, final UnsafeBuffer image, final long plainHeader,
        final boolean backups)
    {
        final long base = GlobalAddress.offset(subtable);
        final int buckets = 3 * groups;
        final VerbBatch b = new VerbBatch();
        if (backups)
        {
            final UnsafeBuffer word = longBuffer(plainHeader);
            for (int j = view.replicasOf(subtable) - 1; j >= 1; j--)
            {
                for (int from = 0; from < buckets; from += CHUNK)
                {
                    b.reset();
                    for (int bucket = from; bucket < Math.min(buckets, from + CHUNK); bucket++)
                    {
                        b.write(view.replicaOf(subtable, j), base + (long)bucket * Bucket.LENGTH + Bucket.HEADER_OFFSET,
                            word, 0, 8);
                    }
                    client.execute(b);
                }
            }
        }
        final int[] pending = new int[buckets];
        final long[] expected = new long[buckets];
        for (int k = 0; k < buckets; k++)
        {
            pending[k] = k;
            expected[k] = image.getLong(k * Bucket.LENGTH + Bucket.HEADER_OFFSET);
        }
        int left = buckets;
        for (int attempt = 0; left > 0; attempt++)
        {
            if (attempt == 1_000)
            {
                throw new IllegalStateException("bucket headers of subtable at " + base + " keep changing under a split");
            }
            int next = 0;
            for (int from = 0; from < left; from += CHUNK)
            {
                final int to = Math.min(left, from + CHUNK);
                b.reset();
                for (int k = from; k < to; k++)
                {
                    final long e = expected[pending[k]];
                    b.cas(view.replicaOf(subtable, 0), base + (long)pending[k] * Bucket.LENGTH + Bucket.HEADER_OFFSET, e,
                        plainHeader | Bucket.lockBits(e));
                }
                client.execute(b);
                for (int k = from; k < to; k++)
                {
                    if (!b.casSucceeded(k - from))
                    {
                        expected[pending[k]] = b.result(k - from);
                        pending[next++] = pending[k];
                    }
                }
            }
            left = next;
        }
    }

    /**
     * Empties the slots the sibling now holds out of S: on the backups whatever they hold (a
     * late proposal of a writer caught by the split dies there), on the primary only where it
     * still holds the value copied. A writer whose primary CAS landed after the copy finds its
     * own value still there and withdraws it itself (FuseeClient), so the primary never loses a
     * value it cannot account for.
     */
    private void cleanMovedSlots(final long subtable, final UnsafeBuffer image, final int d, final int s)
    {
        final long base = GlobalAddress.offset(subtable);
        final int buckets = 3 * groups;
        final int[] moved = new int[buckets * Bucket.SLOT_COUNT];
        int count = 0;
        for (int bucket = 0; bucket < buckets; bucket++)
        {
            for (int i = 0; i < Bucket.SLOT_COUNT; i++)
            {
                final int at = bucket * Bucket.LENGTH + Bucket.slotOffset(i);
                if (movesToSibling(image.getLong(at), d, s))
                {
                    moved[count++] = at;
                }
            }
        }
        final long[] expected = new long[count];
        final int[] left = new int[count];
        final VerbBatch b = new VerbBatch();
        for (int j = view.replicasOf(subtable) - 1; j >= 0; j--)
        {
            final boolean primary = j == 0;
            int pending = count;
            for (int k = 0; k < count; k++)
            {
                left[k] = k;
                expected[k] = image.getLong(moved[k]);
            }
            for (int attempt = 0; attempt < 100 && pending > 0; attempt++)
            {
                int next = 0;
                for (int from = 0; from < pending; from += CHUNK)
                {
                    final int to = Math.min(pending, from + CHUNK);
                    b.reset();
                    for (int k = from; k < to; k++)
                    {
                        b.cas(view.replicaOf(subtable, j), base + moved[left[k]], expected[left[k]], Slot.EMPTY);
                    }
                    client.execute(b);
                    for (int k = from; k < to; k++)
                    {
                        final long old = b.result(k - from);
                        if (!primary && old != expected[left[k]] && old != Slot.EMPTY)
                        {
                            expected[left[k]] = old;
                            left[next++] = left[k];
                        }
                    }
                }
                pending = next;
            }
        }
    }

    /** True if {@code slot} belongs to the subtable (depth d, suffix s) and goes to its new sibling. */
    static boolean movesToSibling(final long slot, final int d, final int s)
    {
        if (slot == Slot.EMPTY)
        {
            return false;
        }
        final int suffix = Slot.hashSuffix(slot);
        return (suffix & ((1 << d) - 1)) == s && ((suffix >>> d) & 1) == 1;
    }

    @Override
    public void awaitSplit()
    {
        awaitUnlocked();
    }

    @Override
    public void awaitSplit(final OpDriver driver, final Runnable then)
    {
        new RootPoll(driver, then).poll();
    }

    /** One asynchronous wait for the root lock to clear (a slow path: allocated per wait). */
    private final class RootPoll
    {
        private final OpDriver driver;
        private final Runnable then;
        private final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        private final VerbBatch b = new VerbBatch();
        private final long start;
        private long sleep = 10_000;

        RootPoll(final OpDriver driver, final Runnable then)
        {
            this.driver = driver;
            this.then = then;
            this.start = clock.nanoTime();
        }

        void poll()
        {
            b.reset().read(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, word, 0, 8);
            driver.post(b, this::afterRead);
        }

        private void afterRead()
        {
            if (!IndexRoot.isLocked(word.getLong(0)))
            {
                directory.refresh(driver, then);
                return;
            }
            if (clock.nanoTime() - start > waitLimitNs)
            {
                driver.fail(new KvTimeoutException("another client's index split did not finish within "
                    + TimeUnit.NANOSECONDS.toMillis(waitLimitNs) + " ms"));
                return;
            }
            final long ns = sleep;
            sleep = Math.min(sleep * 2, 2_000_000);
            driver.after(ns, this::poll);
        }
    }

    private void awaitUnlocked()
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        final long start = clock.nanoTime();
        long sleep = 10_000;
        while (true)
        {
            b.reset().read(root(0), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, word, 0, 8);
            client.execute(b);
            if (!IndexRoot.isLocked(word.getLong(0)))
            {
                directory.refresh();
                return;
            }
            if (clock.nanoTime() - start > waitLimitNs)
            {
                throw new KvTimeoutException("another client's index split did not finish within "
                    + TimeUnit.NANOSECONDS.toMillis(waitLimitNs) + " ms");
            }
            LockSupport.parkNanos(sleep);
            sleep = Math.min(sleep * 2, 2_000_000);
        }
    }

    private static UnsafeBuffer longBuffer(final long value)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        b.putLong(0, value);
        return b;
    }
}
