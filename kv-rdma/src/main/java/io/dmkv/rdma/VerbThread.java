package io.dmkv.rdma;

import java.util.ArrayDeque;

/**
 * What the verbs layer keeps for one thread, in one object that one thread-local look-up finds:
 * whether the thread waits for what it posts ({@link CallerWaits}), the completions it runs
 * ({@link CompletionTrampoline}), the counters it counts into ({@link ThreadCounters}), and its
 * cells of the last few {@link VerbCounters} it counted in. A round trip that completes on the
 * posting thread (every one on {@code local}) would otherwise look up a thread-local at each of
 * those places, about nine times per call; the client and the batch keep the object they found
 * and reuse it while it is the current thread's ({@link #same}).
 *
 * <p>Only its own thread reads or writes it.
 */
public final class VerbThread
{
    private static final ThreadLocal<VerbThread> CURRENT = ThreadLocal.withInitial(VerbThread::new);
    /** Counter cells remembered per thread: a client and the channels of a few memory nodes. */
    private static final int CELLS = 8;

    private final Thread owner = Thread.currentThread();
    /** Nested {@link CallerWaits#begin} calls not ended yet. */
    int waiting;
    /** Running a batch listener ({@link CompletionTrampoline}). */
    boolean completing;
    final ArrayDeque<VerbBatch> queued = new ArrayDeque<>();
    ThreadCounters counters = new ThreadCounters();
    private final VerbCounters[] cellOwners = new VerbCounters[CELLS];
    private final long[][] cells = new long[CELLS][];
    private int nextCell;

    private VerbThread()
    {
    }

    /** The calling thread's. */
    public static VerbThread current()
    {
        return CURRENT.get();
    }

    /** {@code known} if it is the calling thread's (a compare, no look-up), else the calling thread's. */
    public static VerbThread same(final VerbThread known)
    {
        return known != null && known.owner == Thread.currentThread() ? known : CURRENT.get();
    }

    /** True while this thread waits for what it posts ({@link CallerWaits}). */
    public boolean waits()
    {
        return waiting > 0;
    }

    /** {@link CallerWaits#begin} for this thread. */
    public void beginWaiting()
    {
        waiting++;
    }

    /** {@link CallerWaits#end} for this thread. */
    public void endWaiting()
    {
        waiting--;
    }

    /** True while this thread runs a batch listener ({@link CompletionTrampoline#inCompletion}). */
    public boolean inCompletion()
    {
        return completing;
    }

    /** The counters this thread counts into ({@link ThreadCounters#current}). */
    public ThreadCounters counters()
    {
        return counters;
    }

    /** This thread's cell of {@code owner}'s counters. */
    long[] cell(final VerbCounters owner)
    {
        for (int i = 0; i < CELLS; i++)
        {
            if (cellOwners[i] == owner)
            {
                return cells[i];
            }
        }
        final long[] cell = owner.cellOfCurrentThread();
        final int i = nextCell;
        nextCell = i + 1 == CELLS ? 0 : i + 1;
        cellOwners[i] = owner;
        cells[i] = cell;
        return cell;
    }
}
