package io.dmkv.computenode.ops;

import org.agrona.UnsafeAccess;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * Idle operation objects of one kind, for reuse. An operation mostly ends on the thread that
 * started it (every one on {@code local}, a blocking call's on a lane of its thread), so each
 * thread first finds a spare in a slot picked by its id: taking it is one exchange, giving it
 * back a plain store when the slot is empty, instead of a shared queue's two compare-and-sets.
 * Spares that find their slot taken go to a shared queue. Two threads sharing a slot may drop a
 * spare now and then (it is garbage collected); two never get the same one. Thread-safe.
 *
 * @param <T> the operation type.
 */
final class OperationPool<T>
{
    private static final int SLOTS = 64;
    private static final long BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(Object[].class);
    private static final long SCALE = UnsafeAccess.UNSAFE.arrayIndexScale(Object[].class);

    /**
     * Reached with Unsafe, not an AtomicReferenceArray: a release runs at the end of a round trip
     * inlined many calls deep, below the JIT's inlining depth, where a VarHandle access is an
     * out-of-line call.
     */
    private final Object[] spares = new Object[SLOTS];
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
        final long at = slot();
        if (UnsafeAccess.UNSAFE.getObjectVolatile(spares, at) != null)
        {
            final Object op = UnsafeAccess.UNSAFE.getAndSetObject(spares, at, null);
            if (op != null)
            {
                return (T)op;
            }
        }
        return shared.poll();
    }

    /** Gives back an operation that ended: nothing of it is used until {@link #take} returns it again. */
    void give(final T op)
    {
        final long at = slot();
        if (UnsafeAccess.UNSAFE.getObjectVolatile(spares, at) == null)
        {
            UnsafeAccess.UNSAFE.putOrderedObject(spares, at, op);
            return;
        }
        shared.offer(op);
    }

    /** The calling thread's slot, as an offset into {@link #spares}. */
    private static long slot()
    {
        return BASE + SCALE * (Thread.currentThread().getId() & (SLOTS - 1));
    }
}
