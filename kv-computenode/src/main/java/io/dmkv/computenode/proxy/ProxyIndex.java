package io.dmkv.computenode.proxy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.index.SubtableSplitter;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The local index of the partitions this compute node proxies (docs/flexkv.md §4-5): a copy of
 * each of their subtables in CN memory, changed under CPU locks (the key's bucket-group stripes) and
 * written through to every index replica before a change is acknowledged. No remote atomic is
 * spent on a slot or an insert lock of a proxied partition; splits (which keep the one-sided
 * root and entry locks) and the frees of replaced objects are counted apart.
 *
 * <p>A write: the writer has put its object (with its log entry, no commit) on every data
 * replica; the proxy, holding the key's stripes, finds the key's slot, WRITEs the commit (the
 * slot's old value and its CRC32C) into the writer's log entry on every data replica and the new
 * slot value to every index replica in one batch, updates its copy, releases the replaced object (it is
 * the only one that can: only the proxy changes proxied slots) and answers. A DELETE empties the
 * slot and has no object, so no commit.
 *
 * <p>The methods block on the network and must run off completion threads (RPC workers, the
 * router's proxy threads).
 */
public final class ProxyIndex implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ProxyIndex.class);
    /** Largest READ of a subtable image. */
    private static final int CHUNK = 1 << 20;

    private final ClusterView view;
    private final VerbsClient verbs;
    private final IndexDirectory directory;
    private final SubtableSplitter splitter;
    private final ObjectAllocator allocator;
    private final int bucketGroups;
    private final int length;
    private final int partitionBits;
    /** Subtables served, by global address. */
    private final Map<Long, ProxiedSubtable> subtables = new ConcurrentHashMap<>();
    /** Partitions served: 1 at index p while p is loaded and not released. */
    private final java.util.concurrent.atomic.AtomicIntegerArray serving;
    private final LongAdder searches = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder objectReads = new LongAdder();
    private final LongAdder splits = new LongAdder();
    private final LongAdder settled = new LongAdder();
    /** Learns the keys of a newly loaded partition in the background. */
    private final java.util.concurrent.ExecutorService warmer = java.util.concurrent.Executors.newSingleThreadExecutor(r ->
    {
        final Thread t = new Thread(r, "dmkv-proxy-warm");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param partitionBits log2 of the cluster's partitions (its index started at that depth).
     */
    public ProxyIndex(final ClusterView view, final VerbsClient verbs, final IndexDirectory directory,
        final SubtableSplitter splitter, final ObjectAllocator allocator, final int partitionBits)
    {
        this.view = view;
        this.verbs = verbs;
        this.directory = directory;
        this.splitter = splitter;
        this.allocator = allocator;
        this.bucketGroups = view.descriptor().bucketGroups();
        this.length = Subtable.length(bucketGroups);
        this.partitionBits = partitionBits;
        this.serving = new java.util.concurrent.atomic.AtomicIntegerArray(1 << partitionBits);
    }

    /** The partition of a key hash. */
    public int partitionOf(final long hash)
    {
        return KeyHash.partition(hash, partitionBits);
    }

    /** True while partition p is loaded and served here. */
    public boolean serves(final int p)
    {
        return serving.get(p) == 1;
    }

    /** The partitions served here. */
    public List<Integer> served()
    {
        final List<Integer> out = new ArrayList<>();
        for (int p = 0; p < serving.length(); p++)
        {
            if (serving.get(p) == 1)
            {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Loads partition p with large READs of its subtables from every index replica, first settling
     * any slot whose replicas disagree (a previous proxy died between its write-through WRITEs):
     * the primary's value wins and is written to the others. Then serves it.
     *
     * @return slots whose replicas disagreed and were settled.
     */
    public int load(final int p)
    {
        final long before = settled.sum();
        final List<Long> addresses = subtablesOf(p);
        for (final long address : addresses)
        {
            subtables.put(address, readSubtable(address));
        }
        serving.set(p, 1);
        warmer.execute(() -> warm(p));
        final int fixed = (int)(settled.sum() - before);
        LOG.info("proxy loaded partition {} ({} subtables{})", p, addresses.size(),
            fixed > 0 ? ", " + fixed + " slots settled" : "");
        return fixed;
    }

    /**
     * Settles partition p's replicas without serving it (the partition goes back to one-sided
     * mode after a proxy died between its write-through WRITEs).
     */
    public int settleOnly(final int p)
    {
        int fixed = 0;
        for (final long address : subtablesOf(p))
        {
            fixed += settle(address, readReplicas(address));
        }
        settled.add(fixed);
        return fixed;
    }

    /**
     * Stops serving partition p: waits for the writes in flight on its subtables (their structure
     * locks) and forgets the copies. Requests for p are refused with REDIRECT from now on.
     */
    public void release(final int p)
    {
        serving.set(p, 0);
        for (final ProxiedSubtable s : List.copyOf(subtables.values()))
        {
            if (partitionOfSuffix(s.suffix()) == p)
            {
                final long stamp = s.structure().writeLock();
                try
                {
                    s.retire();
                    subtables.remove(s.address());
                }
                finally
                {
                    s.structure().unlockWrite(stamp);
                }
            }
        }
        LOG.info("proxy released partition {}", p);
    }

    /** Looks {@code key} up: FOUND with its slot (the caller READs the object), NOT_FOUND, or REDIRECT. */
    public ProxyRpc.Reply search(final byte[] key, final long hash)
    {
        searches.increment();
        return locked(hash, s ->
        {
            final int at = find(s, key, hash, true);
            return at < 0 ? ProxyRpc.Reply.of(ProxyRpc.NOT_FOUND, 0) : ProxyRpc.Reply.of(ProxyRpc.FOUND, s.word(at));
        });
    }

    /**
     * Runs {@code body} on the key's current subtable holding its locks (waiting for them):
     * REDIRECT when the partition is not served here; when {@code body} answers null (no room),
     * the subtable is split and {@code body} runs again, FULL if it cannot split.
     */
    private ProxyRpc.Reply locked(final long hash, final java.util.function.Function<ProxiedSubtable, ProxyRpc.Reply> body)
    {
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        while (true)
        {
            final ProxiedSubtable s = subtableFor(hash);
            if (s == null)
            {
                return ProxyRpc.Reply.of(ProxyRpc.REDIRECT, 0);
            }
            final ProxyRpc.Reply r;
            final long stamp = s.structure().readLock();
            try
            {
                if (s.retired())
                {
                    continue;
                }
                s.lockStripes(c1, c2);
                try
                {
                    r = body.apply(s);
                }
                finally
                {
                    s.unlockStripes(c1, c2);
                }
            }
            finally
            {
                s.structure().unlockRead(stamp);
            }
            if (r != null)
            {
                return r;
            }
            if (!split(s, hash))
            {
                return ProxyRpc.Reply.of(ProxyRpc.FULL, 0);
            }
        }
    }

    /** {@link #trySearch}: the key has no slot. */
    public static final long ABSENT = 0L;
    /** {@link #trySearch}: no answer without waiting (a lock is held, a key must be READ, the partition is not here). */
    public static final long BUSY = -1L;

    /**
     * {@link #search} without waiting, for the caller's own thread: the key's slot, {@link #ABSENT},
     * or {@link #BUSY} when answering would wait for a lock or the network.
     */
    public long trySearch(final byte[] key, final long hash)
    {
        final ProxiedSubtable s = servedSubtable(hash);
        final long stamp = s == null ? 0 : s.structure().tryReadLock();
        if (stamp == 0)
        {
            return BUSY;
        }
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        try
        {
            if (s.retired() || !s.tryLockStripes(c1, c2))
            {
                return BUSY;
            }
            try
            {
                final int at = find(s, key, hash, false);
                searches.increment();
                return at == UNKNOWN ? BUSY : at < 0 ? ABSENT : s.word(at);
            }
            finally
            {
                s.unlockStripes(c1, c2);
            }
        }
        finally
        {
            s.structure().unlockRead(stamp);
        }
    }

    /** FOUND if a slot of {@code key} points at {@code object} (the outcome of a write whose reply was lost). */
    public ProxyRpc.Reply query(final byte[] key, final long hash, final long object)
    {
        final ProxyRpc.Reply r = search(key, hash);
        if (r.status() == ProxyRpc.FOUND && Slot.address(r.slot()) != object)
        {
            return ProxyRpc.Reply.of(ProxyRpc.NOT_FOUND, r.slot());
        }
        return r;
    }

    /**
     * Applies a write: {@code slot} is the new slot value (ignored for DELETE), {@code entry} the
     * global address of the writer's log entry (0 for DELETE). Blocks on locks and the network.
     *
     * @return APPLIED with the replaced value, EXISTS, NOT_FOUND, FULL or REDIRECT.
     */
    public ProxyRpc.Reply mutate(final Mode mode, final byte[] key, final long hash, final long slot, final long entry)
    {
        return locked(hash, s ->
        {
            final Decision d = decide(s, mode, key, hash, slot, true);
            if (d.reply != null || d.at < 0)
            {
                return d.reply;
            }
            try
            {
                verbs.execute(writeThrough(s.slotAddress(d.at), d.old, d.next, entry));
            }
            catch (final RuntimeException e)
            {
                invalidate(s);
                throw e;
            }
            return applied(s, d, key);
        });
    }

    /**
     * {@link #mutate} without waiting, for a thread that must not block (a verbs completion): it
     * takes the locks only if they are free, posts the write-through and completes {@code done}
     * from that batch's completion, releasing the locks there.
     *
     * @return false, having done nothing, when it would have to wait (a lock is held, a key must
     *         be READ, a split is due, the partition is not served here): use {@link #mutate}.
     */
    public boolean tryMutate(final Mode mode, final byte[] key, final long hash, final long slot, final long entry,
        final ThreadCounters attributeTo, final OpCompletion<ProxyRpc.Reply> done)
    {
        final ProxiedSubtable s = servedSubtable(hash);
        final long stamp = s == null ? 0 : s.structure().tryReadLock();
        if (stamp == 0)
        {
            return false;
        }
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        if (s.retired() || !s.tryLockStripes(c1, c2))
        {
            s.structure().unlockRead(stamp);
            return false;
        }
        final Decision d = decide(s, mode, key, hash, slot, false);
        if (d.reply != null || d.at < 0)
        {
            s.unlockStripes(c1, c2);
            s.structure().unlockRead(stamp);
            if (d.reply == null)
            {
                return false;
            }
            done.complete(d.reply, null);
            return true;
        }
        final VerbBatch b = writeThrough(s.slotAddress(d.at), d.old, d.next, entry);
        try
        {
            verbs.post(b, (batch, failure) ->
            {
                ProxyRpc.Reply r = null;
                try
                {
                    if (failure == null)
                    {
                        r = applied(s, d, key);
                    }
                    else
                    {
                        invalidate(s);
                    }
                }
                finally
                {
                    s.unlockStripes(c1, c2);
                    s.structure().unlockRead(stamp);
                }
                done.complete(r, failure);
            }, attributeTo);
        }
        catch (final RuntimeException e)
        {
            s.unlockStripes(c1, c2);
            s.structure().unlockRead(stamp);
            done.complete(null, e);
        }
        return true;
    }

    /** What a write does to its subtable: a reply already decided, or the slot to change (at < 0: no room). */
    private record Decision(ProxyRpc.Reply reply, int at, long old, long next)
    {
    }

    /** Decides a write under the key's stripes; with {@code read} false, a key to learn gives up (at -1, no reply). */
    private Decision decide(final ProxiedSubtable s, final Mode mode, final byte[] key, final long hash,
        final long slot, final boolean read)
    {
        int at = find(s, key, hash, read);
        if (at == UNKNOWN)
        {
            return new Decision(null, -1, 0, 0);
        }
        if (at >= 0 && mode == Mode.INSERT)
        {
            return new Decision(ProxyRpc.Reply.of(ProxyRpc.EXISTS, s.word(at)), -1, 0, 0);
        }
        if (at < 0 && (mode == Mode.UPDATE || mode == Mode.DELETE))
        {
            return new Decision(ProxyRpc.Reply.of(ProxyRpc.NOT_FOUND, 0), -1, 0, 0);
        }
        if (at >= 0 && mode != Mode.DELETE && Slot.address(s.word(at)) == Slot.address(slot))
        {
            // The same write again (its first reply was lost and the writer retried): applied once.
            return new Decision(ProxyRpc.Reply.of(ProxyRpc.APPLIED, s.word(at)), -1, 0, 0);
        }
        if (at < 0)
        {
            at = freeSlot(s, hash);
        }
        return at < 0 ? new Decision(null, -1, 0, 0)
            : new Decision(null, at, s.word(at), mode == Mode.DELETE ? Slot.EMPTY : slot);
    }

    /** After the write-through landed: the copy follows, the replaced object is released. */
    private ProxyRpc.Reply applied(final ProxiedSubtable s, final Decision d, final byte[] key)
    {
        s.set(d.at, d.next, key);
        writes.increment();
        if (!Slot.isFree(d.old))
        {
            allocator.release(Slot.address(d.old), Slot.sizeClass(d.old));
        }
        return ProxyRpc.Reply.of(ProxyRpc.APPLIED, d.old);
    }

    /** Splits {@code s} holding it exclusively (unless another writer did first); false if it cannot split. */
    private boolean split(final ProxiedSubtable s, final long hash)
    {
        final long stamp = s.structure().writeLock();
        try
        {
            if (s.retired())
            {
                return true;
            }
            if (!splitter.split(hash, directory.current().entryFor(hash)))
            {
                return false;
            }
            splits.increment();
            s.retire();
            subtables.remove(s.address());
        }
        finally
        {
            s.structure().unlockWrite(stamp);
        }
        reloadAfterSplit(partitionOf(hash));
        return true;
    }

    /** The served subtable of {@code hash} by the cached directory, or null (not served, or a split is under way). */
    private ProxiedSubtable servedSubtable(final long hash)
    {
        return serves(partitionOf(hash))
            ? subtables.get(IndexRoot.entrySubtable(directory.current().entryFor(hash))) : null;
    }

    /** Stops learning keys in the background. */
    @Override
    public void close()
    {
        warmer.shutdownNow();
    }

    /** Searches, writes through, object READs and splits this proxy did, and slots it settled. */
    public record Stats(long searches, long writes, long objectReads, long splits, long settled)
    {
    }

    public Stats stats()
    {
        return new Stats(searches.sum(), writes.sum(), objectReads.sum(), splits.sum(), settled.sum());
    }

    // ---- under the key's stripes ----

    /** {@link #find} without READs met a candidate whose key the copy does not know. */
    private static final int UNKNOWN = -2;

    /**
     * The word index of the slot holding {@code key}, or -1; READs the objects of unknown
     * candidates once if {@code read}, else answers {@link #UNKNOWN} when it meets one.
     */
    private int find(final ProxiedSubtable s, final byte[] key, final long hash, final boolean read)
    {
        final int fp = KeyHash.fingerprint(hash);
        final int suffix = (int)(hash & 0xFF);
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        int[] unknown = null;
        int unknownCount = 0;
        for (int k = 0; k < 2; k++)
        {
            final int c = k == 0 ? c1 : c2;
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                final int at = ProxiedSubtable.slotIndex(c, i);
                final long w = s.word(at);
                if (Slot.fingerprint(w) != fp || Slot.hashSuffix(w) != suffix || !Slot.isWellFormed(w))
                {
                    continue;
                }
                final byte[] known = s.key(at);
                if (known == null)
                {
                    if (unknown == null)
                    {
                        unknown = new int[2 * CombinedBucket.SLOT_COUNT];
                    }
                    unknown[unknownCount++] = at;
                }
                else if (Arrays.equals(known, key))
                {
                    return at;
                }
            }
        }
        return unknownCount == 0 ? -1 : read ? resolve(s, key, unknown, unknownCount) : UNKNOWN;
    }

    /** READs the candidate objects whose keys the copy does not know yet, learns their keys, and matches. */
    private int resolve(final ProxiedSubtable s, final byte[] key, final int[] at, final int n)
    {
        int total = 0;
        for (int i = 0; i < n; i++)
        {
            total += Slot.objectLength(s.word(at[i]));
        }
        final UnsafeBuffer objects = new UnsafeBuffer(new byte[total]);
        final VerbBatch b = new VerbBatch();
        final int[] offsets = new int[n];
        int offset = 0;
        for (int i = 0; i < n; i++)
        {
            offsets[i] = offset;
            final long w = s.word(at[i]);
            view.read(b, Slot.address(w), 0, objects, offset, Slot.objectLength(w));
            offset += Slot.objectLength(w);
        }
        verbs.execute(b);
        objectReads.add(n);
        final Crc32cDigest digest = new Crc32cDigest();
        int hit = -1;
        for (int i = 0; i < n; i++)
        {
            final int length = Slot.objectLength(s.word(at[i]));
            if (KvObject.validate(objects, offsets[i], length, digest) != ObjectStatus.OK)
            {
                LOG.warn("proxied slot {} points at an object that does not validate; skipped", Slot.toString(s.word(at[i])));
                continue;
            }
            final byte[] k = KvObject.keyBytes(objects, offsets[i]);
            s.learn(at[i], k);
            if (hit < 0 && Arrays.equals(k, key))
            {
                hit = at[i];
            }
        }
        return hit;
    }

    /** Objects READ per batch while learning a loaded partition's keys. */
    private static final int WARM_BATCH = 64;

    /**
     * Learns the keys of partition p's slots with batched READs of their objects, so lookups of
     * keys this proxy has not written answer from the copy without a READ (and without leaving
     * the caller's thread). Runs in the background; stops when p is released.
     */
    private void warm(final int p)
    {
        int learnt = 0;
        for (final ProxiedSubtable s : List.copyOf(subtables.values()))
        {
            if (partitionOfSuffix(s.suffix()) != p)
            {
                continue;
            }
            final int[] unknown = s.unknownKeys();
            for (int from = 0; from < unknown.length && serves(p) && !s.retired(); from += WARM_BATCH)
            {
                learnt += learnBatch(s, java.util.Arrays.copyOfRange(unknown, from,
                    Math.min(unknown.length, from + WARM_BATCH)));
            }
        }
        LOG.debug("proxy learnt {} keys of partition {}", learnt, p);
    }

    /** READs the objects of the slots at {@code at} and learns the keys of those still holding them. */
    private int learnBatch(final ProxiedSubtable s, final int[] at)
    {
        final long[] seen = new long[at.length];
        final int[] offsets = new int[at.length];
        int total = 0;
        for (int i = 0; i < at.length; i++)
        {
            seen[i] = s.word(at[i]);
            offsets[i] = total;
            total += Slot.objectLength(seen[i]);
        }
        final UnsafeBuffer objects = new UnsafeBuffer(new byte[total]);
        final VerbBatch b = new VerbBatch();
        for (int i = 0; i < at.length; i++)
        {
            view.read(b, Slot.address(seen[i]), 0, objects, offsets[i], Slot.objectLength(seen[i]));
        }
        verbs.execute(b);
        objectReads.add(at.length);
        final Crc32cDigest digest = new Crc32cDigest();
        int learnt = 0;
        final long stamp = s.structure().readLock();
        try
        {
            for (int i = 0; i < at.length && !s.retired(); i++)
            {
                if (KvObject.validate(objects, offsets[i], Slot.objectLength(seen[i]), digest) != ObjectStatus.OK)
                {
                    continue;
                }
                final int group = ProxiedSubtable.groupOf(at[i]);
                s.lockGroup(group);
                try
                {
                    // Only if the slot did not change since its object was READ.
                    final byte[] k = KvObject.keyBytes(objects, offsets[i]);
                    final long h = KeyHash.hash(k);
                    if (s.word(at[i]) == seen[i] && s.key(at[i]) == null
                        && Slot.fingerprint(seen[i]) == KeyHash.fingerprint(h) && Slot.hashSuffix(seen[i]) == (int)(h & 0xFF))
                    {
                        s.learn(at[i], k);
                        learnt++;
                    }
                }
                finally
                {
                    s.unlockGroup(group);
                }
            }
        }
        finally
        {
            s.structure().unlockRead(stamp);
        }
        return learnt;
    }

    /** A free slot in the emptier of the key's two combined buckets, as RACE picks; -1 if both are full. */
    private int freeSlot(final ProxiedSubtable s, final long hash)
    {
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        final int free1 = s.freeSlots(c1);
        final int free2 = s.freeSlots(c2);
        if (free1 == 0 && free2 == 0)
        {
            return -1;
        }
        final boolean first = Integer.bitCount(free1) >= Integer.bitCount(free2);
        final int c = first ? c1 : c2;
        return ProxiedSubtable.slotIndex(c, Integer.numberOfTrailingZeros(first ? free1 : free2));
    }

    /**
     * The batch of one round trip: the commit into the writer's log entry on every data replica
     * and the slot on every index replica. No decision rests on their order (docs/flexkv.md §5):
     * a lost reply is resolved by asking the owner, a half-written slot by the settle rule.
     */
    private VerbBatch writeThrough(final long slotAddress, final long old, final long next, final long entry)
    {
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[LogEntry.LENGTH + Slot.LENGTH]);
        final VerbBatch write = new VerbBatch();
        if (entry != 0)
        {
            LogEntry.commit(scratch, 0, old, new Crc32cDigest());
            view.writeAll(write, entry + LogEntry.COMMIT_OFFSET, scratch, LogEntry.COMMIT_OFFSET,
                LogEntry.COMMIT_LENGTH);
        }
        scratch.putLong(LogEntry.LENGTH, next);
        view.writeAll(write, slotAddress, scratch, LogEntry.LENGTH, Slot.LENGTH);
        return write;
    }

    // ---- loading ----

    private ProxiedSubtable subtableFor(final long hash)
    {
        if (!serves(partitionOf(hash)))
        {
            return null;
        }
        final long address = IndexRoot.entrySubtable(directory.current().entryFor(hash));
        ProxiedSubtable s = subtables.get(address);
        if (s == null)
        {
            // The directory moved on (a split elsewhere doubled it), or the copy was dropped after
            // a write-through failed: read the directory, then the subtable, again.
            final long now = IndexRoot.entrySubtable(directory.refresh().entryFor(hash));
            s = now == 0 ? null : subtables.computeIfAbsent(now, this::readSubtable);
        }
        return s;
    }

    /**
     * Drops the copy of {@code s} after a write-through failed part-way (a memory node died): some
     * replicas may hold the new value, so the next operation reads the subtable again and settles
     * it rather than trust the copy.
     */
    private void invalidate(final ProxiedSubtable s)
    {
        s.retire();
        subtables.remove(s.address(), s);
        LOG.warn("a write-through to subtable {} failed; its copy is dropped and read again on next use",
            Long.toHexString(s.address()));
    }

    private void reloadAfterSplit(final int p)
    {
        directory.refresh();
        for (final long address : subtablesOf(p))
        {
            subtables.computeIfAbsent(address, this::readSubtable);
        }
    }

    /** Reads the subtable at {@code address} from every index replica, settles what they disagree on, and copies it. */
    private ProxiedSubtable readSubtable(final long address)
    {
        final UnsafeBuffer[] images = readReplicas(address);
        settled.add(settle(address, images));
        return new ProxiedSubtable(address, images[0], length);
    }

    /** The distinct subtables of partition p, from a fresh directory. */
    private List<Long> subtablesOf(final int p)
    {
        final IndexDirectory.Snapshot d = directory.refresh();
        final long[] entries = d.entries();
        final LongHashSet seen = new LongHashSet();
        final List<Long> out = new ArrayList<>();
        final int mask = (1 << partitionBits) - 1;
        for (int i = 0; i < entries.length; i++)
        {
            final long address = IndexRoot.entrySubtable(entries[i]);
            if ((i & mask) == p && address != 0 && seen.add(address))
            {
                out.add(address);
            }
        }
        return out;
    }

    private int partitionOfSuffix(final int suffix)
    {
        return suffix & ((1 << partitionBits) - 1);
    }

    private UnsafeBuffer[] readReplicas(final long address)
    {
        final int r = view.replication();
        final UnsafeBuffer[] images = new UnsafeBuffer[r];
        final VerbBatch b = new VerbBatch();
        for (int j = 0; j < r; j++)
        {
            images[j] = new UnsafeBuffer(new byte[length]);
            for (int at = 0; at < length; at += CHUNK)
            {
                view.read(b, address + at, j, images[j], at, Math.min(CHUNK, length - at));
            }
        }
        verbs.execute(b);
        return images;
    }

    /** Writes the primary's value of every slot whose replicas disagree to the others; returns how many. */
    private int settle(final long address, final UnsafeBuffer[] images)
    {
        int fixed = 0;
        final VerbBatch b = new VerbBatch();
        for (int c = 0; c < Subtable.combinedBuckets(bucketGroups); c++)
        {
            for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
            {
                final int offset = Subtable.slotOffset(c, i);
                final long primary = images[0].getLong(offset);
                boolean differs = false;
                for (int j = 1; j < images.length; j++)
                {
                    if (images[j].getLong(offset) != primary)
                    {
                        view.write(b, address + offset, j, images[0], offset, Slot.LENGTH);
                        differs = true;
                    }
                }
                fixed += differs ? 1 : 0;
            }
        }
        if (!b.isEmpty())
        {
            verbs.execute(b);
            LOG.warn("settled {} slots of subtable {} whose replicas disagreed (a proxy died mid write-through):"
                + " the primary's value now on every replica", fixed, Long.toHexString(address));
        }
        return fixed;
    }
}
