package io.dmkv.computenode.index;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.OpDriver;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;

/**
 * One operation's insert lock: a lock bit, owner and sequence CASed into the header of the key's
 * first main bucket on the primary, held for the steps of an insert so two concurrent INSERTs of
 * one key cannot land in two slots (docs/operations.md). Updates and deletes take none.
 *
 * <p>Leases: a lock whose word stays unchanged for the lease is taken over by a waiting inserter.
 * A holder renews it (a CAS to a new sequence) before a step it posts more than half a lease after
 * its last acquisition or renewal, so a holder whose continuations were delayed — a pause, a busy
 * thread, thousands of operations in flight — finds out it lost the lock before it touches a slot,
 * and starts over. A taker-over with r ≥ 2 also settles the inserts the old holder had already
 * proposed on the backups ({@link #pendingInsert}), so the old holder's primary CAS can only land
 * the value SNAPSHOT already chose. What remains assumed is that a verb, once posted, lands within
 * half a lease.
 *
 * <p>Every lock word takes its sequence from the client's {@link InsertLockLedger}, which keeps the
 * word engaged while it may be on the header. An operation that fails with a word of its own
 * possibly there (acquired, or its acquiring or releasing CAS in a batch that failed) hands it to
 * the ledger ({@link #abandon}), which releases it once a CAS reaches the header, by the new region
 * map after a fail-over.
 */
public final class InsertLock
{
    private final ClusterView view;
    private final InsertLockLedger ledger;
    private final int clientId;
    private final long leaseNs;
    private final UnsafeBuffer backups = new UnsafeBuffer(new byte[2 * CombinedBucket.LENGTH]);
    private final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
    private final VerbBatch batch = new VerbBatch();
    private final Runnable afterRelease = this::afterRelease;
    private final Runnable afterMovedRead = this::afterMovedRead;
    private final Runnable afterRenew = this::afterRenew;

    private long address;
    /** The header our word {@link #locked} was written to (the target may move on while it is held). */
    private long lockAddress;
    private long plain;
    /** Our word at the header while it may be there (acquiring, held, releasing); 0 when it is not. */
    private long locked;
    /** During a renewal: the word the renewing CAS replaces, which may still be there; else 0. */
    private long previous;
    private boolean held;
    private long renewedAt;
    private long seen;
    private long seenAt;
    private long stealFrom;
    private boolean stolen;
    private int subtableC1;
    private int subtableC2;
    private long subtable;
    private OpDriver driver;
    private Runnable then;
    private int releaseAt;
    private int attempts;
    private boolean renewed;

    public InsertLock(final ClusterView view, final InsertLockLedger ledger, final int clientId, final long leaseNs)
    {
        this.view = view;
        this.ledger = ledger;
        this.clientId = clientId;
        this.leaseNs = leaseNs;
    }

    /** Starts a new operation: no lock held, no lease being watched. */
    public void reset()
    {
        abandon();
        seen = 0;
        seenAt = 0;
        stealFrom = 0;
        stolen = false;
    }

    /** Points the lock at the key's first main bucket in {@code table} (local depth {@code depth}). */
    public void target(final long table, final int depth, final long hash, final int c1, final int c2)
    {
        subtable = table;
        subtableC1 = c1;
        subtableC2 = c2;
        plain = Bucket.header(depth, KeyHash.suffix(hash, depth));
        address = table + Subtable.combinedBucketOffset(c1) + CombinedBucket.mainBucketOffset(c1) + Bucket.HEADER_OFFSET;
    }

    /** The plain header (depth and suffix) the lock expects. */
    public long plainHeader()
    {
        return plain;
    }

    public boolean held()
    {
        return held;
    }

    /**
     * Adds the acquiring CAS to {@code b} (from the plain header, or from the expired lock it takes
     * over), and with r ≥ 2 when taking over, the READ of the backups' copies of both buckets.
     * Returns the CAS's index.
     */
    public int appendAcquire(final VerbBatch b, final long now)
    {
        abandon();
        lockAddress = address;
        locked = Bucket.insertLocked(plain, clientId, ledger.engage(address));
        renewedAt = now;
        final int at = view.cas(b, address, 0, stealFrom != 0 ? stealFrom : plain, locked);
        if (stealFrom != 0 && view.replicasOf(address) > 1)
        {
            view.read(b, subtable + Subtable.combinedBucketOffset(subtableC1), 1, backups, 0, CombinedBucket.LENGTH);
            view.read(b, subtable + Subtable.combinedBucketOffset(subtableC2), 1, backups, CombinedBucket.LENGTH,
                CombinedBucket.LENGTH);
        }
        return at;
    }

    /**
     * After the acquiring batch: whether the CAS at {@code at} took the lock. If not, watches the
     * word it found: unchanged for a lease, it is taken over on the next attempt.
     *
     * @return true if the lock is now held.
     */
    public boolean acquired(final VerbBatch b, final int at, final long now)
    {
        stolen = false;
        if (b.casSucceeded(at))
        {
            held = true;
            stolen = stealFrom != 0;
            stealFrom = 0;
            return true;
        }
        final long current = b.result(at);
        stealFrom = 0;
        dropLocked();
        if (!Bucket.isFrozen(current) && Bucket.plain(current) == plain && Bucket.isInsertLocked(current))
        {
            if (current != seen)
            {
                seen = current;
                seenAt = now;
            }
            else if (now - seenAt > leaseNs)
            {
                stealFrom = current;
            }
        }
        return false;
    }

    /** True if the lock was just taken over from an expired holder (its proposals need settling). */
    public boolean stolen()
    {
        return stolen;
    }

    /** The old holder's proposals are settled. */
    public void settled()
    {
        stolen = false;
    }

    /**
     * After a takeover with r ≥ 2: the address of a slot of the two buckets whose primary (as read
     * in {@code probe}) is empty while its backup holds a proposal — an insert the old holder had
     * begun — starting the search at slot index {@code from}; 0 if there is none.
     */
    public long pendingInsert(final BucketProbe probe, final int from)
    {
        if (view.replicasOf(subtable) == 1)
        {
            return 0;
        }
        for (int i = from; i < 2 * CombinedBucket.SLOT_COUNT; i++)
        {
            final int k = i / CombinedBucket.SLOT_COUNT;
            final int c = k == 0 ? subtableC1 : subtableC2;
            final int s = i % CombinedBucket.SLOT_COUNT;
            final long slotAddress = subtable + Subtable.slotOffset(c, s);
            final long backup = CombinedBucket.slot(backups, k * CombinedBucket.LENGTH, c, s);
            if (backup != 0 && probe.slotValueAt(slotAddress) == 0)
            {
                return slotAddress;
            }
        }
        return 0;
    }

    /** The slot index (0..13) of a slot of the two buckets, to resume {@link #pendingInsert} after it. */
    public int indexOf(final long slotAddress)
    {
        for (int i = 0; i < 2 * CombinedBucket.SLOT_COUNT; i++)
        {
            final int c = i < CombinedBucket.SLOT_COUNT ? subtableC1 : subtableC2;
            if (subtable + Subtable.slotOffset(c, i % CombinedBucket.SLOT_COUNT) == slotAddress)
            {
                return i;
            }
        }
        return 2 * CombinedBucket.SLOT_COUNT;
    }

    /** True if the holder must renew before its next step (half a lease passed since it last did). */
    public boolean needsRenewal(final long now)
    {
        return held && now - renewedAt > leaseNs / 2;
    }

    /**
     * Renews the held lock (a CAS to a new sequence); then {@link #renewed()} tells whether it was
     * still ours. A lost lock is no longer held.
     */
    public void renew(final OpDriver d, final long now, final Runnable next)
    {
        driver = d;
        then = next;
        final long renewedWord = Bucket.insertLocked(Bucket.plain(locked), clientId, ledger.engage(lockAddress));
        batch.reset();
        previous = locked;
        locked = renewedWord;
        releaseAt = view.cas(batch, lockAddress, 0, previous, renewedWord);
        renewedAt = now;
        driver.post(batch, afterRenew);
    }

    private void afterRenew()
    {
        renewed = batch.casSucceeded(releaseAt);
        if (renewed)
        {
            ledger.disengage(lockAddress, Bucket.lockSequence(previous));
            previous = 0;
        }
        else
        {
            // Still ours under a header a split froze or rewrote: keep it held, so the caller's
            // release takes it out of whatever header carries it. Anyone else's: not held.
            final long current = batch.result(releaseAt);
            held = Bucket.lockBits(current) == Bucket.lockBits(previous);
            dropLocked();
            locked = previous;
            previous = 0;
            if (!held)
            {
                dropLocked();
            }
        }
        then.run();
    }

    /** Our word {@link #locked} is known not to be on the header (any more): its sequence is free again. */
    private void dropLocked()
    {
        if (locked != 0)
        {
            ledger.disengage(lockAddress, Bucket.lockSequence(locked));
            locked = 0;
        }
    }

    /**
     * The operation ends without knowing its word is off the header: an acquiring, held or releasing
     * word (and a renewal's old one) goes to the ledger, which releases it when a CAS reaches the
     * header. Nothing is held afterwards.
     */
    public void abandon()
    {
        held = false;
        if (locked != 0)
        {
            ledger.strand(lockAddress, locked);
            locked = 0;
        }
        if (previous != 0)
        {
            ledger.strand(lockAddress, previous);
            previous = 0;
        }
    }

    /** Whether the last {@link #renew} found the lock still ours. */
    public boolean renewed()
    {
        return renewed;
    }

    /** Adds the releasing CAS to {@code b} (the last batch of an insert); returns its index. */
    public int appendRelease(final VerbBatch b)
    {
        held = false;
        return view.cas(b, lockAddress, 0, locked, Bucket.plain(locked));
    }

    /**
     * After {@link #appendRelease}'s batch: if the CAS failed because a split froze the bucket or
     * rewrote its header (splits keep insert locks across their header rewrite), releases the lock
     * from whatever header now carries it; then runs {@code next}.
     */
    public void released(final OpDriver d, final VerbBatch b, final int at, final SubtableSplitter splitter,
        final Runnable next)
    {
        if (b.casSucceeded(at))
        {
            dropLocked();
            next.run();
            return;
        }
        driver = d;
        then = next;
        attempts = 0;
        releaseMoved(b.result(at), splitter);
    }

    /** Releases a held lock on its own (an operation that gives up or starts over); then runs {@code next}. */
    public void release(final OpDriver d, final SubtableSplitter splitter, final Runnable next)
    {
        if (!held)
        {
            next.run();
            return;
        }
        driver = d;
        then = next;
        attempts = 0;
        this.splitter = splitter;
        batch.reset();
        releaseAt = appendRelease(batch);
        driver.post(batch, afterRelease);
    }

    private SubtableSplitter splitter;

    private void afterRelease()
    {
        if (batch.casSucceeded(releaseAt))
        {
            dropLocked();
            then.run();
            return;
        }
        releaseMoved(batch.result(releaseAt), splitter);
    }

    /**
     * The unlocking CAS failed: a header that no longer carries our lock bits means the lock is no
     * longer ours (taken over): leave it. A frozen header waits for the split, then re-reads. A
     * header that keeps changing under our lock bits is left to the ledger.
     */
    private void releaseMoved(final long observed, final SubtableSplitter s)
    {
        splitter = s;
        if (Bucket.lockBits(observed) != Bucket.lockBits(locked))
        {
            dropLocked();
            then.run();
            return;
        }
        if (++attempts > 64)
        {
            abandon();
            then.run();
            return;
        }
        if (Bucket.isFrozen(observed))
        {
            splitter.awaitSplit(driver, () ->
            {
                batch.reset();
                view.read(batch, lockAddress, 0, word, 0, 8);
                driver.post(batch, afterMovedRead);
            });
            return;
        }
        batch.reset();
        releaseAt = view.cas(batch, lockAddress, 0, observed, Bucket.plain(observed));
        driver.post(batch, afterRelease);
    }

    private void afterMovedRead()
    {
        releaseMoved(word.getLong(0), splitter);
    }
}
