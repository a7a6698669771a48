package io.dmkv.computenode.recovery;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.log.LogWalk;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Checks a cluster's consistency (docs/recovery.md, "Verify"): every slot on every replica
 * agrees with the primary and points at a fully written object whose checksum and key hash
 * match; no insert lock or frozen header is held by a client that is gone; every block is free,
 * handed over or owned by a live client; no object a slot points at has its free bit set.
 * A slot or header that looks wrong on a live cluster may be an operation in flight, so a
 * problem counts only if a second pass, after {@code settleMs}, finds it unchanged.
 */
public final class ClusterVerifier
{
    private static final int SCAN_ATTEMPTS = 50;

    private final ClusterView view;
    private final VerbsClient client;
    private final IndexScan scan;

    public ClusterVerifier(final ClusterView view, final VerbsClient client, final IndexDirectory directory)
    {
        this.view = view;
        this.client = client;
        this.scan = new IndexScan(view, client, directory);
    }

    /**
     * Verifies; {@code live} is the set of client ids known alive (null in static mode, where
     * only ids without log heads count as gone).
     *
     * @return the problems found, empty if none; each names what is wrong and where.
     */
    public List<String> verify(final Set<Integer> live, final long settleMs)
    {
        final Map<String, String> first = passProblems(live);
        if (first.isEmpty())
        {
            return List.of();
        }
        try
        {
            Thread.sleep(settleMs);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        final Map<String, String> second = passProblems(live);
        final List<String> out = new ArrayList<>();
        for (final Map.Entry<String, String> e : second.entrySet())
        {
            if (e.getValue().equals(first.get(e.getKey())))
            {
                out.add(e.getValue());
            }
        }
        return out;
    }

    private Map<String, String> passProblems(final Set<Integer> live)
    {
        final Map<String, String> problems = new HashMap<>();
        final BlockTableScan table = BlockTableScan.read(view, client);
        final Long2LongHashMap blocks = BlockTableScan.index(table.blocks());
        final List<Long> pointed = new ArrayList<>();
        final Crc32cDigest digest = new Crc32cDigest();
        final UnsafeBuffer object = new UnsafeBuffer(new byte[Slot.MAX_OBJECT_LENGTH]);
        final boolean stable = scan.stablePass(true, () ->
        {
            problems.clear();
            pointed.clear();
        }, (subtable, replicas, length) ->
        {
            for (int at = 0; at < length; at += Bucket.LENGTH)
            {
                final long header = replicas[0].getLong(at);
                final String where = GlobalAddress.toString(subtable + at);
                if (Bucket.isInsertLocked(header) && gone(Bucket.lockOwner(header), live))
                {
                    problems.put("lock " + where, "bucket " + where + ": insert lock held by client "
                        + Bucket.lockOwner(header) + ", which is gone");
                }
                if (Bucket.isFrozen(header))
                {
                    problems.put("frozen " + where, "bucket " + where + ": frozen by a split that did not finish");
                }
                for (int i = 0; i < Bucket.SLOT_COUNT; i++)
                {
                    final int off = at + Bucket.slotOffset(i);
                    final long p = replicas[0].getLong(off);
                    final String slot = GlobalAddress.toString(subtable + off);
                    for (int j = 1; j < replicas.length; j++)
                    {
                        if (replicas[j].getLong(off) != p)
                        {
                            problems.put("slot " + slot, "slot " + slot + ": replica " + j + " holds "
                                + Slot.toString(replicas[j].getLong(off)) + ", the primary " + Slot.toString(p));
                        }
                    }
                    if (Slot.isFree(p))
                    {
                        continue;
                    }
                    final String bad = checkObject(p, object, digest);
                    if (bad != null)
                    {
                        problems.put("object " + slot, "slot " + slot + " (" + Slot.toString(p) + "): " + bad);
                    }
                    pointed.add(p);
                }
            }
        }, SCAN_ATTEMPTS, 20);
        if (!stable)
        {
            problems.put("unstable", "the index kept changing (splits) during " + SCAN_ATTEMPTS + " passes");
        }
        for (final BlockTableScan.Block b : table.blocks())
        {
            if (BlockAllocationTable.state(b.entry()) == BlockAllocationTable.OWNED
                && gone(BlockAllocationTable.owner(b.entry()), live))
            {
                problems.put("block " + b.key(), "block " + b.blockIndex() + " of region " + b.region()
                    + " is owned by client " + BlockAllocationTable.owner(b.entry()) + ", which is gone (kv recover"
                    + " --client " + BlockAllocationTable.owner(b.entry()) + ")");
            }
        }
        checkNotFree(table, blocks, pointed, problems);
        return problems;
    }

    private boolean gone(final int clientId, final Set<Integer> live)
    {
        if (live != null)
        {
            return !live.contains(clientId);
        }
        return clientId < 1 || clientId > view.descriptor().maxClients() || !LogWalk.hasHeads(view, client, clientId);
    }

    private String checkObject(final long slot, final UnsafeBuffer object, final Crc32cDigest digest)
    {
        final int length = Slot.objectLength(slot);
        final long address = Slot.address(slot);
        for (int j = 0; j < view.replicasOf(address); j++)
        {
            final VerbBatch b = new VerbBatch();
            view.read(b, address, j, object, 0, length);
            client.execute(b);
            final ObjectStatus status = KvObject.validate(object, 0, length, digest);
            if (status != ObjectStatus.OK)
            {
                return "object on replica " + j + " is " + status;
            }
            final long hash = KeyHash.hash(object, KvObject.keyOffset(0), KvObject.keyLength(object, 0));
            final int op = LogEntry.op(object, KvObject.entryOffset(object, 0));
            if (Slot.hashSuffix(slot) != (int)(hash & 0xFF) || Slot.fingerprint(slot) != KeyHash.fingerprint(hash)
                || op == LogEntry.OP_DELETE)
            {
                return "object on replica " + j + " holds a key that does not hash to this slot";
            }
        }
        return null;
    }

    private void checkNotFree(final BlockTableScan table, final Long2LongHashMap blocks, final List<Long> pointed,
        final Map<String, String> problems)
    {
        final UnsafeBuffer header = new UnsafeBuffer(new byte[BlockHeader.HEADER_LENGTH + 8]);
        for (final long slot : pointed)
        {
            final long key = table.blockKeyOf(Slot.address(slot));
            if (key < 0 || !blocks.containsKey(key))
            {
                problems.put("noblock " + slot, "object " + GlobalAddress.toString(Slot.address(slot))
                    + " is in no block");
                continue;
            }
            final BlockTableScan.Block b = table.blocks().get((int)blocks.get(key));
            final int blockOffset = table.blockOffset(b);
            final VerbBatch h = new VerbBatch();
            view.read(h, GlobalAddress.pack(b.region(), blockOffset), 0, header, 0, BlockHeader.HEADER_LENGTH);
            client.execute(h);
            if (!BlockHeader.hasMagic(header, 0))
            {
                problems.put("unformatted " + slot, "object " + GlobalAddress.toString(Slot.address(slot))
                    + " is in a block without a header (" + BlockAllocationTable.toString(b.entry()) + ")");
                continue;
            }
            final int count = BlockHeader.objectCount(header, 0);
            final int i = (GlobalAddress.offset(Slot.address(slot)) - blockOffset - BlockHeader.firstObjectOffset(count))
                / BlockHeader.objectSize(header, 0);
            final VerbBatch w = new VerbBatch();
            view.read(w, GlobalAddress.pack(b.region(), blockOffset + BlockHeader.wordOffsetFor(i)), 0, header,
                BlockHeader.HEADER_LENGTH, 8);
            client.execute(w);
            if (BlockHeader.isFreed(header.getLong(BlockHeader.HEADER_LENGTH), i))
            {
                problems.put("free " + slot, "object " + GlobalAddress.toString(Slot.address(slot))
                    + " is pointed at by a slot and marked free");
            }
        }
    }
}
