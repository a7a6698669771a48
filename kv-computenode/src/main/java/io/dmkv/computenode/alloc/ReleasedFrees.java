package io.dmkv.computenode.alloc;

import java.util.concurrent.CompletableFuture;

import org.agrona.collections.Long2LongHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The frees operations hand over with {@link ObjectAllocator#release}, kept off their batches
 * (docs/memory.md, "Releasing replaced objects"):
 * <ul>
 *   <li>an object in a block this client owns costs no verb: it waits here and goes back to its
 *       size class when the next reclaim starts, the grace a bitmap free gets too;</li>
 *   <li>any other object's bit is added to its bitmap word's pending sum; the sums are posted in
 *       the background, one FAA per word and replica, when {@value #FLUSH_WORDS} words are
 *       pending or when the next reclaim starts.</li>
 * </ul>
 * Each object is released once (the exactly-once rule), so the bits summed into one word are
 * distinct and the sum carries nowhere. Thread-safe.
 */
final class ReleasedFrees
{
    /** Pending words that make {@link #add} post them at once. */
    static final int FLUSH_WORDS = 256;

    private static final Logger LOG = LoggerFactory.getLogger(ReleasedFrees.class);

    private final ClusterView view;
    private final VerbsClient client;

    // Guarded by this.
    private long[] own = new long[64];
    private int[] ownClass = new int[64];
    private int ownCount;
    private Long2LongHashMap words = new Long2LongHashMap(0L);
    /** Every flush posted so far, so that {@link #flush()} also waits for those still in flight. */
    private CompletableFuture<Void> posted = CompletableFuture.completedFuture(null);
    /** A flush was refused a key since {@link #takeRefusal}: the keys should be learnt again (off this completion). */
    private volatile boolean refused;

    ReleasedFrees(final ClusterView view, final VerbsClient client)
    {
        this.view = view;
        this.client = client;
    }

    /** Keeps an object of an owned block until the next reclaim. */
    synchronized void addOwn(final long address, final int sizeClass)
    {
        if (ownCount == own.length)
        {
            own = java.util.Arrays.copyOf(own, ownCount * 2);
            ownClass = java.util.Arrays.copyOf(ownClass, ownCount * 2);
        }
        own[ownCount] = address;
        ownClass[ownCount++] = sizeClass;
    }

    /** Adds a foreign object's bit ({@code delta}) to the word at {@code wordOffset} of region {@code g}. */
    void addRemote(final int g, final int wordOffset, final long delta)
    {
        final boolean full;
        synchronized (this)
        {
            final long key = ((long)g << 32) | (wordOffset & 0xFFFF_FFFFL);
            words.put(key, words.get(key) + delta);
            full = words.size() >= FLUSH_WORDS;
        }
        if (full)
        {
            flush();
        }
    }

    private synchronized void keep(final long key, final long delta)
    {
        words.put(key, words.get(key) + delta);
    }

    /** Objects of owned blocks waiting for the next reclaim. */
    synchronized int ownPending()
    {
        return ownCount;
    }

    /** Bitmap words with frees not yet posted. */
    synchronized int remotePending()
    {
        return words.size();
    }

    /** Hands every waiting object of an owned block to its slab; returns how many. */
    int deliverOwn(final SizeClassSlab[] slabs)
    {
        final long[] addresses;
        final int[] classes;
        final int n;
        synchronized (this)
        {
            n = ownCount;
            if (n == 0)
            {
                return 0;
            }
            addresses = own;
            classes = ownClass;
            own = new long[Math.max(64, n)];
            ownClass = new int[Math.max(64, n)];
            ownCount = 0;
        }
        for (int i = 0; i < n; i++)
        {
            slabs[classes[i]].deliver(addresses[i]);
        }
        return n;
    }

    /**
     * Posts the pending word sums (one FAA per word and replica); completes when they and every
     * earlier flush have landed. Words of a region sealed in this client's map stay pending until a
     * later flush (a sealed region's replicas refuse writes, and a refused half of a free could not
     * be told from a landed one). A failed flush is logged: its objects stay unfreed (a leak, as
     * with a crash), since retrying could free an object twice if part of the batch landed.
     */
    CompletableFuture<Void> flush()
    {
        final Long2LongHashMap sums;
        synchronized (this)
        {
            if (words.isEmpty())
            {
                return posted;
            }
            sums = words;
            words = new Long2LongHashMap(0L);
        }
        final VerbBatch b = new VerbBatch();
        final Long2LongHashMap.KeyIterator keys = sums.keySet().iterator();
        int held = 0;
        while (keys.hasNext())
        {
            final long key = keys.nextValue();
            final int g = (int)(key >>> 32);
            final int wordOffset = (int)key;
            final long delta = sums.get(key);
            if (view.map().sealed(g))
            {
                // The region's replicas refuse writes until the copy is promoted: post it then.
                keep(key, delta);
                held++;
                continue;
            }
            for (int j = 0; j < view.replicaCount(g); j++)
            {
                b.faa(view.replica(g, j), wordOffset, delta);
            }
        }
        final int count = sums.size() - held;
        if (count == 0)
        {
            return posted;
        }
        final CompletableFuture<Void> landed = client.executeAsync(b).handle((ignored, failure) ->
        {
            if (failure != null)
            {
                refused |= RefusedKeys.refusedKey(failure);
                LOG.warn("frees of {} bitmap words were not posted; their objects stay allocated: {}", count,
                    failure.toString());
            }
            return null;
        });
        synchronized (this)
        {
            posted = CompletableFuture.allOf(posted, landed);
            return posted;
        }
    }

    /** True (once) if a flush was refused a key since the last call. */
    boolean takeRefusal()
    {
        final boolean was = refused;
        refused = false;
        return was;
    }
}
