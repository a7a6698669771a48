package io.dmkv.computenode.ops;

import org.agrona.UnsafeAccess;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * Idle operation objects of one kind, for reuse. An operation mostly ends on the thread that
 * started it (every one on {@code local}, a blocking call's on a lane of its thread), so each
 * thread first looks in a slot picked by its id. A slot keeps one operation for good (the first
 * one given back there) and a flag that says whether it is idle: taking it is one compare-and-set
 * of the flag, giving it back a release store of the flag, from whatever thread ends it. No
 * reference is stored per call (under G1 each costs a fence). Other operations go through a
 * shared queue. Two threads never hold one operation at once. Thread-safe.
 *
 * @param <T> the operation type.
 */
final class OperationPool<T extends OperationPool.Pooled>
{
    /** What the pool keeps in an operation: the slot that keeps it, or -1. */
    interface Pooled
    {
        int poolSlot();

        void poolSlot(int slot);
    }

    private static final int SLOTS = 64;
    private static final long INT_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(int[].class);
    private static final long INT_SCALE = UnsafeAccess.UNSAFE.arrayIndexScale(int[].class);

    /*
     * Reached with Unsafe, not atomic arrays: a release runs at the end of a round trip inlined many
     * calls deep, below the JIT's inlining depth, where a VarHandle access is an out-of-line call.
     */
    /** The operation slot i keeps, set once; published before its flag says it is idle. */
    private final Object[] kept = new Object[SLOTS];
    /** 1 while slot i's operation is idle in it. */
    private final int[] idle = new int[SLOTS];
    private final ManyToManyConcurrentArrayQueue<T> shared;

    /** @param capacity operations the shared queue keeps. */
    OperationPool(final int capacity)
    {
        shared = new ManyToManyConcurrentArrayQueue<>(Math.max(2, capacity));
    }

    /** An idle operation, or null if there is none. */
    @SuppressWarnings("unchecked")
    T take()
    {
        final int s = slot();
        final long at = INT_BASE + INT_SCALE * s;
        if (UnsafeAccess.UNSAFE.getIntVolatile(idle, at) == 1 && UnsafeAccess.UNSAFE.compareAndSwapInt(idle, at, 1, 0))
        {
            return (T)kept[s];
        }
        return shared.poll();
    }

    /** Gives back an operation that ended: nothing of it is used until {@link #take} returns it again. */
    void give(final T op)
    {
        final int own = op.poolSlot();
        if (own >= 0)
        {
            UnsafeAccess.UNSAFE.putOrderedInt(idle, INT_BASE + INT_SCALE * own, 1);
            return;
        }
        final int s = slot();
        if (kept[s] == null)
        {
            synchronized (kept)
            {
                if (kept[s] == null)
                {
                    op.poolSlot(s);
                    kept[s] = op;
                    UnsafeAccess.UNSAFE.putIntVolatile(idle, INT_BASE + INT_SCALE * s, 1);
                    return;
                }
            }
        }
        shared.offer(op);
    }

    /** The calling thread's slot. */
    private static int slot()
    {
        return (int)(Thread.currentThread().getId() & (SLOTS - 1));
    }
}
