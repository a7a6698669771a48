package io.dmkv.computenode.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The partitions a proxy serves, as copies of their subtables (docs/flexkv.md §4, §6): loading a
 * partition with large READs of every index replica, settling the slots whose replicas disagree
 * (the primary's value wins), learning its keys in the background, dropping a copy after a
 * failed write-through or a split so it is read again, and releasing a partition at hand-over
 * once the writes on it have drained. {@link ProxyIndex} serves operations from these copies.
 */
final class ProxiedPartitions implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ProxiedPartitions.class);
    /** Largest READ of a subtable image. */
    private static final int CHUNK = 1 << 20;

    private final ClusterView view;
    private final VerbsClient verbs;
    private final IndexDirectory directory;
    private final int bucketGroups;
    private final int length;
    private final int partitionBits;
    /** Subtables served, by global address. */
    private final Map<Long, ProxiedSubtable> subtables = new ConcurrentHashMap<>();
    /** Partitions served: 1 at index p while p is loaded and not released. */
    private final AtomicIntegerArray serving;
    private final LongAdder objectReads = new LongAdder();
    private final LongAdder settled = new LongAdder();
    /** Whether this proxy may serve now ({@link ProxyFence}); every lookup of a served subtable asks it. */
    private volatile java.util.function.BooleanSupplier admission = () -> true;
    /** Learns the keys of a newly loaded partition in the background. */
    private final ExecutorService warmer = Executors.newSingleThreadExecutor(r ->
    {
        final Thread t = new Thread(r, "dmkv-proxy-warm");
        t.setDaemon(true);
        return t;
    });

    ProxiedPartitions(final ClusterView view, final VerbsClient verbs, final IndexDirectory directory,
        final int partitionBits)
    {
        this.view = view;
        this.verbs = verbs;
        this.directory = directory;
        this.bucketGroups = view.descriptor().bucketGroups();
        this.length = Subtable.length(bucketGroups);
        this.partitionBits = partitionBits;
        this.serving = new AtomicIntegerArray(1 << partitionBits);
    }

    /** The partition of a key hash. */
    int partitionOf(final long hash)
    {
        return KeyHash.partition(hash, partitionBits);
    }

    /** True while partition p is loaded and served here. */
    boolean serves(final int p)
    {
        return serving.get(p) == 1;
    }

    /** The partitions served here. */
    List<Integer> served()
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
    int load(final int p)
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
    int settleOnly(final int p)
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
    void release(final int p)
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

    /** Accounted bytes of the copies of the subtables served (see {@link TwoLevelMemory}). */
    long indexBytes()
    {
        long n = 0;
        for (final ProxiedSubtable s : subtables.values())
        {
            n += s.accountedBytes();
        }
        return n;
    }

    /** Sets what decides whether this proxy may serve now (its fence). */
    void admission(final java.util.function.BooleanSupplier a)
    {
        admission = a;
    }

    /** True while this proxy may serve (its fence admits). */
    boolean admits()
    {
        return admission.getAsBoolean();
    }

    /**
     * The served subtable of {@code hash} by the cached directory, or null (not served, a split is
     * under way, or the fence refuses).
     */
    ProxiedSubtable servedSubtable(final long hash)
    {
        return serves(partitionOf(hash)) && admits()
            ? subtables.get(IndexRoot.entrySubtable(directory.current().entryFor(hash))) : null;
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

    ProxiedSubtable subtableFor(final long hash)
    {
        if (!serves(partitionOf(hash)) || !admits())
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
    void invalidate(final ProxiedSubtable s)
    {
        s.retire();
        subtables.remove(s.address(), s);
        LOG.warn("a write-through to subtable {} failed; its copy is dropped and read again on next use",
            Long.toHexString(s.address()));
    }

    void reloadAfterSplit(final int p)
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
        final int r = view.replicasOf(address);
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

    /** The served copy of a subtable a split replaced: gone, so the next lookup finds the halves. */
    void retire(final ProxiedSubtable s)
    {
        s.retire();
        subtables.remove(s.address());
    }

    /** Objects READ to learn keys, and slots settled. */
    long objectReads()
    {
        return objectReads.sum();
    }

    long settled()
    {
        return settled.sum();
    }

    @Override
    public void close()
    {
        warmer.shutdownNow();
    }
}
