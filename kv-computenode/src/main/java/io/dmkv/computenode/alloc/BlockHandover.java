package io.dmkv.computenode.alloc;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Block hand-over: a closing client leaves every block it owns for a later client to adopt (the
 * memory node's ALLOC_BLOCK adopts handed-over blocks before it claims free ones), so short-lived
 * clients do not leak memory-node space.
 *
 * <ol>
 *   <li>The objects the client <em>holds</em> but never gave out (reclaimed, pre-reserved as a
 *       class's next, or above the high-water mark) are collected from the size-class slabs. A
 *       held object just below the mark lowers the mark; every other held object below it gets
 *       its bitmap bit set (FAA on every replica), so it is free for the adopter. The new mark is
 *       written into the header on every replica.</li>
 *   <li>Only after that batch completes is the table entry CASed on the primary from OWNED to
 *       HANDED_OVER, then on the backups ({@link BackupEntries}: an adopter's claim may reach them
 *       first): an adopter never sees a handed-over block whose mark or bitmap has not landed.</li>
 *   <li>A block with nothing live (the mark drops to 0) is released to FREE instead, so any size
 *       class can use it again.</li>
 * </ol>
 * Blocking, and run once, by {@link SlabAllocator#close()} after allocation has stopped.
 */
final class BlockHandover
{
    private static final Logger LOG = LoggerFactory.getLogger(BlockHandover.class);

    /** CASes per close batch. */
    private static final int CAS_PER_BATCH = 1024;

    private final ClusterView view;
    private final VerbsClient client;
    private final int clientId;
    private final int blockSize;
    private final BlockSource source;
    private final OwnedBlocks blocks;
    private final AtomicLong handedOver = new AtomicLong();
    private final AtomicLong released = new AtomicLong();

    BlockHandover(final ClusterView view, final VerbsClient client, final int clientId, final BlockSource source, final OwnedBlocks blocks)
    {
        this.view = view;
        this.client = client;
        this.clientId = clientId;
        this.blockSize = source.blockSize();
        this.source = source;
        this.blocks = blocks;
    }

    long handedOverCount()
    {
        return handedOver.get();
    }

    long releasedCount()
    {
        return released.get();
    }

    /**
     * Hands over or releases every owned block, taking back what {@code slabs} hold. Every slab
     * is closed and no fetch is in flight.
     */
    void leaveBlocks(final SizeClassSlab[] slabs)
    {
        final VerbRunner runner = VerbRunner.blocking(client);
        final OwnedBlock[] owned = blocks.snapshot();
        final Long2ObjectHashMap<OwnedBlock> byKey = new Long2ObjectHashMap<>();
        final Map<OwnedBlock, long[]> held = new IdentityHashMap<>();
        for (final OwnedBlock b : owned)
        {
            byKey.put(b.key(), b);
            held.put(b, new long[BlockHeader.bitmapWords(b.objectCount)]);
        }
        for (final SizeClassSlab s : slabs)
        {
            s.surrender(address -> markHeld(byKey, held, address));
        }
        final int[] marks = new int[owned.length];
        final long[] desired = new long[owned.length];
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Math.max(1, owned.length) * Long.BYTES]);
        for (int k = 0; k < owned.length; k++)
        {
            final OwnedBlock b = owned[k];
            if (b.quarantined)
            {
                continue;
            }
            final long[] h = held.get(b);
            int mark = b.highWaterMark();
            // Held objects just below the mark need no bit: lowering the mark frees them.
            while (mark > 0 && (h[(mark - 1) >>> 6] & (1L << (mark - 1))) != 0)
            {
                mark--;
            }
            marks[k] = mark;
            desired[k] = mark == 0 ? BlockAllocationTable.released(b.entry) : BlockAllocationTable.handedOver(b.entry);
            if (mark == 0)
            {
                continue;
            }
            scratch.putInt(k * Long.BYTES, mark);
            for (int j = 0; j < view.replicaCount(b.region); j++)
            {
                runner.next().write(view.replica(b.region, j), b.blockOffset + BlockHeader.HIGH_WATER_MARK_OFFSET,
                    scratch, k * Long.BYTES, Integer.BYTES);
            }
            for (int w = 0; w < h.length; w++)
            {
                final long freed = h[w] & BitmapReclaimer.belowMark(w, mark);
                if (freed != 0)
                {
                    for (int j = 0; j < view.replicaCount(b.region); j++)
                    {
                        runner.next().faa(view.replica(b.region, j), b.blockOffset + BlockHeader.BITMAP_OFFSET
                            + w * BlockHeader.BITMAP_WORD_LENGTH, freed);
                    }
                }
            }
        }
        // Header and bitmap land on every replica before the table says the block may be adopted.
        runner.flush();
        final boolean[] done = casEntries(owned, desired);
        // The primary may grant a released block at once: the backups get the entry by CAS, never behind a later claim.
        final BackupEntries backups = new BackupEntries(client);
        for (int k = 0; k < owned.length; k++)
        {
            if (!done[k])
            {
                continue;
            }
            final OwnedBlock b = owned[k];
            for (int j = 1; j < view.replicaCount(b.region); j++)
            {
                backups.add(view.replica(b.region, j), source.entryOffset(b.region, b.blockIndex), b.entry, desired[k]);
            }
            (marks[k] == 0 ? released : handedOver).incrementAndGet();
        }
        backups.run();
        blocks.clear();
        LOG.debug("client {} closed: {} blocks handed over, {} released", clientId, handedOver.get(), released.get());
    }

    private void markHeld(final Long2ObjectHashMap<OwnedBlock> byKey, final Map<OwnedBlock, long[]> held,
        final long address)
    {
        final int g = GlobalAddress.regionId(address);
        final int blockIndex = RegionLayout.blockIndexOf(view.firstBlockOffset(g), blockSize, view.blockCount(g),
            GlobalAddress.offset(address));
        final OwnedBlock b = byKey.get(OwnedBlock.key(g, blockIndex));
        if (b == null)
        {
            throw new IllegalStateException("client " + clientId + " holds object " + GlobalAddress.toString(address)
                + " of no block it owns");
        }
        final int i = b.indexOf(address);
        held.get(b)[i >>> 6] |= 1L << i;
    }

    /** CASes every block's entry on its primary; true where it was still this client's entry. */
    private boolean[] casEntries(final OwnedBlock[] owned, final long[] desired)
    {
        final boolean[] done = new boolean[owned.length];
        final VerbBatch b = new VerbBatch();
        final int[] verbOf = new int[owned.length];
        int k = 0;
        while (k < owned.length)
        {
            b.reset();
            final int first = k;
            while (k < owned.length && b.size() < CAS_PER_BATCH)
            {
                final OwnedBlock block = owned[k];
                verbOf[k] = block.quarantined ? -1
                    : b.cas(view.replica(block.region, 0), source.entryOffset(block.region, block.blockIndex), block.entry,
                        desired[k]);
                k++;
            }
            if (!b.isEmpty())
            {
                client.execute(b);
            }
            for (int i = first; i < k; i++)
            {
                if (verbOf[i] < 0)
                {
                    continue;
                }
                done[i] = b.casSucceeded(verbOf[i]);
                if (!done[i])
                {
                    LOG.warn("client {}: {} changed behind its owner's back (now {}); left as it is", clientId,
                        owned[i], BlockAllocationTable.toString(b.result(verbOf[i])));
                }
            }
        }
        return done;
    }
}
