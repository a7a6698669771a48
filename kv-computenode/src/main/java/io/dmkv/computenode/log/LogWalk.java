package io.dmkv.computenode.log;

import java.util.ArrayList;
import java.util.List;

import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Reads a client's embedded log: its per-size-class heads from the root region, then each list
 * forward along the next pointers, the whole list and not only its last entry. A step is taken
 * only to an object whose used bit is set, whose checksum holds and whose prev pointer points
 * back at the object the walk came from; the first object failing any of these ends the list
 * (the object the client had reserved next, never written, or one reused since). A list is
 * followed for at most {@link #MAX_STEPS} objects and never through an object twice.
 */
public final class LogWalk
{
    /** Longest list followed. */
    public static final int MAX_STEPS = 1 << 20;

    /** One log entry read back: the object, its key's hash, op code and commit. */
    public record Entry(long address, int sizeClass, int op, long keyHash, boolean committed, long oldValue)
    {
    }

    private LogWalk()
    {
    }

    /** True if {@code clientId}'s head record holds any head (the client did not close cleanly). */
    public static boolean hasHeads(final ClusterView view, final VerbsClient client, final int clientId)
    {
        final UnsafeBuffer heads = readHeads(view, client, clientId);
        for (int sc = 0; sc < SizeClasses.COUNT; sc++)
        {
            if (heads.getLong(sc * ClientLogHeads.HEAD_LENGTH) != 0)
            {
                return true;
            }
        }
        return false;
    }

    /** Every entry reachable from {@code clientId}'s heads, list by list, in allocation order. */
    public static List<Entry> read(final ClusterView view, final VerbsClient client, final int clientId)
    {
        final UnsafeBuffer heads = readHeads(view, client, clientId);
        final List<Entry> out = new ArrayList<>();
        final Crc32cDigest digest = new Crc32cDigest();
        final UnsafeBuffer object = new UnsafeBuffer(new byte[SizeClasses.objectSize(SizeClasses.COUNT - 1)]);
        for (int sc = 0; sc < SizeClasses.COUNT; sc++)
        {
            long at = heads.getLong(sc * ClientLogHeads.HEAD_LENGTH);
            long prev = 0;
            final LongHashSet visited = new LongHashSet();
            final int size = SizeClasses.objectSize(sc);
            for (int step = 0; at != 0 && step < MAX_STEPS && visited.add(at); step++)
            {
                final VerbBatch b = new VerbBatch();
                view.read(b, at, 0, object, 0, size);
                client.execute(b);
                if (KvObject.validate(object, 0, size, digest) != ObjectStatus.OK)
                {
                    break;
                }
                final int e = KvObject.entryOffset(object, 0);
                if (step > 0 && LogEntry.prev(object, e) != prev)
                {
                    break;
                }
                final long hash = KeyHash.hash(object, KvObject.keyOffset(0), KvObject.keyLength(object, 0));
                out.add(new Entry(at, sc, LogEntry.op(object, e), hash, LogEntry.isCommitted(object, e, digest),
                    LogEntry.oldValue(object, e)));
                prev = at;
                at = LogEntry.next(object, e);
            }
        }
        return out;
    }

    /** Zeroes {@code clientId}'s head record on every replica: its log is recovered (or it closed). */
    public static void clearHeads(final ClusterView view, final VerbsClient client, final int clientId)
    {
        final UnsafeBuffer zeros = new UnsafeBuffer(new byte[ClientLogHeads.RECORD_LENGTH]);
        final VerbBatch b = new VerbBatch();
        final long at = (long)view.clientLogHeadsOffset() + ClientLogHeads.recordOffset(clientId);
        for (int j = 0; j < view.replicaCount(RegionLayout.ROOT_REGION_ID); j++)
        {
            b.write(view.replica(RegionLayout.ROOT_REGION_ID, j), at, zeros, 0, ClientLogHeads.RECORD_LENGTH);
        }
        client.execute(b);
    }

    private static UnsafeBuffer readHeads(final ClusterView view, final VerbsClient client, final int clientId)
    {
        final UnsafeBuffer heads = new UnsafeBuffer(new byte[ClientLogHeads.RECORD_LENGTH]);
        final VerbBatch b = new VerbBatch();
        b.read(view.replica(RegionLayout.ROOT_REGION_ID, 0),
            (long)view.clientLogHeadsOffset() + ClientLogHeads.recordOffset(clientId), heads, 0,
            ClientLogHeads.RECORD_LENGTH);
        client.execute(b);
        return heads;
    }
}
