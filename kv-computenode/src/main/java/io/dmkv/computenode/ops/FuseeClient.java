package io.dmkv.computenode.ops;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.KvTimeoutException;
import io.dmkv.MemoryFullException;
import io.dmkv.computenode.alloc.Allocation;
import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * FUSEE's operations on the RACE index with SNAPSHOT replication, written once against the
 * verbs SPI. Every protocol step is one batch (one round trip):
 * <pre>
 * SEARCH  1: READ both combined buckets (+ the cached object on a cache hit)   [2: READ candidates]
 * INSERT / UPDATE / DELETE
 *         1: WRITE the object with its log entry to r replicas, READ the buckets
 *            (+ the bucket's insert lock when the key may be new)              [+1: READ candidates]
 *         2: CAS the r-1 backups (SNAPSHOT) and WRITE the log commit (old value) to r replicas
 *         3: CAS the primary, READ the bucket header (split fence), release the insert lock
 * </pre>
 * With r = 1 step 2 is the commit alone. Frees of replaced objects ride on the next operation's
 * first batch. Insert locks (one per main bucket, held for the three steps of an insert) keep two
 * concurrent INSERTs of one key from landing in two slots; updates and deletes take none.
 */
public final class FuseeClient
{
    private static final int CANDIDATE_BUFFER = 256 * 1024;
    private static final int MAX_DEFERRED = 64;
    private static final UnsafeBuffer ZERO = new UnsafeBuffer(new byte[8]);

    private final ClusterView view;
    private final VerbsClient client;
    private final IndexDirectory directory;
    private final IndexCache cache;
    private final SnapshotReplicator snapshot;
    private final ObjectAllocator allocator;
    private final SubtableSplitter splitter;
    private final int clientId;
    private final int r;
    private final int bucketGroups;
    private final NanoClock clock;
    private final long opTimeoutNs;
    private final long lockLeaseNs;
    private final AtomicIntegerArray logHeadWritten = new AtomicIntegerArray(SizeClasses.COUNT);
    private final java.util.Queue<Context> allContexts = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final ThreadLocal<Context> contexts = ThreadLocal.withInitial(() ->
    {
        final Context c = new Context();
        allContexts.add(c);
        return c;
    });
    private final LongAdder retries = new LongAdder();
    private final LongAdder candidateReads = new LongAdder();

    /**
     * @param opTimeoutNs  how long one operation may take, retries included.
     * @param lockLeaseNs  how long an insert lock may be held before others take it over.
     */
    public FuseeClient(final ClusterView view, final VerbsClient client, final IndexDirectory directory, final IndexCache cache,
        final SnapshotReplicator snapshot, final ObjectAllocator allocator, final SubtableSplitter splitter,
        final int clientId, final NanoClock clock, final long opTimeoutNs, final long lockLeaseNs)
    {
        this.view = view;
        this.client = client;
        this.directory = directory;
        this.cache = cache;
        this.snapshot = snapshot;
        this.allocator = allocator;
        this.splitter = splitter;
        this.clientId = clientId;
        this.r = view.replication();
        this.bucketGroups = view.descriptor().bucketGroups();
        this.clock = clock;
        this.opTimeoutNs = opTimeoutNs;
        this.lockLeaseNs = lockLeaseNs;
    }

    public SnapshotReplicator snapshot()
    {
        return snapshot;
    }

    public IndexCache cache()
    {
        return cache;
    }

    public IndexDirectory directory()
    {
        return directory;
    }

    public int clientId()
    {
        return clientId;
    }

    /** Operations that had to start over (lost races, stale directory, busy locks). */
    public long retries()
    {
        return retries.sum();
    }

    /** Extra round trips spent reading candidate objects to compare keys. */
    public long candidateReads()
    {
        return candidateReads.sum();
    }

    /** The value of {@code key}, or null. */
    public byte[] search(final byte[] key)
    {
        KeyLimits.checkKey(key);
        return search(key, KeyHash.hash(key));
    }

    /** The value of {@code key} (checked, with {@code hash = KeyHash.hash(key)}), or null. */
    public byte[] search(final byte[] key, final long hash)
    {
        final Context ctx = contexts.get();
        final int fp = KeyHash.fingerprint(hash);
        final long deadline = clock.nanoTime() + opTimeoutNs;
        while (true)
        {
            final long entry = directory.current().entryFor(hash);
            final long subtable = IndexRoot.entrySubtable(entry);
            final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
            final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
            final VerbBatch b = ctx.batch.reset();
            appendDeferred(ctx, b);
            readBuckets(b, subtable, c1, c2, ctx.buckets);
            final long cachedSlot = cache.slotAddress(hash);
            final long cachedValue = cachedSlot != 0 ? cache.slotValue(hash) : 0;
            final boolean speculate = cachedSlot != 0 && cachedValue != 0;
            if (speculate)
            {
                b.read(view.replicaOf(Slot.address(cachedValue), 0), GlobalAddress.offset(Slot.address(cachedValue)),
                    ctx.candidates, 0, Slot.objectLength(cachedValue));
            }
            client.execute(b);
            if (!covers(ctx.buckets, c1, c2, hash))
            {
                directory.refresh();
                retry(deadline, "search");
                continue;
            }
            if (frozen(ctx.buckets, c1, c2))
            {
                // A split is under way: once the directory points at the new half, a frozen S no
                // longer gets this key's writes, so its copy may be stale. Wait for the split.
                backoff(ctx);
                directory.refresh();
                retry(deadline, "search (index split under way)");
                continue;
            }
            if (speculate)
            {
                final long now = slotValueAt(ctx.buckets, subtable, c1, c2, cachedSlot);
                if (now == cachedValue && matches(ctx, 0, Slot.objectLength(cachedValue), key))
                {
                    cache.hit(hash);
                    return KvObject.valueBytes(ctx.candidates, 0);
                }
                cache.miss(hash);
            }
            final int found = findCandidates(ctx, subtable, c1, c2, hash, fp);
            if (found == 0)
            {
                return null;
            }
            final int hit = readCandidates(ctx, found, key);
            if (hit >= 0)
            {
                cache.put(hash, ctx.candSlot[hit], ctx.candValue[hit]);
                return KvObject.valueBytes(ctx.candidates, ctx.candOffset[hit]);
            }
            if (hit == NO_MATCH)
            {
                return null;
            }
            retry(deadline, "search");
        }
    }

    /** Inserts, updates or deletes {@code key} as {@code mode} says. */
    public Result mutate(final Mode mode, final byte[] key, final byte[] value)
    {
        KeyLimits.checkKey(key);
        final byte[] v = mode == Mode.DELETE ? EMPTY : value;
        KeyLimits.checkValue(v);
        return mutate(mode, key, KeyHash.hash(key), v);
    }

    /** {@link #mutate(Mode, byte[], byte[])} of a checked key and value, with {@code hash = KeyHash.hash(key)}. */
    public Result mutate(final Mode mode, final byte[] key, final long hash, final byte[] value)
    {
        final Context ctx = contexts.get();
        try
        {
            return doMutate(mode, key, hash, mode == Mode.DELETE ? EMPTY : value);
        }
        catch (final RuntimeException e)
        {
            // Never leave an insert lock behind on a failed operation: others would wait its lease out.
            if (ctx.heldLock != 0)
            {
                try
                {
                    unlock(ctx, true, ctx.heldLock, ctx.heldLockValue, ctx.heldLockPlain);
                }
                catch (final RuntimeException ignored)
                {
                    // the lease frees it; the original failure is what the caller needs
                }
            }
            throw e;
        }
        finally
        {
            ctx.heldLock = 0;
        }
    }

    private Result doMutate(final Mode mode, final byte[] key, final long hash, final byte[] v)
    {
        final Context ctx = contexts.get();
        final int fp = KeyHash.fingerprint(hash);
        final int sizeClass = SizeClasses.sizeClassFor(key.length, v.length);
        final int op = mode == Mode.DELETE ? LogEntry.OP_DELETE : mode == Mode.INSERT ? LogEntry.OP_INSERT
            : LogEntry.OP_UPDATE;
        final long deadline = clock.nanoTime() + opTimeoutNs;
        ctx.backoffNs = 1_000;
        long object = 0;
        int objectSize = 0;
        long stealFrom = 0;
        boolean forceLock = false;
        long lockSeen = 0;
        long lockSeenAt = 0;
        while (true)
        {
            final long entry = directory.current().entryFor(hash);
            final long subtable = IndexRoot.entrySubtable(entry);
            final int depth = IndexRoot.entryLocalDepth(entry);
            final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
            final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
            final long cachedSlot = cache.slotAddress(hash);
            final long cachedValue = cachedSlot != 0 ? cache.slotValue(hash) : 0;
            final boolean mayInsert = (mode == Mode.INSERT || mode == Mode.PUT)
                && (forceLock || cachedSlot == 0 || cachedValue == 0);
            final long plainHeader = Bucket.header(depth, KeyHash.suffix(hash, depth));
            final long lockAddress = subtable + Subtable.combinedBucketOffset(c1) + CombinedBucket.mainBucketOffset(c1)
                + Bucket.HEADER_OFFSET;
            final long lockedHeader = Bucket.insertLocked(plainHeader, clientId);

            final VerbBatch b = ctx.batch.reset();
            appendDeferred(ctx, b);
            if (object == 0)
            {
                object = allocateAndWrite(ctx, b, sizeClass, key, v, op);
                objectSize = SizeClasses.objectSize(sizeClass);
            }
            final int lockAt = mayInsert ? b.cas(view.replicaOf(lockAddress, 0), GlobalAddress.offset(lockAddress),
                stealFrom != 0 ? stealFrom : plainHeader, lockedHeader) : -1;
            readBuckets(b, subtable, c1, c2, ctx.buckets);
            client.execute(b);
            final boolean locked = lockAt >= 0 && b.casSucceeded(lockAt);
            if (locked)
            {
                ctx.heldLock = lockAddress;
                ctx.heldLockValue = lockedHeader;
                ctx.heldLockPlain = plainHeader;
            }
            if (!covers(ctx.buckets, c1, c2, hash))
            {
                unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
                directory.refresh();
                retry(deadline, "mutate");
                continue;
            }
            if (frozen(ctx.buckets, c1, c2))
            {
                // Writers stay off a subtable being split (docs/index-split.md).
                unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
                splitter.awaitSplit();
                retry(deadline, "mutate (index split under way)");
                continue;
            }
            if (lockAt >= 0 && !locked)
            {
                final long current = b.result(lockAt);
                stealFrom = 0;
                if (Bucket.isFrozen(current) || Bucket.plain(current) != plainHeader)
                {
                    directory.refresh();
                }
                else if (Bucket.isInsertLocked(current))
                {
                    final long now = clock.nanoTime();
                    if (current != lockSeen)
                    {
                        lockSeen = current;
                        lockSeenAt = now;
                    }
                    else if (now - lockSeenAt > lockLeaseNs)
                    {
                        stealFrom = current;
                    }
                }
                backoff(ctx);
                retry(deadline, "mutate (insert lock busy)");
                continue;
            }
            stealFrom = 0;

            // Where is the key now?
            long target = 0;
            long vOld = 0;
            boolean found = false;
            if (cachedSlot != 0 && cachedValue != 0 && slotValueAt(ctx.buckets, subtable, c1, c2, cachedSlot) == cachedValue)
            {
                target = cachedSlot;
                vOld = cachedValue;
                found = true;
                cache.hit(hash);
            }
            else
            {
                if (cachedSlot != 0)
                {
                    cache.miss(hash);
                }
                final int candidates = findCandidates(ctx, subtable, c1, c2, hash, fp);
                if (candidates > 0)
                {
                    final int hit = readCandidates(ctx, candidates, key);
                    if (hit == RACED)
                    {
                        unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
                        retry(deadline, "mutate");
                        continue;
                    }
                    if (hit >= 0)
                    {
                        target = ctx.candSlot[hit];
                        vOld = ctx.candValue[hit];
                        found = true;
                    }
                }
            }
            if (found ? mode == Mode.INSERT : (mode == Mode.UPDATE || mode == Mode.DELETE))
            {
                unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
                abandon(ctx, object, sizeClass);
                if (found)
                {
                    cache.put(hash, target, vOld);
                }
                return found ? Result.EXISTS : Result.NOT_FOUND;
            }
            if (!found && !locked)
            {
                // The cache said the key existed, but it is gone: inserting it needs the insert lock.
                forceLock = true;
                retry(deadline, "mutate (stale cache entry)");
                continue;
            }
            if (!found)
            {
                target = firstFreeSlot(ctx.buckets, subtable, c1, c2);
                vOld = target == 0 ? 0 : slotValueAt(ctx.buckets, subtable, c1, c2, target);
                if (target == 0)
                {
                    unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
                    if (!splitter.split(hash, entry))
                    {
                        abandon(ctx, object, sizeClass);
                        throw new MemoryFullException("the index is full: both buckets of the key are full and its"
                            + " subtable cannot split further (max global depth " + view.descriptor().maxGlobalDepth()
                            + ", index area " + view.descriptor().indexAreaLength() + " bytes)");
                    }
                    directory.refresh();
                    retry(deadline, "mutate (after a split)");
                    continue;
                }
            }
            final long vNew = mode == Mode.DELETE ? Slot.tombstone(objectSize / Slot.LENGTH_UNIT, object, hash)
                : Slot.pack(fp, objectSize / Slot.LENGTH_UNIT, object, hash);

            // SNAPSHOT on the backups, with the log commit in the same round trip.
            final VerbBatch s = ctx.batch.reset();
            final int first = snapshot.propose(s, target, vOld, vNew);
            final int entryOffset = LogEntry.entryOffset(0, objectSize);
            LogEntry.commit(ctx.image, entryOffset, vOld, ctx.digest);
            for (int j = 0; j < r; j++)
            {
                s.write(view.replicaOf(object, j), GlobalAddress.offset(object) + entryOffset + LogEntry.COMMIT_OFFSET,
                    ctx.image, entryOffset + LogEntry.COMMIT_OFFSET, LogEntry.COMMIT_LENGTH);
            }
            client.execute(s);
            if (snapshot.decide(s, first, target, vOld, vNew, ctx.scratch))
            {
                final VerbBatch p = ctx.batch.reset();
                final int casAt = p.cas(view.replicaOf(target, 0), GlobalAddress.offset(target), vOld, vNew);
                final long fence = bucketHeaderAddress(subtable, target);
                p.read(view.replicaOf(fence, 0), GlobalAddress.offset(fence), ctx.word, 0, 8);
                final int unlockAt = locked ? p.cas(view.replicaOf(lockAddress, 0), GlobalAddress.offset(lockAddress),
                    lockedHeader, plainHeader) : -1;
                client.execute(p);
                ctx.heldLock = 0;
                final long header = ctx.word.getLong(0);
                if (unlockAt >= 0 && !p.casSucceeded(unlockAt))
                {
                    releaseMovedLock(ctx, lockAddress, lockedHeader, p.result(unlockAt));
                }
                final long landed = p.result(casAt);
                if (landed == vOld || landed == vNew)
                {
                    if (Bucket.isFrozen(header) || !Bucket.covers(header, hash))
                    {
                        if (strandedBySplit(ctx, hash, subtable, target, vNew))
                        {
                            // The split copied the slot before our CAS: no one could see our value
                            // (readers and writers wait out frozen subtables), and we took it back
                            // out. Do it again where the key lives now, with the same object.
                            retry(deadline, "mutate (caught by an index split)");
                            continue;
                        }
                        target = 0;
                    }
                    if (vOld != Slot.EMPTY)
                    {
                        defer(ctx, Slot.address(vOld), SizeClasses.classOfUnits(Slot.lengthUnits(vOld)), true);
                    }
                    if (mode == Mode.DELETE)
                    {
                        // The tombstone points at our log object; whoever replaces the tombstone frees it.
                        cache.remove(hash);
                        return Result.DELETED;
                    }
                    if (target != 0)
                    {
                        cache.put(hash, target, vNew);
                    }
                    else
                    {
                        cache.remove(hash);
                    }
                    return found ? Result.UPDATED : Result.INSERTED;
                }
                // A helper settled the slot for someone else while we were deciding: we lost after all.
            }
            else
            {
                unlock(ctx, locked, lockAddress, lockedHeader, plainHeader);
            }
            final long winner = snapshot.awaitWinner(target, vOld, bucketHeaderAddress(subtable, target),
                Bucket.plain(CombinedBucket.header(ctx.buckets, 0, c1)), ctx.scratch);
            if (winner == vOld || caughtBySplit(ctx, subtable, target, hash))
            {
                // The slot changed because the subtable split, not because someone won: start over.
                splitter.awaitSplit();
                retry(deadline, "mutate (caught by an index split)");
                continue;
            }
            abandon(ctx, object, sizeClass);
            object = 0;
            if (found && (mode == Mode.PUT || mode == Mode.UPDATE))
            {
                // Linearized just before the winner: our value was overwritten at once.
                return Result.UPDATED;
            }
            if (found && mode == Mode.DELETE && Slot.isTombstone(winner))
            {
                // Another DELETE of this key won: we come after it and find nothing.
                cache.remove(hash);
                return Result.NOT_FOUND;
            }
            retry(deadline, "mutate (lost a race)");
        }
    }

    private static final byte[] EMPTY = new byte[0];
    private static final int NO_MATCH = -1;
    private static final int RACED = -2;

    private long allocateAndWrite(final Context ctx, final VerbBatch b, final int sizeClass, final byte[] key,
        final byte[] value, final int op)
    {
        final Allocation a = ctx.allocation;
        allocator.allocate(sizeClass, a);
        final int size = KvObject.encode(ctx.image, 0, sizeClass, key, value, op, a.next(), a.prev(), ctx.digest);
        for (int j = 0; j < r; j++)
        {
            b.write(view.replicaOf(a.address(), j), GlobalAddress.offset(a.address()), ctx.image, 0, size);
        }
        if (a.prev() == 0 && logHeadWritten.compareAndSet(sizeClass, 0, 1))
        {
            ctx.head.putLong(0, a.address());
            final long at = (long)view.clientLogHeadsOffset() + ClientLogHeads.headOffset(clientId, sizeClass);
            for (int j = 0; j < r; j++)
            {
                b.write(view.replica(RegionLayout.ROOT_REGION_ID, j), at, ctx.head, 0, 8);
            }
        }
        return a.address();
    }

    /** Our object will never be referenced: mark its log entry finished (invalid) and free it. */
    private void abandon(final Context ctx, final long object, final int sizeClass)
    {
        if (object != 0)
        {
            defer(ctx, object, sizeClass, true);
        }
    }

    private void defer(final Context ctx, final long address, final int sizeClass, final boolean invalidate)
    {
        if (ctx.deferredCount == MAX_DEFERRED)
        {
            final VerbBatch b = ctx.flush.reset();
            appendDeferred(ctx, b);
            client.execute(b);
        }
        final int i = ctx.deferredCount++;
        ctx.deferredAddress[i] = address;
        ctx.deferredClass[i] = invalidate ? sizeClass | 0x100 : sizeClass;
    }

    private void appendDeferred(final Context ctx, final VerbBatch b)
    {
        for (int i = 0; i < ctx.deferredCount; i++)
        {
            final long address = ctx.deferredAddress[i];
            final int sc = ctx.deferredClass[i] & 0xFF;
            if ((ctx.deferredClass[i] & 0x100) != 0)
            {
                for (int j = 0; j < r; j++)
                {
                    b.write(view.replicaOf(address, j), GlobalAddress.offset(address) + KvObject.VALID_OFFSET, ZERO, 0, 1);
                }
            }
            allocator.free(address, sc, b);
        }
        ctx.deferredCount = 0;
    }

    /**
     * Posts the frees still queued on every thread. Call only when no operation runs any more
     * (the store's close).
     */
    public void flushAll()
    {
        for (final Context ctx : allContexts)
        {
            if (ctx.deferredCount > 0)
            {
                final VerbBatch b = new VerbBatch();
                appendDeferred(ctx, b);
                client.execute(b);
            }
        }
    }

    /** Posts whatever frees are still queued on this thread. */
    public void flush()
    {
        final Context ctx = contexts.get();
        if (ctx.deferredCount > 0)
        {
            final VerbBatch b = ctx.flush.reset();
            appendDeferred(ctx, b);
            client.execute(b);
        }
    }

    private void unlock(final Context ctx, final boolean locked, final long lockAddress, final long lockedHeader,
        final long plainHeader)
    {
        if (locked)
        {
            ctx.heldLock = 0;
            final VerbBatch b = ctx.flush.reset();
            final int at = b.cas(view.replicaOf(lockAddress, 0), GlobalAddress.offset(lockAddress), lockedHeader,
                plainHeader);
            client.execute(b);
            if (!b.casSucceeded(at))
            {
                releaseMovedLock(ctx, lockAddress, lockedHeader, b.result(at));
            }
        }
    }

    /**
     * Our unlocking CAS failed because a split froze the bucket or rewrote its header (the split
     * keeps insert locks across its header rewrite; docs/index-split.md): release the lock from
     * whatever header now carries it, after the split if it is still under way. A header without
     * our lock bits means the lock is no longer ours (its lease was taken): leave it.
     */
    private void releaseMovedLock(final Context ctx, final long lockAddress, final long lockedHeader, final long seen)
    {
        final long mine = Bucket.lockBits(lockedHeader);
        final RemoteRegion primary = view.replicaOf(lockAddress, 0);
        final long offset = GlobalAddress.offset(lockAddress);
        long observed = seen;
        for (int attempt = 0; attempt < 64 && Bucket.lockBits(observed) == mine; attempt++)
        {
            final VerbBatch b = ctx.flush.reset();
            if (Bucket.isFrozen(observed))
            {
                splitter.awaitSplit();
                b.read(primary, offset, ctx.word, 0, 8);
                client.execute(b);
                observed = ctx.word.getLong(0);
                continue;
            }
            final int at = b.cas(primary, offset, observed, Bucket.plain(observed));
            client.execute(b);
            if (b.casSucceeded(at))
            {
                return;
            }
            observed = b.result(at);
        }
    }

    private void readBuckets(final VerbBatch b, final long subtable, final int c1, final int c2, final UnsafeBuffer into)
    {
        final RemoteRegion primary = view.replicaOf(subtable, 0);
        final long base = GlobalAddress.offset(subtable);
        b.read(primary, base + Subtable.combinedBucketOffset(c1), into, 0, CombinedBucket.LENGTH);
        b.read(primary, base + Subtable.combinedBucketOffset(c2), into, CombinedBucket.LENGTH, CombinedBucket.LENGTH);
    }

    /**
     * Our primary CAS landed in a subtable that was splitting (docs/index-split.md). If the split
     * copied the slot after our CAS, our value moved with it and the split emptied the slot here.
     * If it copied the slot before, our value is stranded in a subtable that no longer covers the
     * key: no one else touches it (splits move only the slots a subtable covers), so we take it
     * back out and return true, and the operation is redone where the key lives now.
     */
    private boolean strandedBySplit(final Context ctx, final long hash, final long subtable, final long target,
        final long vNew)
    {
        splitter.awaitSplit();
        if (IndexRoot.entrySubtable(directory.current().entryFor(hash)) == subtable)
        {
            return false;
        }
        if (snapshot.readPrimary(target, ctx.scratch) != vNew)
        {
            return false;
        }
        snapshot.withdraw(target, vNew, ctx.scratch);
        return true;
    }

    /** True if the bucket of {@code target} is frozen or no longer covers the key (one READ). */
    private boolean caughtBySplit(final Context ctx, final long subtable, final long target, final long hash)
    {
        final long fence = bucketHeaderAddress(subtable, target);
        final VerbBatch b = ctx.flush.reset();
        b.read(view.replicaOf(fence, 0), GlobalAddress.offset(fence), ctx.word, 0, 8);
        client.execute(b);
        final long header = ctx.word.getLong(0);
        return Bucket.isFrozen(header) || !Bucket.covers(header, hash);
    }

    private static boolean frozen(final UnsafeBuffer buckets, final int c1, final int c2)
    {
        return Bucket.isFrozen(CombinedBucket.header(buckets, 0, c1))
            || Bucket.isFrozen(CombinedBucket.header(buckets, CombinedBucket.LENGTH, c2));
    }

    private static boolean covers(final UnsafeBuffer buckets, final int c1, final int c2, final long hash)
    {
        return Bucket.covers(Bucket.plain(CombinedBucket.header(buckets, 0, c1)), hash)
            && Bucket.covers(Bucket.plain(CombinedBucket.header(buckets, CombinedBucket.LENGTH, c2)), hash);
    }

    /** The value now in the bucket READ of the slot at {@code slotAddress}, or -1 if it is not one of them. */
    private static long slotValueAt(final UnsafeBuffer buckets, final long subtable, final int c1, final int c2,
        final long slotAddress)
    {
        for (int k = 0; k < 2; k++)
        {
            final int c = k == 0 ? c1 : c2;
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                if (subtable + Subtable.slotOffset(c, i) == slotAddress)
                {
                    return CombinedBucket.slot(buckets, k * CombinedBucket.LENGTH, c, i);
                }
            }
        }
        return -1;
    }

    private static long firstFreeSlot(final UnsafeBuffer buckets, final long subtable, final int c1, final int c2)
    {
        // Prefer the emptier of the two combined buckets, as RACE does, to keep load balanced.
        final int free1 = Integer.bitCount(CombinedBucket.emptySlots(buckets, 0, c1));
        final int free2 = Integer.bitCount(CombinedBucket.emptySlots(buckets, CombinedBucket.LENGTH, c2));
        for (int pass = 0; pass < 2; pass++)
        {
            final int k = (pass == 0) == (free1 >= free2) ? 0 : 1;
            final int c = k == 0 ? c1 : c2;
            final int empty = CombinedBucket.emptySlots(buckets, k * CombinedBucket.LENGTH, c);
            if (empty != 0)
            {
                return subtable + Subtable.slotOffset(c, Integer.numberOfTrailingZeros(empty));
            }
        }
        return 0;
    }

    private long bucketHeaderAddress(final long subtable, final long slotAddress)
    {
        final long inSubtable = slotAddress - subtable;
        return subtable + (inSubtable / Bucket.LENGTH) * Bucket.LENGTH + Bucket.HEADER_OFFSET;
    }

    /** Collects the slots of both buckets whose fingerprint and hash byte match; returns how many. */
    private static int findCandidates(final Context ctx, final long subtable, final int c1, final int c2,
        final long hash, final int fp)
    {
        int n = 0;
        final int suffix = (int)(hash & 0xFF);
        for (int k = 0; k < 2; k++)
        {
            final int c = k == 0 ? c1 : c2;
            int mask = CombinedBucket.fingerprintMatches(ctx.buckets, k * CombinedBucket.LENGTH, c, fp);
            while (mask != 0)
            {
                final int i = Integer.numberOfTrailingZeros(mask);
                mask &= mask - 1;
                final long value = CombinedBucket.slot(ctx.buckets, k * CombinedBucket.LENGTH, c, i);
                if (Slot.hashSuffix(value) == suffix && Slot.isWellFormed(value))
                {
                    ctx.candSlot[n] = subtable + Subtable.slotOffset(c, i);
                    ctx.candValue[n] = value;
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * READs the candidate objects (one round trip) and returns the index of the one holding
     * {@code key}, {@link #NO_MATCH} if none does, or {@link #RACED} if an object changed under
     * the READ (a concurrent writer replaced it: the caller starts over).
     */
    private int readCandidates(final Context ctx, final int n, final byte[] key)
    {
        candidateReads.increment();
        final VerbBatch b = ctx.batch.reset();
        int offset = 0;
        for (int i = 0; i < n; i++)
        {
            final int length = Slot.objectLength(ctx.candValue[i]);
            if (offset + length > CANDIDATE_BUFFER)
            {
                break;
            }
            final long address = Slot.address(ctx.candValue[i]);
            ctx.candOffset[i] = offset;
            b.read(view.replicaOf(address, 0), GlobalAddress.offset(address), ctx.candidates, offset, length);
            offset += length;
        }
        client.execute(b);
        boolean raced = false;
        for (int i = 0; i < n; i++)
        {
            final int length = Slot.objectLength(ctx.candValue[i]);
            final ObjectStatus status = KvObject.validate(ctx.candidates, ctx.candOffset[i], length, ctx.digest);
            if (status == ObjectStatus.OK)
            {
                if (KvObject.keyEquals(ctx.candidates, ctx.candOffset[i], key))
                {
                    return i;
                }
            }
            else
            {
                raced = true;
            }
        }
        return raced ? RACED : NO_MATCH;
    }

    private boolean matches(final Context ctx, final int offset, final int length, final byte[] key)
    {
        return KvObject.validate(ctx.candidates, offset, length, ctx.digest) == ObjectStatus.OK
            && KvObject.keyEquals(ctx.candidates, offset, key);
    }

    private void retry(final long deadline, final String what)
    {
        retries.increment();
        if (clock.nanoTime() - deadline > 0)
        {
            throw new KvTimeoutException(what + " did not complete within " + TimeUnit.NANOSECONDS.toMillis(opTimeoutNs)
                + " ms (contention or an unavailable memory node)");
        }
    }

    private static void backoff(final Context ctx)
    {
        final long ns = ctx.backoffNs;
        LockSupport.parkNanos(ns);
        ctx.backoffNs = Math.min(ns * 2, 1_000_000);
    }

    /** Per-thread buffers and batches: the hot path allocates nothing. */
    private static final class Context
    {
        final VerbBatch batch = new VerbBatch();
        final VerbBatch flush = new VerbBatch();
        final UnsafeBuffer buckets = new UnsafeBuffer(new byte[2 * CombinedBucket.LENGTH]);
        final UnsafeBuffer image = new UnsafeBuffer(ByteBuffer.allocateDirect(Slot.MAX_OBJECT_LENGTH));
        final UnsafeBuffer candidates = new UnsafeBuffer(ByteBuffer.allocateDirect(CANDIDATE_BUFFER));
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final UnsafeBuffer head = new UnsafeBuffer(new byte[8]);
        final long[] candSlot = new long[2 * CombinedBucket.SLOT_COUNT];
        final long[] candValue = new long[2 * CombinedBucket.SLOT_COUNT];
        final int[] candOffset = new int[2 * CombinedBucket.SLOT_COUNT];
        final long[] deferredAddress = new long[MAX_DEFERRED];
        final int[] deferredClass = new int[MAX_DEFERRED];
        int deferredCount;
        long backoffNs = 1_000;
        long heldLock;
        long heldLockValue;
        long heldLockPlain;
        final Crc32cDigest digest = new Crc32cDigest();
        final Allocation allocation = new Allocation();
        final SnapshotReplicator.Scratch scratch = new SnapshotReplicator.Scratch();
    }
}
