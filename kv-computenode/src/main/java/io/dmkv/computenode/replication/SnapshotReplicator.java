// Over 500 lines: SNAPSHOT's rules and their slow paths (fixing backups, the loser's wait,
// helping a stalled winner, withdrawing) as one asynchronous Round sharing the rules' state;
// apart, the rules would have to be written twice.
package io.dmkv.computenode.replication;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.KvTimeoutException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.OpDriver;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;

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
 * CAS themselves after a delay, so a crashed winner never blocks them forever.
 *
 * <p>Asynchronous: each operation has a {@link Round} that posts through the operation's
 * {@link OpDriver}; a loser's wait is a poll re-posted after a back-off on the timer.
 */
public final class SnapshotReplicator
{
    private static final int MAX_FIX_ATTEMPTS = 1_000;
    private static final long MAX_POLL_NS = 1_000_000;

    private final ClusterView view;
    private final NanoClock clock;
    private final long helpAfterNs;
    private final long giveUpAfterNs;
    private final SnapshotStats stats = new SnapshotStats();

    /**
     * @param helpAfterNs   how long a loser waits for the winner's primary CAS before completing it.
     * @param giveUpAfterNs how long a loser waits at most before failing with a timeout.
     */
    public SnapshotReplicator(final ClusterView view, final NanoClock clock, final long helpAfterNs,
        final long giveUpAfterNs)
    {
        this.view = view;
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
        return view.replication();
    }

    /**
     * The proposal a helper settles a slot on, from the values {@code seen} on its {@code backups}
     * backups while the primary holds {@code vOld}: the proposal most backups hold, the smallest
     * of equals (SNAPSHOT's rules as a writer would apply them). At least one backup must hold
     * something other than {@code vOld}.
     */
    public static long helpWinner(final long[] seen, final int backups, final long vOld)
    {
        long winner = 0;
        int best = 0;
        for (int j = 0; j < backups; j++)
        {
            if (seen[j] == vOld)
            {
                continue;
            }
            int c = 0;
            for (int k = 0; k < backups; k++)
            {
                if (seen[k] == seen[j])
                {
                    c++;
                }
            }
            if (c > best || (c == best && Long.compareUnsigned(seen[j], winner) < 0))
            {
                best = c;
                winner = seen[j];
            }
        }
        return winner;
    }

    /** One operation's SNAPSHOT state; reuse it for every round of that operation. */
    public Round newRound()
    {
        return new Round();
    }

    /**
     * Appends the backup CASes (one per live backup of the slot's region) to {@code b}; returns the
     * index of the first, or -1 when the region has no backup (r = 1, or all backups failed).
     */
    public int propose(final VerbBatch b, final long slotAddress, final long vOld, final long vNew)
    {
        int first = -1;
        for (int j = 1, r = view.replicasOf(slotAddress); j < r; j++)
        {
            final int i = view.cas(b, slotAddress, j, vOld, vNew);
            if (first < 0)
            {
                first = i;
            }
        }
        return first;
    }

    /**
     * One writer's SNAPSHOT round: the decision after its proposal, and the slow paths (fixing
     * backups, re-reading the primary, waiting for or helping a winner, withdrawing a value). Each
     * method continues with {@code then} once it knows its answer ({@link #won()} or
     * {@link #value()}). Not thread-safe: one operation at a time.
     */
    public final class Round
    {
        private final long[] seen = new long[8];
        private final int[] indexes = new int[8];
        private final VerbBatch batch = new VerbBatch();
        private final UnsafeBuffer words = new UnsafeBuffer(new byte[64]);
        private final UnsafeBuffer bucket = new UnsafeBuffer(new byte[Bucket.LENGTH]);
        private final Runnable afterFix = this::afterFix;
        private final Runnable afterRule3Read = this::afterRule3Read;
        private final Runnable afterPoll = this::afterPoll;
        private final Runnable poll = this::poll;
        private final Runnable afterHelpRead = this::afterHelpRead;
        private final Runnable afterHelpFix = this::afterHelpFix;
        private final Runnable afterHelpCas = this::afterHelpCas;
        private final Runnable afterHelpDuringWait = this::afterHelpDuringWait;
        private final Runnable afterWithdrawBackups = this::afterWithdrawBackups;
        private final Runnable afterPrimaryRead = this::afterPrimaryRead;

        private OpDriver driver;
        /** Live replicas of the slot's region, taken when a step starts: a new map applies to the next step. */
        private int r;
        private Runnable then;
        private Runnable fixed;
        private long slot;
        private long vOld;
        private long vNew;
        private long target;
        private int mine;
        private int fixAttempts;
        private boolean won;
        private long value;
        private long waitStart;
        private long pollNs;
        private int slotAt;
        private long bucketAddress;
        private long plainHeader;

        Round()
        {
        }

        /** Whether the last {@link #decide} made this writer the winner. */
        public boolean won()
        {
            return won;
        }

        /** The slot value the last read, wait or help found. */
        public long value()
        {
            return value;
        }

        private void start(final OpDriver d, final long slotAddress, final Runnable next)
        {
            driver = d;
            slot = slotAddress;
            r = view.replicasOf(slotAddress);
            then = next;
        }

        /**
         * Decides after the backup CASes of {@link #propose} ran (in {@code b}). May post further
         * batches: fixing dissenting backups, re-reading the primary. Then {@link #won()} says
         * whether this writer won and must CAS the primary.
         */
        public void decide(final OpDriver d, final VerbBatch b, final int first, final long slotAddress, final long old,
            final long proposed, final Runnable next)
        {
            start(d, slotAddress, next);
            vOld = old;
            vNew = proposed;
            won = false;
            if (first >= 0 && first + r - 1 > b.size())
            {
                // The region's replica list changed between the proposal and now.
                d.fail(new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, first,
                    "the replicas of slot " + GlobalAddress.toString(slotAddress) + " changed during its SNAPSHOT round"));
                return;
            }
            if (r == 1)
            {
                stats.primaryOnly.increment();
                decided(true);
                return;
            }
            final int backups = r - 1;
            mine = 0;
            for (int j = 0; j < backups; j++)
            {
                final long o = b.result(first + j);
                seen[j] = o == vOld ? vNew : o;
                if (o == vOld)
                {
                    mine++;
                }
            }
            if (mine == backups)
            {
                stats.rule1.increment();
                decided(true);
                return;
            }
            if (mine > backups / 2)
            {
                stats.rule2.increment();
                fixBackups(vNew, this::wonAfterFix);
                return;
            }
            // Does any other value hold a majority?
            for (int j = 0; j < backups; j++)
            {
                if (seen[j] != vNew && count(seen[j], backups) > backups / 2)
                {
                    stats.losses.increment();
                    decided(false);
                    return;
                }
            }
            batch.reset();
            view.read(batch, slot, 0, words, 0, 8);
            driver.post(batch, afterRule3Read);
        }

        private void afterRule3Read()
        {
            if (words.getLong(0) != vOld)
            {
                stats.losses.increment();
                decided(false);
                return;
            }
            // Rule 3 chooses among the values the backups hold: a writer that holds no backup never
            // proposed its value and cannot win.
            final int backups = r - 1;
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
                decided(false);
                return;
            }
            stats.rule3.increment();
            fixBackups(vNew, this::wonAfterFix);
        }

        private void wonAfterFix()
        {
            decided(true);
        }

        private void decided(final boolean w)
        {
            won = w;
            then.run();
        }

        private int count(final long v, final int backups)
        {
            int c = 0;
            for (int k = 0; k < backups; k++)
            {
                if (seen[k] == v)
                {
                    c++;
                }
            }
            return c;
        }

        /** Moves every backup that holds another proposal to {@code to}, then runs {@code next}. */
        private void fixBackups(final long to, final Runnable next)
        {
            target = to;
            fixed = next;
            fixAttempts = 0;
            postFix();
        }

        private void postFix()
        {
            batch.reset();
            int pending = 0;
            for (int j = 0; j < r - 1; j++)
            {
                if (seen[j] != target)
                {
                    indexes[j] = view.cas(batch, slot, j + 1, seen[j], target);
                    pending++;
                }
                else
                {
                    indexes[j] = -1;
                }
            }
            if (pending == 0)
            {
                fixed.run();
                return;
            }
            if (++fixAttempts > MAX_FIX_ATTEMPTS)
            {
                driver.fail(new KvTimeoutException("could not settle the backups of slot "
                    + GlobalAddress.toString(slot)));
                return;
            }
            driver.post(batch, afterFix);
        }

        private void afterFix()
        {
            for (int j = 0; j < r - 1; j++)
            {
                if (indexes[j] >= 0)
                {
                    final long o = batch.result(indexes[j]);
                    seen[j] = o == seen[j] ? target : o;
                }
            }
            postFix();
        }

        /** Reads the primary's value of the slot (one round trip) into {@link #value()}. */
        public void readPrimary(final OpDriver d, final long slotAddress, final Runnable next)
        {
            start(d, slotAddress, next);
            batch.reset();
            view.read(batch, slot, 0, words, 0, 8);
            driver.post(batch, afterPrimaryRead);
        }

        private void afterPrimaryRead()
        {
            value = words.getLong(0);
            then.run();
        }

        /**
         * Takes {@code v} out of every replica of the slot (backups first, then the primary), each
         * only where it still holds exactly that value. For a writer whose value a split stranded
         * in a subtable that no longer covers its key, or whose insert lock was taken over.
         */
        public void withdraw(final OpDriver d, final long slotAddress, final long v, final Runnable next)
        {
            start(d, slotAddress, next);
            vNew = v;
            if (r > 1)
            {
                batch.reset();
                for (int j = 1; j < r; j++)
                {
                    view.cas(batch, slot, j, v, 0L);
                }
                driver.post(batch, afterWithdrawBackups);
                return;
            }
            afterWithdrawBackups();
        }

        /** Takes {@code v} out of the backups only (a writer that never CASed the primary). */
        public void withdrawBackups(final OpDriver d, final long slotAddress, final long v, final Runnable next)
        {
            start(d, slotAddress, next);
            if (r == 1)
            {
                then.run();
                return;
            }
            batch.reset();
            for (int j = 1; j < r; j++)
            {
                view.cas(batch, slot, j, v, 0L);
            }
            driver.post(batch, then);
        }

        private void afterWithdrawBackups()
        {
            batch.reset();
            view.cas(batch, slot, 0, vNew, 0L);
            stats.withdrawn.increment();
            driver.post(batch, then);
        }

        /**
         * A loser waits until the primary no longer holds {@code old}; {@link #value()} is then what
         * it holds. If the winner stalls (crashed between its backups and its primary), the loser
         * settles the slot itself: it reads the backups, picks the winner by the same rules and
         * CASes the primary.
         *
         * <p>Each poll reads the slot's whole bucket (one READ), header included. A subtable split
         * copies the slot elsewhere and then empties it, so an insert's {@code old} of EMPTY can
         * come back without anyone having won here; the header shows the split (frozen, or a new
         * local depth). When it differs from {@code plain}, the wait ends with {@code old}: the
         * caller redoes its operation where the key lives now.
         *
         * @param bucket the global address of the bucket holding the slot (its header word).
         * @param plain  the bucket header the caller saw, without lock or frozen bits.
         */
        public void awaitWinner(final OpDriver d, final long slotAddress, final long old, final long bucket,
            final long plain, final Runnable next)
        {
            start(d, slotAddress, next);
            vOld = old;
            bucketAddress = bucket;
            plainHeader = plain;
            slotAt = (int)(slotAddress - bucket);
            waitStart = clock.nanoTime();
            pollNs = 1_000;
            poll();
        }

        private void poll()
        {
            batch.reset();
            view.read(batch, bucketAddress, 0, this.bucket, 0, Bucket.LENGTH);
            driver.post(batch, afterPoll);
        }

        private void afterPoll()
        {
            final long now = this.bucket.getLong(slotAt);
            if (now != vOld)
            {
                value = now;
                then.run();
                return;
            }
            final long header = this.bucket.getLong(0);
            if (Bucket.isFrozen(header) || Bucket.plain(header) != plainHeader)
            {
                stats.fenced.increment();
                value = vOld;
                then.run();
                return;
            }
            final long waited = clock.nanoTime() - waitStart;
            if (waited > giveUpAfterNs)
            {
                driver.fail(new KvTimeoutException("slot " + GlobalAddress.toString(slot) + " was not settled in "
                    + TimeUnit.NANOSECONDS.toMillis(giveUpAfterNs) + " ms"));
                return;
            }
            if (waited > helpAfterNs && r > 1)
            {
                final Runnable waiting = then;
                help(driver, slot, vOld, () ->
                {
                    then = waiting;
                    afterHelpDuringWait();
                });
                return;
            }
            final long ns = pollNs;
            pollNs = Math.min(ns * 2, MAX_POLL_NS);
            driver.after(ns, poll);
        }

        private void afterHelpDuringWait()
        {
            if (value != vOld)
            {
                then.run();
                return;
            }
            final long ns = pollNs;
            pollNs = Math.min(ns * 2, MAX_POLL_NS);
            driver.after(ns, poll);
        }

        /**
         * Settles a slot whose primary still holds {@code old} while its backups may hold
         * proposals: picks the winner by SNAPSHOT's rules, moves every backup to it and CASes the
         * primary. {@link #value()} is the primary's value afterwards ({@code old} if no one
         * proposed anything).
         */
        public void help(final OpDriver d, final long slotAddress, final long old, final Runnable next)
        {
            start(d, slotAddress, next);
            vOld = old;
            batch.reset();
            for (int j = 0; j < r - 1; j++)
            {
                view.read(batch, slot, j + 1, words, 8 * j, 8);
            }
            driver.post(batch, afterHelpRead);
        }

        private void afterHelpRead()
        {
            final int backups = r - 1;
            boolean anyProposal = false;
            for (int j = 0; j < backups; j++)
            {
                seen[j] = words.getLong(8 * j);
                anyProposal |= seen[j] != vOld;
            }
            if (!anyProposal)
            {
                value = vOld;
                then.run();
                return;
            }
            vNew = helpWinner(seen, backups, vOld);
            fixBackups(vNew, afterHelpFix);
        }

        private void afterHelpFix()
        {
            batch.reset();
            indexes[0] = view.cas(batch, slot, 0, vOld, vNew);
            driver.post(batch, afterHelpCas);
        }

        private void afterHelpCas()
        {
            stats.helps.increment();
            final long o = batch.result(indexes[0]);
            value = o == vOld ? vNew : o;
            then.run();
        }
    }
}
