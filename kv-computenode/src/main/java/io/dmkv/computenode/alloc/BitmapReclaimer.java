package io.dmkv.computenode.alloc;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The owner's side of the free bitmaps: takes back the objects others freed. A reclaim READs the
 * bitmaps of all owned blocks from the primaries (one round trip per MiB of bitmap), clears the
 * bits it saw with one FAA of the negated mask per word on every replica, waits for those FAAs,
 * and only then delivers the objects to their size class's {@link SizeClassSlab}: reused before
 * its bit is clear, an object's next free would add to a set bit. Each reclaim first hands back
 * the objects of owned blocks this client released and posts its other released frees
 * ({@link ReleasedFrees}).
 *
 * <p>Asynchronous: each step runs on the completion of the one before, so the slab can reclaim
 * from a completion thread when the memory nodes are full. Reclaims are serialised (two at once
 * would subtract the same bits twice): each starts when the one before has finished.
 */
final class BitmapReclaimer
{
    private static final Logger LOG = LoggerFactory.getLogger(BitmapReclaimer.class);

    /** Bitmap bytes read by one reclaim batch. */
    private static final int RECLAIM_READ_BYTES = 1 << 20;

    private final ClusterView view;
    private final VerbsClient client;
    private final int clientId;
    private final OwnedBlocks blocks;
    private final SizeClassSlab[] slabs;
    private final AtomicLong reclaimed = new AtomicLong();
    private final ReleasedFrees released;

    /** The last reclaim queued; guarded by this. */
    private CompletableFuture<Integer> tail = CompletableFuture.completedFuture(0);
    private boolean stopped;

    // Scratch of the one reclaim running, handed from one to the next by the tail's completion.
    private final VerbBatch read = new VerbBatch();
    private final UnsafeBuffer bitmaps = new UnsafeBuffer(new byte[RECLAIM_READ_BYTES]);
    private final VerbRunner clear;
    /** Objects to deliver after their bits are cleared: block (index in the snapshot), word, bits. */
    private int[] pendingBlocks = new int[64];
    private int[] pendingWords = new int[64];
    private long[] pendingBits = new long[64];

    /** {@code slabs} is filled by the caller before the first reclaim. */
    BitmapReclaimer(final ClusterView view, final VerbsClient client, final int clientId, final OwnedBlocks blocks,
        final SizeClassSlab[] slabs, final ReleasedFrees released)
    {
        this.released = released;
        this.view = view;
        this.client = client;
        this.clientId = clientId;
        this.blocks = blocks;
        this.slabs = slabs;
        this.clear = VerbRunner.async(client);
    }

    /** Objects taken back from free bitmaps so far, on adoption and by reclaim. */
    long reclaimedCount()
    {
        return reclaimed.get();
    }

    /** Counts objects found freed when a block was adopted. */
    void countAdopted(final int objects)
    {
        reclaimed.addAndGet(objects);
    }

    /**
     * Queues a reclaim after those queued before; the future says how many objects it delivered
     * (0 once {@link #stop()} has run).
     */
    CompletableFuture<Integer> reclaim()
    {
        return enqueue(false);
    }

    /** {@link #reclaim()}, waiting for it. */
    int reclaimNow()
    {
        return join(reclaim());
    }

    /**
     * Runs a last reclaim after those queued and waits for it; later reclaims do nothing, so none
     * can run while close hands the blocks over.
     */
    int stop()
    {
        return join(enqueue(true));
    }

    private CompletableFuture<Integer> enqueue(final boolean last)
    {
        final CompletableFuture<Void> start = new CompletableFuture<>();
        final CompletableFuture<Integer> previous;
        final CompletableFuture<Integer> run;
        synchronized (this)
        {
            if (stopped)
            {
                return CompletableFuture.completedFuture(0);
            }
            stopped = last;
            previous = tail;
            // Released frees first: those of owned blocks go back to their slabs, the others'
            // FAAs are posted, so this reclaim may already find them.
            run = start.thenCompose(ignored -> released.flush())
                .thenCompose(ignored -> reclaimFrom(blocks.snapshot(), 0, released.deliverOwn(slabs)));
            tail = run;
        }
        // Started outside the lock: on the local transport the whole reclaim may run right here.
        previous.whenComplete((count, failure) -> start.complete(null));
        return run;
    }

    private static int join(final CompletableFuture<Integer> f)
    {
        try
        {
            return f.join();
        }
        catch (final RuntimeException e)
        {
            throw Failures.cause(e);
        }
    }

    /** Reclaims blocks {@code first} on; {@code total} were delivered from those before. */
    private CompletableFuture<Integer> reclaimFrom(final OwnedBlock[] owned, final int first, final int total)
    {
        if (first >= owned.length)
        {
            reclaimed.addAndGet(total);
            return CompletableFuture.completedFuture(total);
        }
        // Read as many bitmaps as fit the scratch buffer in one round trip.
        read.reset();
        int end = first;
        int bytes = 0;
        while (end < owned.length)
        {
            final OwnedBlock b = owned[end];
            final int length = BlockHeader.bitmapWords(b.objectCount) * BlockHeader.BITMAP_WORD_LENGTH;
            if (bytes + length > RECLAIM_READ_BYTES)
            {
                break;
            }
            if (!b.quarantined)
            {
                read.read(view.replica(b.region, 0), b.blockOffset + BlockHeader.BITMAP_OFFSET, bitmaps, bytes, length);
                bytes += length;
            }
            end++;
        }
        final int last = end;
        final CompletableFuture<?> done = read.isEmpty() ? CompletableFuture.completedFuture(null)
            : client.executeAsync(read);
        return done.thenCompose(ignored -> clearAndDeliver(owned, first, last))
            .thenCompose(delivered -> reclaimFrom(owned, last, total + delivered));
    }

    /** Clears, on every replica, the bits read for blocks first..end-1, then delivers their objects. */
    private CompletableFuture<Integer> clearAndDeliver(final OwnedBlock[] owned, final int first, final int end)
    {
        int pending = 0;
        int position = 0;
        for (int k = first; k < end; k++)
        {
            final OwnedBlock b = owned[k];
            if (b.quarantined)
            {
                continue;
            }
            final int words = BlockHeader.bitmapWords(b.objectCount);
            final int mark = b.highWaterMark();
            for (int w = 0; w < words; w++, position += BlockHeader.BITMAP_WORD_LENGTH)
            {
                final long bits = bitmaps.getLong(position);
                if (bits == 0)
                {
                    continue;
                }
                final long handedOut = belowMark(w, mark);
                if ((bits & ~handedOut) != 0)
                {
                    // A free of an object this client never handed out breaks the exactly-once
                    // rule somewhere; the bit is cleared so the object is not freed twice later.
                    LOG.warn("client {}: {} has bits 0x{} set for objects never handed out; cleared", clientId, b,
                        Long.toHexString(bits & ~handedOut));
                }
                for (int j = 0; j < view.replicaCount(b.region); j++)
                {
                    clear.next().faa(view.replica(b.region, j), b.blockOffset + BlockHeader.BITMAP_OFFSET
                        + w * BlockHeader.BITMAP_WORD_LENGTH, -bits);
                }
                if ((bits & handedOut) != 0)
                {
                    if (pending == pendingBlocks.length)
                    {
                        pendingBlocks = Arrays.copyOf(pendingBlocks, pending * 2);
                        pendingWords = Arrays.copyOf(pendingWords, pending * 2);
                        pendingBits = Arrays.copyOf(pendingBits, pending * 2);
                    }
                    pendingBlocks[pending] = k;
                    pendingWords[pending] = w;
                    pendingBits[pending++] = bits & handedOut;
                }
            }
        }
        // The bits must be clear on every replica before anyone can be handed the object again:
        // its next free would otherwise add to a bit still set.
        final int count = pending;
        return clear.complete().thenApply(ignored -> deliver(owned, count));
    }

    private int deliver(final OwnedBlock[] owned, final int pending)
    {
        int delivered = 0;
        for (int p = 0; p < pending; p++)
        {
            final OwnedBlock b = owned[pendingBlocks[p]];
            final SizeClassSlab s = slabs[b.sizeClass];
            final int w = pendingWords[p];
            for (long rest = pendingBits[p]; rest != 0; rest &= rest - 1)
            {
                s.deliver(b.address(w * BlockHeader.OBJECTS_PER_WORD + Long.numberOfTrailingZeros(rest)));
                delivered++;
            }
        }
        return delivered;
    }

    /** Bits of word {@code w} for objects below {@code mark}. */
    static long belowMark(final int w, final int mark)
    {
        final int n = mark - w * BlockHeader.OBJECTS_PER_WORD;
        return n <= 0 ? 0 : n >= BlockHeader.OBJECTS_PER_WORD ? -1L : (1L << n) - 1;
    }
}
