// Over 500 lines: one state machine of some twenty steps (the three round trips and every way a
// race, a lock lease or a split sends an operation elsewhere); split up, its step list would be
// scattered over files. The protocol parts it drives live apart: BucketProbe, InsertLock,
// SnapshotReplicator.Round, EmbeddedLogWriter.Record, SubtableSplitter.
package io.dmkv.computenode.ops;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.BucketProbe;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.InsertLock;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.log.EmbeddedLogWriter;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * FUSEE's INSERT / UPDATE / DELETE as an asynchronous state machine; every step is one batch:
 * <pre>
 * 1 WRITE the object with its log entry to r replicas, READ the buckets (only the combined
 *   bucket holding the cached slot when the index cache knows the key)
 *   (+ CAS the insert lock when the key may be new)                       [+1: READ candidates]
 *                                         [+1: READ both buckets if the cached slot changed]
 * 2 CAS the r-1 backups (SNAPSHOT) and WRITE the log commit (old value) to r replicas
 * 3 CAS the primary, READ the bucket header (split fence), release the insert lock
 * </pre>
 * With r = 1 step 2 is the commit alone. A DELETE writes no object: its tombstone names the
 * client and a sequence ({@code Slot.tombstone}), so it has no commit and, at r = 1, no step 2. The object a step-3 CAS replaced is released with no
 * verb of the operation's own (docs/memory.md). Lost races wait for the winner (a timer-driven poll), splits are waited out on
 * the timer, and a full subtable is split on the maintenance thread; then the operation starts
 * over with the object it already wrote. The insert lock and its lease: {@link InsertLock}.
 */
final class MutateOperation extends Operation
{
    private static final byte[] EMPTY = new byte[0];

    private final FuseeIndex index;
    private final ClusterView view;
    private final IndexDirectory directory;
    private final IndexCache cache;
    private final SubtableSplitter splitter;
    private final SnapshotReplicator snapshot;
    private final BucketProbe probe;
    private final InsertLock lock;
    private final EmbeddedLogWriter.Record log;
    private final SnapshotReplicator.Round round;
    private final VerbBatch batch = new VerbBatch();
    private final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
    private final int bucketGroups;
    private final Runnable attempt = this::attempt;
    private final Runnable afterFirst = this::afterFirst;
    private final Runnable afterCandidates = this::afterCandidates;
    private final Runnable afterRenewBeforePropose = () -> afterRenew(this::propose);
    private final Runnable afterRenewBeforeCommit = () -> afterRenew(this::commit);
    private final Runnable afterPropose = this::afterPropose;
    private final Runnable afterDecide = this::afterDecide;
    private final Runnable afterCommit = this::afterCommit;
    private final Runnable afterUnlock = this::afterUnlock;
    private final Runnable awaitWinner = this::awaitWinner;
    private final Runnable afterWinner = this::afterWinner;
    private final Runnable afterFenceRead = this::afterFenceRead;
    private final Runnable afterStrandedSplit = this::afterStrandedSplit;
    private final Runnable afterStrandedRead = this::afterStrandedRead;
    private final Runnable afterSplit = this::afterSplit;

    private Mode mode;
    /** A DELETE's tombstone, the same on every attempt of the operation. */
    private long tombstone;
    private byte[] key;
    private byte[] value;
    private long hash;
    private int sizeClass;
    private int logOp;
    private OpCompletion<Result> done;
    /** A backup CAS of this operation was posted: its object may become the slot's value (a helper, a fail-over). */
    private boolean proposed;
    private boolean forceLock;
    private boolean bothBuckets;
    private long entry;
    private long subtable;
    private long cachedSlot;
    private long cachedValue;
    private int lockAt;
    private boolean found;
    private long target;
    private long vOld;
    private long vNew;
    private int first;
    private int casAt;
    private int unlockAt;
    private volatile boolean splitDone;

    MutateOperation(final FuseeIndex index, final OpRuntime runtime, final ClusterView view,
        final IndexDirectory directory, final IndexCache cache, final SubtableSplitter splitter,
        final SnapshotReplicator snapshot, final EmbeddedLogWriter writer, final int clientId, final long timeoutNs,
        final long lockLeaseNs)
    {
        super(runtime, timeoutNs);
        this.index = index;
        this.view = view;
        this.directory = directory;
        this.cache = cache;
        this.splitter = splitter;
        this.snapshot = snapshot;
        this.probe = new BucketProbe(view);
        this.lock = new InsertLock(view, index.insertLocks(), clientId, lockLeaseNs);
        this.log = writer.newRecord();
        this.round = snapshot.newRound();
        this.bucketGroups = view.descriptor().bucketGroups();
    }

    EmbeddedLogWriter.Record log()
    {
        return log;
    }

    void start(final Mode m, final byte[] k, final long h, final byte[] v, final OpCompletion<Result> completion)
    {
        begin();
        mode = m;
        key = k;
        hash = h;
        value = m == Mode.DELETE ? EMPTY : v;
        sizeClass = SizeClasses.sizeClassFor(k.length, value.length);
        logOp = m == Mode.DELETE ? LogEntry.OP_DELETE : m == Mode.INSERT ? LogEntry.OP_INSERT : LogEntry.OP_UPDATE;
        done = completion;
        proposed = false;
        forceLock = false;
        bothBuckets = false;
        tombstone = m == Mode.DELETE ? log.tombstone(h) : 0;
        lock.reset();
        run(attempt);
    }

    /** Step 1: the object and its log entry, the buckets, and the insert lock when the key may be new. */
    private void attempt()
    {
        entry = directory.current().entryFor(hash);
        subtable = IndexRoot.entrySubtable(entry);
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        cachedSlot = cache.slotAddress(hash);
        cachedValue = cachedSlot != 0 ? cache.slotValue(hash) : 0;
        final boolean mayInsert = (mode == Mode.INSERT || mode == Mode.PUT)
            && (forceLock || cachedSlot == 0 || cachedValue == 0);
        lock.target(subtable, IndexRoot.entryLocalDepth(entry), hash, c1, c2);
        final boolean fresh = mode != Mode.DELETE && log.object() == 0;
        if (fresh && !log.tryAllocate(sizeClass))
        {
            log.refill(sizeClass, () -> run(attempt));
            return;
        }
        batch.reset();
        if (fresh)
        {
            log.appendObject(batch, key, value, logOp);
        }
        lockAt = mayInsert && !lock.held() ? lock.appendAcquire(batch, nanoTime()) : -1;
        if (mayInsert || bothBuckets || lock.held() || cachedSlot == 0 || cachedValue == 0
            || !probe.readBucketHolding(batch, subtable, c1, c2, cachedSlot))
        {
            probe.readBuckets(batch, subtable, c1, c2);
        }
        post(batch, afterFirst);
    }

    private void afterFirst()
    {
        if (lockAt >= 0 && !lock.acquired(batch, lockAt, nanoTime()))
        {
            final long current = batch.result(lockAt);
            if (!retry("mutate (insert lock busy)"))
            {
                return;
            }
            if (Bucket.isFrozen(current) || Bucket.plain(current) != lock.plainHeader())
            {
                directory.refresh(this, () -> backoff(attempt));
            }
            else
            {
                backoff(attempt);
            }
            return;
        }
        if (!probe.covers(hash))
        {
            releaseThen(() -> startOver("mutate", true));
            return;
        }
        if (probe.frozen())
        {
            // Writers stay off a subtable being split (docs/index-split.md).
            releaseThen(() -> splitter.awaitSplit(this, () -> startOver("mutate (index split under way)", false)));
            return;
        }
        if (lock.stolen())
        {
            index.lockTakenOver();
            settlePending(0);
            return;
        }
        locate();
    }

    /** After a takeover: settle the old holder's proposed inserts, then read the buckets again. */
    private void settlePending(final int from)
    {
        final long slot = lock.pendingInsert(probe, from);
        if (slot == 0)
        {
            lock.settled();
            attempt();
            return;
        }
        round.help(this, slot, 0, () -> settlePending(lock.indexOf(slot) + 1));
    }

    /** Where is the key now: the cached slot if it still holds the cached value, else the candidates. */
    private void locate()
    {
        if (cachedSlot != 0 && cachedValue != 0 && probe.slotValueAt(cachedSlot) == cachedValue)
        {
            target = cachedSlot;
            vOld = cachedValue;
            found = true;
            cache.hit(hash);
            choose();
            return;
        }
        if (cachedSlot != 0)
        {
            cache.miss(hash);
        }
        if (!probe.readBoth())
        {
            // The cached slot changed: the key may be anywhere in its two buckets.
            bothBuckets = true;
            attempt();
            return;
        }
        if (probe.findCandidates(hash, KeyHash.fingerprint(hash)) > 0)
        {
            index.candidateRead();
            batch.reset();
            probe.readCandidates(batch);
            post(batch, afterCandidates);
            return;
        }
        found = false;
        choose();
    }

    private void afterCandidates()
    {
        final int hit = probe.match(key);
        if (hit == BucketProbe.RACED)
        {
            if (!damaged(probe.racedSlot(), "mutate"))
            {
                releaseThen(() -> startOver("mutate", false));
            }
            return;
        }
        found = hit >= 0;
        if (found)
        {
            target = probe.candidateSlot(hit);
            vOld = probe.candidateValue(hit);
        }
        choose();
    }

    /** Decides by the mode what the key's presence means, and which slot to write. */
    private void choose()
    {
        if (found ? mode == Mode.INSERT : (mode == Mode.UPDATE || mode == Mode.DELETE))
        {
            log.abandon();
            if (found)
            {
                cache.put(hash, target, vOld);
            }
            final Result result = found ? Result.EXISTS : Result.NOT_FOUND;
            releaseThen(() -> complete(result, null));
            return;
        }
        if (!found && !lock.held())
        {
            // The cache said the key existed, but it is gone: inserting it needs the insert lock.
            forceLock = true;
            startOver("mutate (stale cache entry)", false);
            return;
        }
        if (!found)
        {
            target = probe.firstFreeSlot();
            if (target == 0)
            {
                releaseThen(() -> offload(() -> splitDone = splitter.split(hash, entry), afterSplit));
                return;
            }
            vOld = probe.slotValueAt(target);
        }
        vNew = mode == Mode.DELETE ? tombstone
            : Slot.pack(KeyHash.fingerprint(hash), Slot.lengthCode(sizeClass, log.usedLength()), log.object(), hash);
        if (lock.needsRenewal(nanoTime()))
        {
            lock.renew(this, nanoTime(), afterRenewBeforePropose);
            return;
        }
        propose();
    }

    private void afterSplit()
    {
        if (!splitDone)
        {
            log.abandon();
            fail(new MemoryFullException("the index is full: both buckets of the key are full and its subtable"
                + " cannot split further (max global depth " + view.descriptor().maxGlobalDepth() + ", index area "
                + view.descriptor().indexAreaLength() + " bytes)"));
            return;
        }
        startOver("mutate (after a split)", true);
    }

    /** Goes on with {@code next} if the lock renewal found the lock still ours, else starts over. */
    private void afterRenew(final Runnable next)
    {
        if (!lock.renewed())
        {
            index.lockLost();
            releaseThen(() -> startOver("mutate (insert lock taken over)", false));
            return;
        }
        next.run();
    }

    /** Step 2: SNAPSHOT on the backups, with the log commit in the same round trip. */
    private void propose()
    {
        batch.reset();
        first = snapshot.propose(batch, target, vOld, vNew);
        if (first >= 0)
        {
            proposed = true;
            done.proposed();
        }
        if (mode != Mode.DELETE)
        {
            log.appendCommit(batch, vOld);
        }
        if (batch.isEmpty())
        {
            // r = 1 and a DELETE: nothing to propose or commit; the primary CAS decides.
            afterPropose();
            return;
        }
        post(batch, afterPropose);
    }

    private void afterPropose()
    {
        round.decide(this, batch, first, target, vOld, vNew, afterDecide);
    }

    private void afterDecide()
    {
        if (!round.won())
        {
            releaseThen(awaitWinner);
            return;
        }
        if (view.replicasOf(target) == 1 && lock.needsRenewal(nanoTime()))
        {
            // With no backups nothing else shows a taker-over our insert: renew before the primary CAS.
            lock.renew(this, nanoTime(), afterRenewBeforeCommit);
            return;
        }
        commit();
    }

    /** Step 3: CAS the primary, READ the bucket header (split fence), release the insert lock. */
    private void commit()
    {
        batch.reset();
        casAt = view.cas(batch, target, 0, vOld, vNew);
        view.read(batch, probe.bucketHeaderAddress(target), 0, word, 0, 8);
        unlockAt = lock.held() ? lock.appendRelease(batch) : -1;
        post(batch, afterCommit);
    }

    private void afterCommit()
    {
        if (unlockAt >= 0)
        {
            lock.released(this, batch, unlockAt, splitter, afterUnlock);
            return;
        }
        afterUnlock();
    }

    private void afterUnlock()
    {
        final long header = word.getLong(0);
        final long landed = batch.result(casAt);
        if (landed != vOld && landed != vNew)
        {
            // A helper settled the slot for someone else while we were deciding: we lost after all.
            awaitWinner();
            return;
        }
        if (Bucket.isFrozen(header) || !Bucket.covers(header, hash))
        {
            splitter.awaitSplit(this, afterStrandedSplit);
            return;
        }
        succeeded(target);
    }

    /**
     * Our primary CAS landed in a subtable that was splitting (docs/index-split.md). If the split
     * copied the slot after our CAS, our value moved with it. If it copied the slot before, our
     * value is stranded in a subtable that no longer covers the key: we take it back out and the
     * operation is redone where the key lives now, with the same object.
     */
    private void afterStrandedSplit()
    {
        if (IndexRoot.entrySubtable(directory.current().entryFor(hash)) == subtable)
        {
            succeeded(0);
            return;
        }
        round.readPrimary(this, target, afterStrandedRead);
    }

    private void afterStrandedRead()
    {
        if (round.value() != vNew)
        {
            succeeded(0);
            return;
        }
        round.withdraw(this, target, vNew, () -> startOver("mutate (caught by an index split)", false));
    }

    private void succeeded(final long slot)
    {
        if (!Slot.isFree(vOld))
        {
            log.free(Slot.address(vOld), Slot.sizeClass(vOld));
        }
        log.keep();
        if (mode == Mode.DELETE)
        {
            cache.remove(hash);
            complete(Result.DELETED, null);
            return;
        }
        if (slot != 0)
        {
            cache.put(hash, slot, vNew);
        }
        else
        {
            cache.remove(hash);
        }
        complete(found ? Result.UPDATED : Result.INSERTED, null);
    }

    private void awaitWinner()
    {
        round.awaitWinner(this, target, vOld, probe.bucketHeaderAddress(target), probe.plainHeader(), afterWinner);
    }

    private void afterWinner()
    {
        if (round.value() == vOld)
        {
            // The slot changed because the subtable split, not because someone won: start over.
            splitter.awaitSplit(this, () -> startOver("mutate (caught by an index split)", false));
            return;
        }
        batch.reset();
        view.read(batch, probe.bucketHeaderAddress(target), 0, word, 0, 8);
        post(batch, afterFenceRead);
    }

    private void afterFenceRead()
    {
        final long header = word.getLong(0);
        if (Bucket.isFrozen(header) || !Bucket.covers(header, hash))
        {
            splitter.awaitSplit(this, () -> startOver("mutate (caught by an index split)", false));
            return;
        }
        final long winner = round.value();
        if (winner == vNew)
        {
            // A helper settled the slot on our own proposal while we waited as a loser: we won,
            // and the value we replaced is ours to free.
            succeeded(target);
            return;
        }
        log.abandon();
        if (found && (mode == Mode.PUT || mode == Mode.UPDATE))
        {
            // Linearized just before the winner: our value was overwritten at once.
            complete(Result.UPDATED, null);
            return;
        }
        if (found && mode == Mode.DELETE && Slot.isTombstone(winner))
        {
            // Another DELETE of this key won: we come after it and find nothing.
            cache.remove(hash);
            complete(Result.NOT_FOUND, null);
            return;
        }
        startOver("mutate (lost a race)", false);
    }

    /** Starts the operation over (its deadline permitting), first re-reading the directory if asked. */
    private void startOver(final String why, final boolean refresh)
    {
        if (!retry(why))
        {
            return;
        }
        if (refresh)
        {
            directory.refresh(this, attempt);
            return;
        }
        attempt();
    }

    /** Releases the insert lock if held, then runs {@code then}. */
    private void releaseThen(final Runnable then)
    {
        lock.release(this, splitter, then);
    }

    @Override
    public void fail(final Throwable failure)
    {
        if (done == null)
        {
            return;
        }
        if (proposed)
        {
            // A proposal a helper or a fail-over may promote: its object is never reused (at
            // worst a leak of one object).
            log.keep();
        }
        else
        {
            log.abandon();
        }
        // Never leave an insert lock behind on a failed operation (others would wait its lease out):
        // a lock it holds, or may hold because the batch that acquired or released it failed (a
        // memory node died, or re-keyed the region for a fail-over), is released by the client's
        // ledger as soon as a CAS reaches the header, by the new map if need be.
        lock.abandon();
        complete(null, failure);
    }

    private void complete(final Result result, final Throwable failure)
    {
        final OpCompletion<Result> d = done;
        if (d == null)
        {
            return;
        }
        done = null;
        key = null;
        value = null;
        index.retries(retries);
        index.release(this);
        d.complete(result, failure);
    }
}
