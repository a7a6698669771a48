package io.dmkv.computenode.index;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.agrona.collections.Long2LongHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.computenode.ops.OpRuntime;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.VerbBatch;

/**
 * One client's insert-lock words on the memory nodes (docs/recovery.md, "Insert locks across a
 * fail-over"): which lock sequences its operations may have written into each bucket header, and
 * the locks whose release is not known to have landed.
 *
 * <p><b>Sequences.</b> A lock word is the header with the lock flag, the owner and a 6-bit sequence.
 * A new word for a header takes a sequence that no word of this client that may be there now has
 * (held, being acquired, being renewed, or stranded), so at one header a word of this client names
 * one acquisition, and a stranded word can be released later by a CAS from that exact word without
 * ever releasing a lock another operation of this client holds there.
 *
 * <p><b>Stranded locks.</b> An operation that fails while a word of its own may be on the header —
 * its acquiring CAS was in a batch that failed, it held the lock, or its releasing CAS was in a
 * batch that failed (the primary died, or a survivor re-keyed the region for a fail-over) — hands
 * the word here and ends. This ledger CASes each such header from the word back to its plain value
 * at once, and again while that fails: after learning the keys again if a node refused the verb,
 * else after a pause that grows to {@value #MAX_PAUSE_MS} ms, and at once when the client routes by
 * a newer map ({@link #mapChanged}); each CAS is built by the view of the moment, so after a
 * fail-over it goes to the region's new primary. A header that no longer carries
 * the word's lock bits (it never landed, the primary that had it died, or a waiter took the lock
 * over) ends the entry; one a split rewrote with the lock bits kept is released as it now reads;
 * one frozen by a split is tried again after the pause. {@link #drain} makes a last attempt when
 * the store closes. Nothing here waits on a completion thread.
 */
public final class InsertLockLedger
{
    private static final Logger LOG = LoggerFactory.getLogger(InsertLockLedger.class);
    private static final long FIRST_PAUSE_MS = 20;
    static final long MAX_PAUSE_MS = 1_000;
    /** Stranded words kept at most; past it the oldest is left to the lease (a waiting inserter takes it over). */
    static final int MAX_STRANDED = 4_096;

    private final ClusterView view;
    private final OpRuntime runtime;
    /** Header address -> bit mask of the sequences engaged there. */
    private final Long2LongHashMap engaged = new Long2LongHashMap(0);
    private final List<Stranded> stranded = new ArrayList<>();
    private int nextSequence;
    private boolean roundScheduled;
    private int roundsInFlight;
    private long pauseMs = FIRST_PAUSE_MS;
    private boolean relearn;
    private long released;

    /** One word of ours that may sit on a header, and the attempt that is releasing it. */
    private static final class Stranded
    {
        final long address;
        long word;
        boolean inFlight;

        Stranded(final long address, final long word)
        {
            this.address = address;
            this.word = word;
        }
    }

    public InsertLockLedger(final ClusterView view, final OpRuntime runtime)
    {
        this.view = view;
        this.runtime = runtime;
    }

    /**
     * A sequence for a new lock word at header {@code address}, engaged until {@link #disengage}:
     * none of this client's words that may be at that header has it.
     *
     * @throws IllegalStateException if all 64 are engaged there.
     */
    public synchronized int engage(final long address)
    {
        final long mask = engaged.get(address);
        for (int i = 0; i <= Bucket.LOCK_SEQUENCE_MASK; i++)
        {
            final int s = (nextSequence + i) & Bucket.LOCK_SEQUENCE_MASK;
            if ((mask & (1L << s)) == 0)
            {
                nextSequence = s + 1;
                engaged.put(address, mask | (1L << s));
                return s;
            }
        }
        throw new IllegalStateException("all " + (Bucket.LOCK_SEQUENCE_MASK + 1) + " insert-lock sequences of this"
            + " client are in use at bucket " + GlobalAddress.toString(address) + " (locks whose release could not be"
            + " confirmed pile up there)");
    }

    /** The word of sequence {@code sequence} at {@code address} is known to be off the header (or never got there). */
    public synchronized void disengage(final long address, final int sequence)
    {
        final long mask = engaged.get(address) & ~(1L << sequence);
        if (mask == 0)
        {
            engaged.remove(address);
        }
        else
        {
            engaged.put(address, mask);
        }
    }

    /** Headers at which some word of this client may be (held, in flight or stranded). */
    public synchronized int engagedHeaders()
    {
        return engaged.size();
    }

    /** True if a word of sequence {@code sequence} may be at {@code address} (tests). */
    synchronized boolean isEngaged(final long address, final int sequence)
    {
        return (engaged.get(address) & (1L << sequence)) != 0;
    }

    /**
     * Takes over lock word {@code word}, which may be on header {@code address} with nobody to
     * release it (its operation failed), and releases it as soon as a CAS can reach the header. The
     * word's sequence stays engaged until then.
     */
    public void strand(final long address, final long word)
    {
        synchronized (this)
        {
            if (stranded.size() >= MAX_STRANDED)
            {
                final Stranded oldest = stranded.remove(0);
                disengage(oldest.address, Bucket.lockSequence(oldest.word));
                LOG.warn("more than {} insert locks wait for release; the lock at {} is left to its lease",
                    MAX_STRANDED, GlobalAddress.toString(oldest.address));
            }
            stranded.add(new Stranded(address, word));
            pauseMs = FIRST_PAUSE_MS;
        }
        runRound();
    }

    /**
     * The client routes by a newer region map (a fail-over was published): tries the stranded words
     * again now rather than after the pause they were left at.
     */
    public void mapChanged()
    {
        synchronized (this)
        {
            if (stranded.isEmpty())
            {
                return;
            }
            pauseMs = FIRST_PAUSE_MS;
        }
        schedule(0);
    }

    /** Stranded words not yet released. */
    public synchronized int pending()
    {
        return stranded.size();
    }

    /** Stranded words this ledger released. */
    public synchronized long released()
    {
        return released;
    }

    /**
     * The store closes: tries once more (learning the keys first) to release every stranded word, waiting
     * up to {@code waitMs}; logs the ones left (a waiting inserter takes them over after the lease).
     */
    public void drain(final long waitMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (pending() > 0 && System.nanoTime() < deadline && !Thread.currentThread().isInterrupted())
        {
            if (relearnWanted())
            {
                learnKeys();
            }
            final CountDownLatch round = new CountDownLatch(1);
            if (postRound(round::countDown))
            {
                try
                {
                    round.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
                        TimeUnit.MILLISECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
            }
            if (pending() > 0)
            {
                sleep(Math.min(FIRST_PAUSE_MS, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        }
        synchronized (this)
        {
            for (final Stranded s : stranded)
            {
                LOG.warn("insert lock at {} could not be released before the store closed; a waiting inserter takes"
                    + " it over after the lock lease", GlobalAddress.toString(s.address));
            }
        }
    }

    private synchronized boolean relearnWanted()
    {
        final boolean r = relearn;
        relearn = false;
        return r;
    }

    /** A round from the timer (or from {@link #strand}): learns the keys first if a node refused ours. */
    private void runRound()
    {
        synchronized (this)
        {
            roundScheduled = false;
        }
        try
        {
            if (relearnWanted())
            {
                runtime.offload(() ->
                {
                    learnKeys();
                    postRound(null);
                });
                return;
            }
            postRound(null);
        }
        catch (final RuntimeException e)
        {
            // The runtime stopped (the store is closing): drain() makes the last attempt. A failing
            // operation hands its word over from here, and must still complete.
            LOG.debug("insert-lock release round not run: {}", e.getMessage());
        }
    }

    private void learnKeys()
    {
        try
        {
            view.relearnKeys();
        }
        catch (final RuntimeException e)
        {
            LOG.debug("learning region keys to release insert locks failed: {}", e.getMessage());
        }
    }

    /**
     * Posts one releasing CAS per stranded word not already in flight; {@code whenDone} (may be null)
     * runs once they all completed.
     *
     * @return false if nothing was posted.
     */
    private boolean postRound(final Runnable whenDone)
    {
        final List<Stranded> now = new ArrayList<>();
        synchronized (this)
        {
            for (final Stranded s : stranded)
            {
                if (!s.inFlight)
                {
                    s.inFlight = true;
                    now.add(s);
                }
            }
            if (now.isEmpty())
            {
                return false;
            }
            roundsInFlight++;
        }
        final Round round = new Round(now.size(), whenDone);
        for (final Stranded s : now)
        {
            final VerbBatch b = new VerbBatch();
            final long observedWord = s.word;
            try
            {
                view.cas(b, s.address, 0, observedWord, Bucket.plain(observedWord));
                runtime.client().post(b, new Release(s, round));
            }
            catch (final RuntimeException e)
            {
                settle(s, null, e, round);
            }
        }
        return true;
    }

    /** Counts a round's releases; schedules the next round when the last one finished and words remain. */
    private final class Round
    {
        private int left;
        private final Runnable whenDone;

        Round(final int left, final Runnable whenDone)
        {
            this.left = left;
            this.whenDone = whenDone;
        }

        void done()
        {
            final long pause;
            synchronized (InsertLockLedger.this)
            {
                if (--left > 0)
                {
                    return;
                }
                roundsInFlight--;
                if (stranded.isEmpty() || roundScheduled || roundsInFlight > 0 || whenDone != null)
                {
                    pause = -1;
                }
                else
                {
                    roundScheduled = true;
                    pause = pauseMs;
                    pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
                }
            }
            if (whenDone != null)
            {
                whenDone.run();
            }
            if (pause >= 0)
            {
                schedule(pause);
            }
        }
    }

    private void schedule(final long pause)
    {
        try
        {
            runtime.schedule(this::runRound, TimeUnit.MILLISECONDS.toNanos(pause));
        }
        catch (final RuntimeException e)
        {
            // The runtime stopped (the store is closing): drain() makes the last attempt.
            synchronized (this)
            {
                roundScheduled = false;
            }
        }
    }

    private final class Release implements BatchListener
    {
        private final Stranded entry;
        private final Round round;

        Release(final Stranded entry, final Round round)
        {
            this.entry = entry;
            this.round = round;
        }

        @Override
        public void batchCompleted(final VerbBatch batch, final Throwable failure)
        {
            settle(entry, failure == null ? batch : null, failure, round);
        }
    }

    /** After one releasing CAS: drops the entry if the header no longer carries its word, else keeps it for the next round. */
    private void settle(final Stranded s, final VerbBatch b, final Throwable failure, final Round round)
    {
        synchronized (this)
        {
            s.inFlight = false;
            if (failure != null)
            {
                relearn |= RefusedKeys.refusedKey(failure);
                LOG.debug("releasing the insert lock at {} failed ({}); tried again", GlobalAddress.toString(s.address),
                    failure.getMessage());
            }
            else
            {
                final long observed = b.result(0);
                final boolean ours = Bucket.lockBits(observed) == Bucket.lockBits(s.word);
                if (b.casSucceeded(0) || !ours)
                {
                    released += b.casSucceeded(0) ? 1 : 0;
                    stranded.remove(s);
                    disengage(s.address, Bucket.lockSequence(s.word));
                }
                else if (!Bucket.isFrozen(observed))
                {
                    // A split rewrote the header and kept our lock bits: release it as it reads now.
                    s.word = observed;
                    pauseMs = FIRST_PAUSE_MS;
                }
            }
        }
        round.done();
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(Math.max(1, ms));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
