package io.dmkv.computenode.ops;

import java.util.concurrent.atomic.AtomicReferenceArray;

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

    private final AtomicReferenceArray<T> spares = new AtomicReferenceArray<>(SLOTS);
    private final ManyToManyConcurrentArrayQueue<T> shared;

    /** @param capacity operations the shared queue keeps. */
    OperationPool(final int capacity)
    {
        shared = new ManyToManyConcurrentArrayQueue<>(Math.max(2, capacity));
    }

    /** An idle operation, or null if there is none. */
    T take()
    {
        final int slot = slot();
        if (spares.get(slot) != null)
        {
            final T op = spares.getAndSet(slot, null);
            if (op != null)
            {
                return op;
            }
        }
        return shared.poll();
    }

    /** Gives back an operation that ended: nothing of it is used until {@link #take} returns it again. */
    void give(final T op)
    {
        final int slot = slot();
        if (spares.get(slot) == null)
        {
            spares.lazySet(slot, op);
            return;
        }
        shared.offer(op);
    }

    private static int slot()
    {
        return (int)Thread.currentThread().getId() & (SLOTS - 1);
    }
}
