package io.dmkv.computenode.recovery;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.alloc.BackupEntries;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.log.LogWalk;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Recovers a crashed client from what it left on the memory nodes (docs/recovery.md):
 * <ol>
 * <li>reads its embedded log, every list from its head;</li>
 * <li>settles every slot whose backups hold one of its proposals, by SNAPSHOT's rules as a
 *     helper applies them (never a blind CAS of the primary), and frees the object the settled
 *     value replaced when the crashed client's proposal won;</li>
 * <li>releases the insert locks it held;</li>
 * <li>finds which objects of its blocks a slot still points at, waits the release grace, sets
 *     the free bit of every other object it may have handed out, and hands each block over
 *     (released to FREE if nothing in it is live);</li>
 * <li>clears its log heads.</li>
 * </ol>
 * Every step reads before it writes and changes only what it read, so a recovery that crashes
 * can be run again. Two recoveries of one client must not run at once (the coordinator's lock,
 * or the operator, sees to that).
 */
public final class ClientRecovery
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientRecovery.class);
    private static final int SCAN_ATTEMPTS = 50;
    private static final long SCAN_PAUSE_MS = 20;
    private static final int CAS_ATTEMPTS = 1_000;

    /** What a recovery found and did. */
    public record Report(int clientId, int logEntries, int committedEntries, int slotsSettled, int locksReleased,
        int blocksHandedOver, int blocksReleased, int objectsFreed, long nanos)
    {
        @Override
        public String toString()
        {
            return "client " + clientId + ": " + logEntries + " log entries (" + committedEntries + " committed), "
                + slotsSettled + " slots settled, " + locksReleased + " insert locks released, " + blocksHandedOver
                + " blocks handed over, " + blocksReleased + " released, " + objectsFreed + " objects freed, in "
                + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
        }
    }

    private final ClusterView view;
    private final VerbsClient client;
    private final IndexScan scan;
    private final long graceMs;
    private final Duration heartbeatPeriod;
    /** Says, by a subtable's hash suffix, whether its FlexKV partition is proxied (its slots are not CASed here). */
    private volatile java.util.function.IntPredicate proxied = suffix -> false;

    /**
     * @param graceMs how long to wait after finding the live objects before freeing the others:
     *                longer than a live client takes to post the frees it released (its reclaim
     *                period), so a free already decided lands first and is not made twice.
     */
    public ClientRecovery(final ClusterView view, final VerbsClient client, final IndexDirectory directory,
        final long graceMs, final Duration heartbeatPeriod)
    {
        this.view = view;
        this.client = client;
        this.scan = new IndexScan(view, client, directory);
        this.graceMs = graceMs;
        this.heartbeatPeriod = heartbeatPeriod;
    }

    /**
     * In a FlexKV cluster: {@code bySuffix} tells, from a subtable's hash suffix, whether its
     * partition is proxied (or being handed over). Such slots are written only by their proxy
     * (docs/flexkv.md §5), so the settle step leaves them alone: a proxied write is on every index
     * replica before it is acknowledged, and the liveness pass still reads them.
     */
    public void proxiedPartitions(final java.util.function.IntPredicate bySuffix)
    {
        proxied = bySuffix;
    }

    /**
     * Recovers {@code clientId}, which must be dead (or fenced); idempotent.
     *
     * @throws ClientAliveException if its heartbeat moved while recovery watched it (it runs).
     */
    public Report recover(final int clientId)
    {
        BlockAllocationTable.validateClientId(clientId);
        if (!Heartbeat.isSilent(view, client, clientId, heartbeatPeriod))
        {
            throw new ClientAliveException("client " + clientId + " is alive: its heartbeat moved in the last "
                + heartbeatPeriod.toMillis() * Heartbeat.SILENT_PERIODS + " ms; only a client that has stopped can be"
                + " recovered");
        }
        final long start = System.nanoTime();
        final List<LogWalk.Entry> log = LogWalk.read(view, client, clientId);
        int committed = 0;
        for (final LogWalk.Entry e : log)
        {
            committed += e.committed() ? 1 : 0;
        }
        final BlockTableScan table = BlockTableScan.read(view, client);
        final List<BlockTableScan.Block> owned = table.ownedBy(clientId);
        final Long2LongHashMap ownedIndex = BlockTableScan.index(owned);
        final int[] settled = new int[2];
        if (!scan.stablePass(true, () -> { }, (subtable, replicas, length) ->
            settleSubtable(clientId, table, ownedIndex, subtable, replicas, length, settled), SCAN_ATTEMPTS,
            SCAN_PAUSE_MS))
        {
            throw new IllegalStateException("recovery of client " + clientId + ": the index kept changing under "
                + SCAN_ATTEMPTS + " passes (splits running); run it again");
        }
        final LongHashSet live = new LongHashSet();
        if (!scan.stablePass(false, live::clear, (subtable, replicas, length) ->
            collectLive(table, ownedIndex, replicas[0], length, live), SCAN_ATTEMPTS, SCAN_PAUSE_MS))
        {
            throw new IllegalStateException("recovery of client " + clientId + ": no stable pass over the index; run"
                + " it again");
        }
        sleep(graceMs);
        int handedOver = 0;
        int released = 0;
        int freed = 0;
        for (final BlockTableScan.Block b : owned)
        {
            final int f = recoverBlock(clientId, table, b, live);
            if (f < 0)
            {
                released++;
            }
            else
            {
                handedOver++;
                freed += f;
            }
        }
        LogWalk.clearHeads(view, client, clientId);
        final Report report = new Report(clientId, log.size(), committed, settled[0], settled[1], handedOver,
            released, freed, System.nanoTime() - start);
        LOG.info("recovered {}", report);
        return report;
    }

    private void settleSubtable(final int clientId, final BlockTableScan table, final Long2LongHashMap owned,
        final long subtable, final UnsafeBuffer[] replicas, final int length, final int[] counts)
    {
        if (proxied.test(Bucket.suffix(replicas[0].getLong(0))))
        {
            return;
        }
        final int r = replicas.length;
        final long[] seen = new long[Math.max(1, r - 1)];
        for (int at = 0; at < length; at += Bucket.LENGTH)
        {
            final long header = replicas[0].getLong(at);
            if (Bucket.isInsertLocked(header) && Bucket.lockOwner(header) == clientId
                && cas(subtable + at, 0, header, header & ~Bucket.lockBits(header)))
            {
                counts[1]++;
            }
            for (int i = 0; i < Bucket.SLOT_COUNT; i++)
            {
                final int off = at + Bucket.slotOffset(i);
                final long primary = replicas[0].getLong(off);
                boolean ours = false;
                boolean differs = false;
                for (int j = 1; j < r; j++)
                {
                    seen[j - 1] = replicas[j].getLong(off);
                    differs |= seen[j - 1] != primary;
                    ours |= seen[j - 1] != primary && proposedBy(clientId, table, owned, seen[j - 1]);
                }
                if (differs && ours && settle(clientId, table, owned, subtable + off, primary, seen))
                {
                    counts[0]++;
                }
            }
        }
    }

    /**
     * Settles one slot as a SNAPSHOT helper: the winner among the backups' proposals goes to every
     * backup, then the primary is CASed from what it held. If the crashed client's proposal won
     * and this CAS made it, the replaced object is freed here (the crashed writer never did).
     */
    private boolean settle(final int clientId, final BlockTableScan table, final Long2LongHashMap owned,
        final long slot, final long primary, final long[] seen)
    {
        final int r = view.replicasOf(slot);
        final long winner = SnapshotReplicator.helpWinner(seen, r - 1, primary);
        for (int j = 1; j < r; j++)
        {
            if (seen[j - 1] != winner && !cas(slot, j, seen[j - 1], winner))
            {
                LOG.info("slot {} changed while it was being settled; a live writer has it",
                    GlobalAddress.toString(slot));
                return false;
            }
        }
        if (!cas(slot, 0, primary, winner))
        {
            return false;
        }
        if (proposedBy(clientId, table, owned, winner) && !Slot.isFree(primary) && !owns(table, owned, primary))
        {
            freeObject(Slot.address(primary), Slot.sizeClass(primary));
        }
        return true;
    }

    private void collectLive(final BlockTableScan table, final Long2LongHashMap owned, final UnsafeBuffer primary,
        final int length, final LongHashSet live)
    {
        for (int at = 0; at < length; at += Bucket.LENGTH)
        {
            for (int i = 0; i < Bucket.SLOT_COUNT; i++)
            {
                final long v = primary.getLong(at + Bucket.slotOffset(i));
                if (!Slot.isFree(v) && owns(table, owned, v))
                {
                    live.add(Slot.address(v));
                }
            }
        }
    }

    /**
     * Recovers one block of the crashed client. Its header's high-water mark is stale (a client
     * bumps the mark in its own memory and writes it only at handover), so every object of the
     * block is considered: the new mark is one past the last object that is live or has its free
     * bit set; every object below it that is neither gets its bit set; the mark is written on every
     * replica; then the block is handed over, or released to FREE if nothing in it is live.
     *
     * @return objects freed, or -1 if the block was released.
     */
    private int recoverBlock(final int clientId, final BlockTableScan table, final BlockTableScan.Block b,
        final LongHashSet live)
    {
        final int blockOffset = table.blockOffset(b);
        final long blockAt = GlobalAddress.pack(b.region(), blockOffset);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[BlockHeader.HEADER_LENGTH]);
        final VerbBatch h = new VerbBatch();
        view.read(h, blockAt, 0, header, 0, BlockHeader.HEADER_LENGTH);
        client.execute(h);
        int liveCount = 0;
        int freed = 0;
        if (BlockHeader.hasMagic(header, 0))
        {
            final int count = BlockHeader.objectCount(header, 0);
            final int size = BlockHeader.objectSize(header, 0);
            final int first = BlockHeader.firstObjectOffset(count);
            final int words = BlockHeader.bitmapWords(count);
            final UnsafeBuffer bitmap = new UnsafeBuffer(new byte[words * 8]);
            final VerbBatch m = new VerbBatch();
            view.read(m, blockAt + BlockHeader.BITMAP_OFFSET, 0, bitmap, 0, words * 8);
            client.execute(m);
            final boolean[] isLive = new boolean[count];
            int mark = 0;
            for (int i = 0; i < count; i++)
            {
                isLive[i] = live.contains(GlobalAddress.pack(b.region(), blockOffset + first + i * size));
                if (isLive[i])
                {
                    liveCount++;
                }
                if (isLive[i] || BlockHeader.isFreed(bitmap.getLong((i >>> 6) * 8), i))
                {
                    mark = i + 1;
                }
            }
            if (liveCount > 0)
            {
                final long[] nonLive = new long[words];
                for (int i = 0; i < mark; i++)
                {
                    if (!isLive[i])
                    {
                        nonLive[i >>> 6] |= 1L << i;
                    }
                }
                freed = setBits(blockAt + BlockHeader.BITMAP_OFFSET, nonLive);
                final UnsafeBuffer markBytes = new UnsafeBuffer(new byte[4]);
                markBytes.putInt(0, mark);
                final VerbBatch w = new VerbBatch();
                view.writeAll(w, blockAt + BlockHeader.HIGH_WATER_MARK_OFFSET, markBytes, 0, 4);
                client.execute(w);
            }
        }
        final long desired = liveCount == 0 ? BlockAllocationTable.released(b.entry())
            : BlockAllocationTable.handedOver(b.entry());
        final long entryAt = GlobalAddress.pack(b.region(), table.entryOffset(b.region(), b.blockIndex()));
        if (!cas(entryAt, 0, b.entry(), desired))
        {
            LOG.warn("recovery of client {}: block {} of region {} changed meanwhile; left as it is", clientId,
                b.blockIndex(), b.region());
            return 0;
        }
        // The primary may grant the block at once: the backups get the entry by CAS, never behind a later claim.
        final BackupEntries backups = new BackupEntries(client);
        for (int j = 1; j < view.replicasOf(entryAt); j++)
        {
            backups.add(view.replicaOf(entryAt, j), GlobalAddress.offset(entryAt), b.entry(), desired);
        }
        backups.run();
        return liveCount == 0 ? -1 : freed;
    }

    /** Sets the bits of {@code mask} that are not set yet, word by word, on every replica; returns bits set on the primary. */
    private int setBits(final long bitmap, final long[] mask)
    {
        int setOnPrimary = 0;
        final UnsafeBuffer words = new UnsafeBuffer(new byte[Math.max(8, mask.length * 8)]);
        for (int j = 0; j < view.replicasOf(bitmap); j++)
        {
            final VerbBatch b = new VerbBatch();
            view.read(b, bitmap, j, words, 0, mask.length * 8);
            client.execute(b);
            for (int w = 0; w < mask.length; w++)
            {
                long current = words.getLong(w * 8);
                for (int attempt = 0; (mask[w] & ~current) != 0; attempt++)
                {
                    if (attempt == CAS_ATTEMPTS)
                    {
                        throw new IllegalStateException("bitmap word " + GlobalAddress.toString(bitmap + w * 8L)
                            + " keeps changing");
                    }
                    final long missing = mask[w] & ~current;
                    final VerbBatch c = new VerbBatch();
                    final int at = view.cas(c, bitmap + w * 8L, j, current, current | missing);
                    client.execute(c);
                    if (c.casSucceeded(at))
                    {
                        setOnPrimary += j == 0 ? Long.bitCount(missing) : 0;
                        break;
                    }
                    current = c.result(at);
                }
            }
        }
        return setOnPrimary;
    }

    /** Frees an object of another client's block: one FAA of its bit on every replica. */
    private void freeObject(final long address, final int sizeClass)
    {
        final int g = GlobalAddress.regionId(address);
        final int blockSize = view.descriptor().blockSize();
        final int blockIndex = RegionLayout.blockIndexOf(view.firstBlockOffset(g), blockSize,
            view.blockCount(g), GlobalAddress.offset(address));
        if (blockIndex < 0 || sizeClass < 0)
        {
            LOG.warn("replaced object {} is in no block; not freed", GlobalAddress.toString(address));
            return;
        }
        final int blockOffset = RegionLayout.blockOffset(view.firstBlockOffset(g), blockSize,
            blockIndex);
        final int count = BlockHeader.objectsPerBlock(blockSize, SizeClasses.objectSize(sizeClass));
        final int i = BlockHeader.objectIndex(count, SizeClasses.objectSize(sizeClass),
            GlobalAddress.offset(address) - blockOffset);
        final VerbBatch b = new VerbBatch();
        final long word = GlobalAddress.pack(g, blockOffset + BlockHeader.wordOffsetFor(i));
        for (int j = 0; j < view.replicasOf(word); j++)
        {
            view.faa(b, word, j, BlockHeader.freeDelta(i));
        }
        client.execute(b);
    }

    private boolean cas(final long address, final int j, final long expected, final long desired)
    {
        final VerbBatch b = new VerbBatch();
        final int at = view.cas(b, address, j, expected, desired);
        client.execute(b);
        return b.casSucceeded(at);
    }

    /** True if {@code slot} points at an object in one of the blocks of {@code owned}. */
    private static boolean owns(final BlockTableScan table, final Long2LongHashMap owned, final long slot)
    {
        return !Slot.isFree(slot) && owned.containsKey(table.blockKeyOf(Slot.address(slot)));
    }

    /** True if {@code slot} is a value or tombstone that client {@code clientId} wrote. */
    private static boolean proposedBy(final int clientId, final BlockTableScan table, final Long2LongHashMap owned,
        final long slot)
    {
        return Slot.isTombstone(slot) ? Slot.tombstoneClient(slot) == clientId : owns(table, owned, slot);
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("recovery interrupted", e);
        }
    }
}
