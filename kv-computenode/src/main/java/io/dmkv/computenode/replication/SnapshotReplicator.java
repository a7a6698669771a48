package io.dmkv.computenode.replication;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.KvTimeoutException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * FUSEE's SNAPSHOT replication of one index slot over r replicas (primary 0, backups 1..r-1).
 * A writer that read {@code vOld} from the primary CASes every backup from {@code vOld} to its
 * {@code vNew} and counts what came back:
 * <ul>
 * <li>Rule 1: every backup took vNew — the writer won.</li>
 * <li>Rule 2: a majority of the backups took vNew — the writer won; it moves the dissenting
 * backups to vNew first. (A majority of r−1 backups that is not all of them needs r ≥ 4.)</li>
 * <li>Rule 3: no value holds a majority — the writer re-reads the primary; if it still holds
 * vOld, the smallest proposed value wins, and its writer moves every backup to it.</li>
 * </ul>
 * Only the winner CASes the primary (the caller does, in its last batch). Readers read the
 * primary only. Losers wait for the primary to change, and complete a stalled winner's primary
 * CAS themselves after a timeout, so a crashed winner never blocks them forever.
 */
public final class SnapshotReplicator
{
    private static final int MAX_FIX_ATTEMPTS = 1_000;

    private final ClusterView view;
    private final VerbsClient client;
    private final int r;
    private final NanoClock clock;
    private final long helpAfterNs;
    private final long giveUpAfterNs;
    private final SnapshotStats stats = new SnapshotStats();

    /**
     * @param helpAfterNs   how long a loser waits for the winner's primary CAS before completing it.
     * @param giveUpAfterNs how long a loser waits at most before failing with a timeout.
     */
    public SnapshotReplicator(final ClusterView view, final VerbsClient client, final NanoClock clock, final long helpAfterNs,
        final long giveUpAfterNs)
    {
        this.view = view;
        this.client = client;
        this.r = view.replication();
        this.clock = clock;
        this.helpAfterNs = helpAfterNs;
        this.giveUpAfterNs = giveUpAfterNs;
    }

    public SnapshotStats stats()
    {
        return stats;
    }

    public int replication()
    {
        return r;
    }

    private RemoteRegion replica(final long slotAddress, final int j)
    {
        return view.replicaOf(slotAddress, j);
    }

    private static long offset(final long slotAddress)
    {
        return GlobalAddress.offset(slotAddress);
    }

    /** Appends the backup CASes (r−1 of them) to {@code b}; returns the index of the first, or -1 for r = 1. */
    public int propose(final VerbBatch b, final long slotAddress, final long vOld, final long vNew)
    {
        int first = -1;
        for (int j = 1; j < r; j++)
        {
            final int i = b.cas(replica(slotAddress, j), offset(slotAddress), vOld, vNew);
            if (first < 0)
            {
                first = i;
            }
        }
        return first;
    }

    /**
     * Decides after the backup CASes of {@link #propose} ran (in {@code b}). May post further
     * batches: fixing dissenting backups, re-reading the primary.
     *
     * @return true if this writer won and must CAS the primary.
     */
    public boolean decide(final VerbBatch b, final int first, final long slotAddress, final long vOld, final long vNew,
        final Scratch scratch)
    {
        if (r == 1)
        {
            stats.primaryOnly.increment();
            return true;
        }
        final int backups = r - 1;
        final long[] seen = scratch.seen;
        int mine = 0;
        for (int j = 0; j < backups; j++)
        {
            final long old = b.result(first + j);
            seen[j] = old == vOld ? vNew : old;
            if (old == vOld)
            {
                mine++;
            }
        }
        if (mine == backups)
        {
            stats.rule1.increment();
            return true;
        }
        if (mine > backups / 2)
        {
            fixBackups(slotAddress, seen, backups, vNew, scratch);
            stats.rule2.increment();
            return true;
        }
        // Does any other value hold a majority?
        for (int j = 0; j < backups; j++)
        {
            int count = 0;
            for (int k = 0; k < backups; k++)
            {
                if (seen[k] == seen[j])
                {
                    count++;
                }
            }
            if (seen[j] != vNew && count > backups / 2)
            {
                stats.losses.increment();
                return false;
            }
        }
        if (readPrimary(slotAddress, scratch) != vOld)
        {
            stats.losses.increment();
            return false;
        }
        // Rule 3 chooses among the values the backups hold: a writer that holds no backup never
        // proposed its value and cannot win.
        long smallest = seen[0];
        for (int j = 1; j < backups; j++)
        {
            if (Long.compareUnsigned(seen[j], smallest) < 0)
            {
                smallest = seen[j];
            }
        }
        if (mine == 0 || smallest != vNew)
        {
            stats.losses.increment();
            return false;
        }
        fixBackups(slotAddress, seen, backups, vNew, scratch);
        stats.rule3.increment();
        return true;
    }

    /** Moves every backup that holds another proposal to {@code target}. */
    private void fixBackups(final long slotAddress, final long[] seen, final int backups, final long target,
        final Scratch scratch)
    {
        final VerbBatch b = scratch.batch;
        for (int attempt = 0; attempt < MAX_FIX_ATTEMPTS; attempt++)
        {
            b.reset();
            int pending = 0;
            final int[] at = scratch.indexes;
            for (int j = 0; j < backups; j++)
            {
                if (seen[j] != target)
                {
                    at[j] = b.cas(replica(slotAddress, j + 1), offset(slotAddress), seen[j], target);
                    pending++;
                }
                else
                {
                    at[j] = -1;
                }
            }
            if (pending == 0)
            {
                return;
            }
            client.execute(b);
            boolean done = true;
            for (int j = 0; j < backups; j++)
            {
                if (at[j] >= 0)
                {
                    final long old = b.result(at[j]);
                    seen[j] = old == seen[j] ? target : old;
                    done &= seen[j] == target;
                }
            }
            if (done)
            {
                return;
            }
        }
        throw new KvTimeoutException("could not settle the backups of slot " + GlobalAddress.toString(slotAddress));
    }

    /** Reads the primary's value of the slot (one round trip). */
    public long readPrimary(final long slotAddress, final Scratch scratch)
    {
        final VerbBatch b = scratch.batch;
        b.reset().read(replica(slotAddress, 0), offset(slotAddress), scratch.word, 0, 8);
        client.execute(b);
        return scratch.word.getLong(0);
    }

    /**
     * Takes {@code value} out of every replica of the slot (backups first, then the primary), each
     * only where it still holds exactly that value. For a writer whose value a split stranded in a
     * subtable that no longer covers its key.
     */
    public void withdraw(final long slotAddress, final long value, final Scratch scratch)
    {
        final VerbBatch b = scratch.batch;
        if (r > 1)
        {
            b.reset();
            for (int j = 1; j < r; j++)
            {
                b.cas(replica(slotAddress, j), offset(slotAddress), value, 0L);
            }
            client.execute(b);
        }
        b.reset().cas(replica(slotAddress, 0), offset(slotAddress), value, 0L);
        client.execute(b);
        stats.withdrawn.increment();
    }

    /**
     * A loser waits until the primary no longer holds {@code vOld} and returns what it holds. If
     * the winner stalls (crashed between its backups and its primary), the loser settles the
     * slot itself: it reads the backups, picks the winner by the same rules and CASes the primary.
     *
     * <p>Each poll reads the slot's whole bucket (one READ), header included. A subtable split
     * copies the slot elsewhere and then empties it, so an insert's {@code vOld} of EMPTY can
     * come back without anyone having won here; the header shows the split (frozen, or a new
     * local depth). When it differs from {@code plainHeader}, the wait ends and {@code vOld} is
     * returned: the caller redoes its operation where the key lives now.
     *
     * @param bucketAddress the global address of the bucket holding the slot (its header word).
     * @param plainHeader   the bucket header the caller saw, without lock or frozen bits.
     */
    public long awaitWinner(final long slotAddress, final long vOld, final long bucketAddress, final long plainHeader,
        final Scratch scratch)
    {
        final long start = clock.nanoTime();
        final int slotAt = (int)(slotAddress - bucketAddress);
        long sleepNs = 1_000;
        while (true)
        {
            final VerbBatch b = scratch.batch;
            b.reset().read(replica(bucketAddress, 0), offset(bucketAddress), scratch.bucket, 0, Bucket.LENGTH);
            client.execute(b);
            final long now = scratch.bucket.getLong(slotAt);
            if (now != vOld)
            {
                return now;
            }
            if (split(scratch.bucket.getLong(0), plainHeader))
            {
                stats.fenced.increment();
                return vOld;
            }
            final long waited = clock.nanoTime() - start;
            if (waited > helpAfterNs)
            {
                final long helped = help(slotAddress, vOld, scratch);
                if (helped != vOld)
                {
                    return helped;
                }
            }
            if (waited > giveUpAfterNs)
            {
                throw new KvTimeoutException("slot " + GlobalAddress.toString(slotAddress) + " was not settled in "
                    + TimeUnit.NANOSECONDS.toMillis(giveUpAfterNs) + " ms");
            }
            LockSupport.parkNanos(sleepNs);
            sleepNs = Math.min(sleepNs * 2, 1_000_000);
        }
    }

    private static boolean split(final long header, final long plainHeader)
    {
        return Bucket.isFrozen(header) || Bucket.plain(header) != plainHeader;
    }

    private long help(final long slotAddress, final long vOld, final Scratch scratch)
    {
        final int backups = r - 1;
        final VerbBatch b = scratch.batch;
        b.reset();
        final UnsafeBuffer words = scratch.words;
        for (int j = 0; j < backups; j++)
        {
            b.read(replica(slotAddress, j + 1), offset(slotAddress), words, 8 * j, 8);
        }
        client.execute(b);
        final long[] seen = scratch.seen;
        long winner = 0;
        int best = 0;
        boolean anyProposal = false;
        for (int j = 0; j < backups; j++)
        {
            seen[j] = words.getLong(8 * j);
            anyProposal |= seen[j] != vOld;
        }
        if (!anyProposal)
        {
            return vOld;
        }
        for (int j = 0; j < backups; j++)
        {
            int count = 0;
            for (int k = 0; k < backups; k++)
            {
                if (seen[k] == seen[j])
                {
                    count++;
                }
            }
            if (seen[j] != vOld && (count > best || (count == best && Long.compareUnsigned(seen[j], winner) < 0)))
            {
                best = count;
                winner = seen[j];
            }
        }
        fixBackups(slotAddress, seen, backups, winner, scratch);
        b.reset();
        final int at = b.cas(replica(slotAddress, 0), offset(slotAddress), vOld, winner);
        client.execute(b);
        stats.helps.increment();
        return b.result(at) == vOld ? winner : b.result(at);
    }

    /** Per-thread scratch space, so SNAPSHOT allocates nothing. */
    public static final class Scratch
    {
        final long[] seen = new long[8];
        final int[] indexes = new int[8];
        final VerbBatch batch = new VerbBatch();
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final UnsafeBuffer words = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer bucket = new UnsafeBuffer(new byte[Bucket.LENGTH]);
    }
}
