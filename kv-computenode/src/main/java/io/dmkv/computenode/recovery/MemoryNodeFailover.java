package io.dmkv.computenode.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.replication.SlotSettleRule;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The repair after a memory node died (docs/recovery.md, "Fail-over"), done under the region map
 * that leaves the node out, before that map is published:
 * <ol>
 * <li>every index slot of a region whose primary was on the dead node is settled from the live
 * replicas by the {@link SlotSettleRule}, and the settled value is CASed onto every live replica
 * that holds another, so the replica promoted to primary agrees with the others;</li>
 * <li>the promoted replica's bucket headers lose any insert-lock bits: insert locks are CASed on
 * the primary only, so a backup carries lock bits only as a copy's stale image of the primary's
 * header (re-replication copies whole regions), whose holder released the lock on the primary
 * long ago; promoted, it would stand as a lock nobody releases;</li>
 * <li>the block allocation table of each such region is made the same on every live replica:
 * the primary's table was the truth and the backups its mirrors, so an entry that differs takes
 * the newest state any survivor saw (highest generation; at one generation, the owner's
 * hand-over or release after the claim).</li>
 * </ol>
 * Free bitmaps are left as they are: frees and reuses are FAAs (additions, which commute), so
 * every live replica ends with the same words once the live clients' FAAs have landed; a CAS
 * that copied one replica's word to another would lose an FAA landing in between.
 * A region whose every replica is on dead nodes is lost: the map keeps naming its last replica,
 * and the report lists it. Idempotent: a second run finds nothing to change.
 */
public final class MemoryNodeFailover
{
    private static final Logger LOG = LoggerFactory.getLogger(MemoryNodeFailover.class);
    private static final int SCAN_ATTEMPTS = 50;
    private static final int SETTLE_ATTEMPTS = 20;

    /** What one repair did. */
    public record Report(int node, RegionMap next, int regionsPromoted, int slotsSettled, int tableEntriesRepaired,
        List<Integer> lostRegions, long nanos)
    {
        @Override
        public String toString()
        {
            return "fail-over of memory node " + node + ": map epoch " + next.epoch() + ", " + regionsPromoted
                + " regions with a new primary, " + slotsSettled + " slots settled, " + tableEntriesRepaired
                + " block table entries repaired, lost regions " + lostRegions + ", in "
                + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
        }
    }

    private final ClusterView view;
    private final VerbsClient client;
    private final SlotSettleRule rule;

    /**
     * @param view the repairing client's view (its routing is not changed; the repair works on a copy).
     */
    public MemoryNodeFailover(final ClusterView view, final VerbsClient client, final SlotSettleRule rule)
    {
        this.view = view;
        this.client = client;
        this.rule = rule;
    }

    /**
     * Repairs what memory node {@code dead} leaves behind under {@code current} and returns the map
     * to publish next (epoch + 1).
     *
     * @param deadNodes every node known dead now ({@code dead} included): a region left only on
     *                  those is reported lost.
     */
    public Report repair(final RegionMap current, final int dead, final Set<Integer> deadNodes)
    {
        final long start = System.nanoTime();
        // Survivors re-keyed the regions an earlier fail-over changed: learn their keys first.
        client.refreshKeys(n -> !deadNodes.contains(n));
        final RegionMap next = current.withoutNode(dead, true);
        final boolean[] promoted = new boolean[next.regionCount()];
        final List<Integer> lost = new ArrayList<>();
        int promotedCount = 0;
        for (int g = 0; g < next.regionCount(); g++)
        {
            if (lostAll(next, g, deadNodes))
            {
                lost.add(g);
                continue;
            }
            if (current.primary(g) == dead)
            {
                promoted[g] = true;
                promotedCount++;
            }
        }
        final ClusterView after = ClusterBootstrap.rerouted(client, view, next);
        int slots = 0;
        int entries = 0;
        if (promotedCount > 0)
        {
            if (lost.contains(RegionLayout.ROOT_REGION_ID))
            {
                throw new IllegalStateException("the root region (the index directory and client log heads) lost"
                    + " every replica with memory node " + dead + ": the index cannot be repaired");
            }
            slots = settleSlots(after, promoted);
            for (int g = 0; g < promoted.length; g++)
            {
                entries += promoted[g] && after.replicaCount(g) > 1 ? repairTable(after, g) : 0;
            }
        }
        final Report report = new Report(dead, next, promotedCount, slots, entries, List.copyOf(lost),
            System.nanoTime() - start);
        LOG.info("{}", report);
        return report;
    }

    private static boolean lostAll(final RegionMap map, final int g, final Set<Integer> deadNodes)
    {
        for (final int n : map.replicas(g))
        {
            if (!deadNodes.contains(n))
            {
                return false;
            }
        }
        return true;
    }

    private int settleSlots(final ClusterView after, final boolean[] promoted)
    {
        // Only the regions whose primary changed: the others' slots are read where they are (and a
        // lost region's replicas answer nothing).
        final IndexScan scan = new IndexScan(after, client, new IndexDirectory(after, client), g -> promoted[g]);
        final CommitLogReader log = new CommitLogReader(after);
        final int[] settled = new int[1];
        final boolean stable = scan.stablePass(true, () -> { }, (subtable, replicas, length) ->
        {
            if (!promoted[GlobalAddress.regionId(subtable)])
            {
                return;
            }
            clearStaleLocks(after, subtable, replicas[0], length);
            if (replicas.length < 2)
            {
                return;
            }
            final long[] live = new long[replicas.length];
            for (int at = 0; at < length; at += Bucket.LENGTH)
            {
                for (int i = 0; i < Bucket.SLOT_COUNT; i++)
                {
                    final int off = at + Bucket.slotOffset(i);
                    boolean differs = false;
                    for (int j = 0; j < replicas.length; j++)
                    {
                        live[j] = replicas[j].getLong(off);
                        differs |= live[j] != live[0];
                    }
                    if (differs && settle(after, subtable + off, live, log))
                    {
                        settled[0]++;
                    }
                }
            }
        }, SCAN_ATTEMPTS, 20);
        if (!stable)
        {
            throw new IllegalStateException("fail-over: the index kept changing (splits) during " + SCAN_ATTEMPTS
                + " passes; the repair runs again");
        }
        return settled[0];
    }

    /**
     * Takes the insert-lock bits off every header of the promoted replica ({@code promoted}, as just
     * read) that carries some. Nobody routes to that replica as primary before the new map is out, so
     * a CAS from the value read lands unless a split's header rewrite got there first (it writes
     * backups plain): either way no lock bits are left.
     */
    private void clearStaleLocks(final ClusterView after, final long subtable, final UnsafeBuffer promoted,
        final int length)
    {
        final VerbBatch b = new VerbBatch();
        for (int at = 0; at < length; at += Bucket.LENGTH)
        {
            final long header = promoted.getLong(at + Bucket.HEADER_OFFSET);
            if (Bucket.lockBits(header) != 0)
            {
                after.cas(b, subtable + at + Bucket.HEADER_OFFSET, 0, header, header & ~Bucket.lockBits(header));
                LOG.info("fail-over: bucket {} of the promoted replica carried a stale insert lock of client {};"
                    + " cleared", GlobalAddress.toString(subtable + at), Bucket.lockOwner(header));
            }
        }
        if (!b.isEmpty())
        {
            client.execute(b);
        }
    }

    /** Settles one slot whose live replicas disagree; re-reads and tries again when a CAS finds it changed. */
    private boolean settle(final ClusterView after, final long slot, final long[] live, final SlotSettleRule.CommitLog log)
    {
        final UnsafeBuffer words = new UnsafeBuffer(new byte[8 * live.length]);
        for (int attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++)
        {
            final long winner = rule.settle(live, live.length, log);
            final VerbBatch b = new VerbBatch();
            final int[] at = new int[live.length];
            for (int j = 0; j < live.length; j++)
            {
                at[j] = live[j] == winner ? -1 : after.cas(b, slot, j, live[j], winner);
            }
            client.execute(b);
            boolean done = true;
            for (int j = 0; j < live.length; j++)
            {
                done &= at[j] < 0 || b.casSucceeded(at[j]);
            }
            if (done)
            {
                return true;
            }
            final VerbBatch r = new VerbBatch();
            for (int j = 0; j < live.length; j++)
            {
                after.read(r, slot, j, words, 8 * j, 8);
            }
            client.execute(r);
            boolean differs = false;
            for (int j = 0; j < live.length; j++)
            {
                live[j] = words.getLong(8 * j);
                differs |= live[j] != live[0];
            }
            if (!differs)
            {
                return true;
            }
        }
        throw new IllegalStateException("fail-over: slot " + GlobalAddress.toString(slot) + " kept changing while it"
            + " was settled; the repair runs again");
    }

    /**
     * Makes region {@code g}'s block allocation table the same on every live replica.
     *
     * @return entries changed on some replica.
     */
    private int repairTable(final ClusterView after, final int g)
    {
        final int n = after.replicaCount(g);
        final int length = RegionLayout.batLength(after.blockCount(g));
        final long table = GlobalAddress.pack(g, after.batOffset(g));
        final UnsafeBuffer[] copies = new UnsafeBuffer[n];
        final VerbBatch b = new VerbBatch();
        for (int j = 0; j < n; j++)
        {
            copies[j] = new UnsafeBuffer(new byte[Math.max(8, length)]);
            after.read(b, table, j, copies[j], 0, length);
        }
        client.execute(b);
        int repaired = 0;
        final VerbBatch fix = new VerbBatch();
        for (int i = 0; i < after.blockCount(g); i++)
        {
            final int off = BlockAllocationTable.entryOffset(i);
            long newest = copies[0].getLong(off);
            boolean differs = false;
            for (int j = 1; j < n; j++)
            {
                final long e = copies[j].getLong(off);
                differs |= e != newest;
                newest = BlockAllocationTable.newer(e, newest);
            }
            if (!differs)
            {
                continue;
            }
            for (int j = 0; j < n; j++)
            {
                final long e = copies[j].getLong(off);
                if (e != newest)
                {
                    after.cas(fix, table + off, j, e, newest);
                }
            }
            repaired++;
        }
        if (!fix.isEmpty())
        {
            client.execute(fix);
        }
        return repaired;
    }

    /** Reads a candidate's object from the new primary and checks what its committed log entry replaced. */
    private final class CommitLogReader implements SlotSettleRule.CommitLog
    {
        private final ClusterView after;
        private final Crc32cDigest digest = new Crc32cDigest();
        private final UnsafeBuffer object = new UnsafeBuffer(new byte[Slot.MAX_OBJECT_LENGTH]);

        CommitLogReader(final ClusterView after)
        {
            this.after = after;
        }

        @Override
        public boolean replaced(final long newer, final long older)
        {
            if (Slot.isFree(newer) || !Slot.isWellFormed(newer))
            {
                return false;
            }
            final int length = Slot.objectLength(newer);
            final VerbBatch b = new VerbBatch();
            after.read(b, Slot.address(newer), 0, object, 0, length);
            client.execute(b);
            if (KvObject.validate(object, 0, length, digest) != ObjectStatus.OK)
            {
                return false;
            }
            final int e = KvObject.entryOffset(object, 0);
            return LogEntry.isCommitted(object, e, digest) && LogEntry.oldValue(object, e) == older;
        }
    }
}
