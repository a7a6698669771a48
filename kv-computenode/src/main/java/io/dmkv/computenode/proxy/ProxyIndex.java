// Over 500 lines: every operation comes twice, blocking (RPC workers, router threads) and without
// waiting (the caller's or a network thread), and both share the steps that decide it (find,
// decide, applied, the write-through batch); apart, those steps would be shared across files.
package io.dmkv.computenode.proxy;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

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

    private final ClusterView view;
    private final VerbsClient verbs;
    private final IndexDirectory directory;
    private final SubtableSplitter splitter;
    private final ObjectAllocator allocator;
    private final int bucketGroups;
    private final ProxiedPartitions partitions;
    private final LongAdder searches = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder objectReads = new LongAdder();
    private final LongAdder splits = new LongAdder();
    private volatile TwoLevelMemory memory;
    private volatile WriteFence fence = (hash, writer) -> null;

    /** A write by no compute node in particular (this node's own, or an RPC without a caller's identity). */
    public static final int NO_WRITER = -1;

    /**
     * What an applied write waits for before it is answered: the coherent caches that hold the
     * key (docs/flexkv.md §11). Called after the write-through landed and the copy changed, outside
     * the key's locks; null: answer at once.
     */
    @FunctionalInterface
    public interface WriteFence
    {
        java.util.concurrent.CompletableFuture<Void> written(long hash, int writer);
    }

    /**
     * Sets what decides whether this proxy may serve now ({@link ProxyFence}): asked when an
     * operation finds its subtable and again just before a write-through or a split is posted.
     */
    public void admission(final java.util.function.BooleanSupplier a)
    {
        partitions.admission(a);
    }

    /** Sets what applied writes wait for. */
    public void fence(final WriteFence f)
    {
        fence = f;
    }

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
        this.partitions = new ProxiedPartitions(view, verbs, directory, partitionBits);
        this.memory = new TwoLevelMemory(1 << partitionBits, 0, () -> 0, p -> false);
    }

    /** The partition of a key hash. */
    public int partitionOf(final long hash)
    {
        return partitions.partitionOf(hash);
    }

    /** True while partition p is loaded and served here. */
    public boolean serves(final int p)
    {
        return partitions.serves(p);
    }

    /** The partitions served here. */
    public List<Integer> served()
    {
        return partitions.served();
    }

    /** Loads partition p and serves it (see {@link ProxiedPartitions}); returns the slots it settled. */
    public int load(final int p)
    {
        levels().drop(p);
        return partitions.load(p);
    }

    /** Settles partition p's replicas without serving it (it goes back to one-sided mode). */
    public int settleOnly(final int p)
    {
        return partitions.settleOnly(p);
    }

    /** Stops serving partition p once the writes in flight on it are done; REDIRECT from now on. */
    public void release(final int p)
    {
        partitions.release(p);
        levels().drop(p);
    }

    /** Keeps level 1 of the two-level memory coherent with the writes this proxy decides. */
    void memory(final TwoLevelMemory m)
    {
        memory = m;
    }

    private TwoLevelMemory levels()
    {
        return memory;
    }

    /**
     * The value level 1 holds for {@code key} at {@code slot}, the slot a lookup just found, or null
     * ({@link TwoLevelMemory#value}). Not to be modified.
     */
    public byte[] levelOneValue(final byte[] key, final long hash, final long slot)
    {
        return memory.value(partitionOf(hash), hash, key, slot);
    }

    /** Accounted bytes of the index copies of the partitions served (see {@link TwoLevelMemory}). */
    long indexBytes()
    {
        return partitions.indexBytes();
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
            final ProxiedSubtable s = partitions.subtableFor(hash);
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
            if (!partitions.admits())
            {
                return ProxyRpc.Reply.of(ProxyRpc.REDIRECT, 0);
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
        final ProxiedSubtable s = partitions.servedSubtable(hash);
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
        return mutate(mode, key, hash, slot, entry, NO_WRITER, null);
    }

    /**
     * {@link #mutate(Mode, byte[], long, long, long)} by the compute node {@code writer} ({@link WriteFence});
     * {@code value} (or null) is the written object's value, which level 1 keeps for the new slot.
     */
    public ProxyRpc.Reply mutate(final Mode mode, final byte[] key, final long hash, final long slot, final long entry,
        final int writer, final byte[] value)
    {
        final ProxyRpc.Reply reply;
        try
        {
            reply = mutateLocked(mode, key, hash, slot, entry, value);
        }
        catch (final RuntimeException e)
        {
            // A write-through that failed part-way may have landed: cachers drop the key all the same.
            awaitFence(fence.written(hash, writer));
            throw e;
        }
        if (reply.status() == ProxyRpc.APPLIED)
        {
            awaitFence(fence.written(hash, writer));
        }
        return reply;
    }

    private static void awaitFence(final java.util.concurrent.CompletableFuture<Void> fenced)
    {
        if (fenced != null)
        {
            fenced.join();
        }
    }

    private ProxyRpc.Reply mutateLocked(final Mode mode, final byte[] key, final long hash, final long slot,
        final long entry, final byte[] value)
    {
        return locked(hash, s ->
        {
            final Decision d = decide(s, mode, key, hash, slot, true);
            if (d.reply != null || d.at < 0)
            {
                return d.reply;
            }
            if (!partitions.admits())
            {
                return ProxyRpc.Reply.of(ProxyRpc.REDIRECT, 0);
            }
            try
            {
                verbs.execute(writeThrough(s.slotAddress(d.at), d.old, d.next, entry));
            }
            catch (final RuntimeException e)
            {
                partitions.invalidate(s);
                throw e;
            }
            return applied(s, d, key, hash, value);
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
        return tryMutate(mode, key, hash, slot, entry, NO_WRITER, null, attributeTo, done);
    }

    /**
     * {@link #tryMutate} by the compute node {@code writer}: an applied write answers once its fence
     * lets it; {@code value} (or null) is the written object's value, which level 1 keeps for the new slot.
     */
    public boolean tryMutate(final Mode mode, final byte[] key, final long hash, final long slot, final long entry,
        final int writer, final byte[] value, final ThreadCounters attributeTo,
        final OpCompletion<ProxyRpc.Reply> answer)
    {
        final OpCompletion<ProxyRpc.Reply> done = (reply, failure) ->
        {
            // A write-through that failed part-way may have landed: cachers drop the key all the same.
            final java.util.concurrent.CompletableFuture<Void> fenced = failure != null
                || reply.status() == ProxyRpc.APPLIED ? fence.written(hash, writer) : null;
            if (fenced == null)
            {
                answer.complete(reply, failure);
            }
            else
            {
                fenced.whenComplete((v, e) -> answer.complete(reply, failure));
            }
        };
        final ProxiedSubtable s = partitions.servedSubtable(hash);
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
        if (!partitions.admits())
        {
            s.unlockStripes(c1, c2);
            s.structure().unlockRead(stamp);
            done.complete(ProxyRpc.Reply.of(ProxyRpc.REDIRECT, 0), null);
            return true;
        }
        try
        {
            // Built under the try: a log entry address naming no region (a hostile or broken peer)
            // fails here, and the locks must still be released.
            final VerbBatch b = writeThrough(s.slotAddress(d.at), d.old, d.next, entry);
            verbs.post(b, (batch, failure) ->
            {
                ProxyRpc.Reply r = null;
                try
                {
                    if (failure == null)
                    {
                        r = applied(s, d, key, hash, value);
                    }
                    else
                    {
                        partitions.invalidate(s);
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
        if (at >= 0)
        {
            levels().invalidate(partitionOf(hash), hash);
        }
        return at < 0 ? new Decision(null, -1, 0, 0)
            : new Decision(null, at, s.word(at), mode == Mode.DELETE ? Slot.EMPTY : slot);
    }

    /**
     * After the write-through landed: the copy follows, the replaced object is released, and level 1
     * keeps the written value (when the writer sent it) for the new slot, so the next read of the
     * key, here or from another compute node, needs no READ. Under the key's stripes, so no other
     * write of the key comes between; a write of another key of the partition since the generation
     * was read only makes the fill give up.
     */
    private ProxyRpc.Reply applied(final ProxiedSubtable s, final Decision d, final byte[] key, final long hash,
        final byte[] value)
    {
        s.set(d.at, d.next, key);
        writes.increment();
        if (value != null && !Slot.isFree(d.next))
        {
            final int p = partitionOf(hash);
            final TwoLevelMemory levels = levels();
            levels.fill(p, hash, key, d.next, levels.generation(p), value);
        }
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
            partitions.retire(s);
        }
        finally
        {
            s.structure().unlockWrite(stamp);
        }
        partitions.reloadAfterSplit(partitionOf(hash));
        return true;
    }

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

    /** Stops learning keys in the background. */
    @Override
    public void close()
    {
        partitions.close();
    }

    /** Searches, writes through, object READs and splits this proxy did, and slots it settled. */
    public record Stats(long searches, long writes, long objectReads, long splits, long settled)
    {
    }

    public Stats stats()
    {
        return new Stats(searches.sum(), writes.sum(), objectReads.sum() + partitions.objectReads(), splits.sum(),
            partitions.settled());
    }
}
