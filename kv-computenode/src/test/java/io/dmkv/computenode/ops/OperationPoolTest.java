package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Idle operations are reused, and never handed to two users at once. */
@Timeout(60)
class OperationPoolTest
{
    /** Stands for an operation: marks itself busy while a thread holds it. */
    private static final class Op implements OperationPool.Pooled
    {
        final AtomicBoolean busy = new AtomicBoolean();
        private int slot = -1;

        @Override
        public int poolSlot()
        {
            return slot;
        }

        @Override
        public void poolSlot(final int s)
        {
            slot = s;
        }
    }

    @Test
    void aThreadGetsBackTheOperationItGaveBack()
    {
        final OperationPool<Op> pool = new OperationPool<>(4);
        assertNull(pool.take(), "an empty pool");
        final Op a = new Op();
        pool.give(a);
        assertSame(a, pool.take());
        assertNull(pool.take());
        final Op b = new Op();
        pool.give(a);
        pool.give(b);
        final Op first = pool.take();
        final Op second = pool.take();
        assertTrue(first == a && second == b || first == b && second == a, "both come back, once each");
        assertNull(pool.take());
    }

    @Test
    void manyThreadsSharingSlotsNeverHoldOneOperationAtOnce() throws Exception
    {
        // More threads than slots, so threads share slots; operations pass between threads
        // through the shared queue.
        final int threads = 80;
        final int rounds = 5_000;
        final OperationPool<Op> pool = new OperationPool<>(16);
        final AtomicInteger doubleUse = new AtomicInteger();
        final AtomicInteger created = new AtomicInteger();
        Together.run(threads, () ->
        {
            for (int i = 0; i < rounds; i++)
            {
                final Op op = takeAndHold(pool, created, doubleUse);
                Thread.onSpinWait();
                op.busy.set(false);
                pool.give(op);
            }
        });
        assertEquals(0, doubleUse.get(), "an operation held by two threads at once");
        assertTrue(created.get() < threads * rounds / 10, "operations are reused: " + created.get() + " created");
    }

    @Test
    void anOperationEndedOnAnotherThreadGoesBackToTheSlotThatKeepsIt() throws Exception
    {
        final OperationPool<Op> pool = new OperationPool<>(4);
        final Op a = new Op();
        pool.give(a);
        assertSame(a, pool.take(), "the slot of the thread that gave it back first keeps it");
        final Thread other = new Thread(() -> pool.give(a));
        other.start();
        other.join();
        assertSame(a, pool.take(), "given back from another thread, it is idle in its own slot again");
        final Op b = new Op();
        pool.give(b);
        pool.give(a);
        assertSame(a, pool.take(), "the slot keeps the operation it kept first");
        assertSame(b, pool.take(), "another goes through the shared queue");
        assertNull(pool.take());
    }

    @Test
    void operationsEndedOnOtherThreadsAreNeverHeldTwice() throws Exception
    {
        // Each thread ends the operations another thread started (a completion thread's part), so
        // operations kept by one slot are given back from threads of other slots.
        final int threads = 8;
        final int rounds = 20_000;
        final OperationPool<Op> pool = new OperationPool<>(256);
        final java.util.concurrent.LinkedBlockingQueue<Op> handOver = new java.util.concurrent.LinkedBlockingQueue<>();
        final AtomicInteger doubleUse = new AtomicInteger();
        final AtomicInteger created = new AtomicInteger();
        Together.run(threads, () ->
        {
            for (int i = 0; i < rounds; i++)
            {
                final Op op = takeAndHold(pool, created, doubleUse);
                handOver.add(op);
                final Op other = handOver.poll();
                if (other != null)
                {
                    other.busy.set(false);
                    pool.give(other);
                }
            }
        });
        assertEquals(0, doubleUse.get(), "an operation held by two threads at once");
        assertTrue(created.get() < threads * rounds / 2, "operations are reused: " + created.get() + " created");
    }

    /** An operation from the pool or a new one (counted in {@code created}), marked held; a second holder counts in {@code doubleUse}. */
    private static Op takeAndHold(final OperationPool<Op> pool, final AtomicInteger created, final AtomicInteger doubleUse)
    {
        Op op = pool.take();
        if (op == null)
        {
            op = new Op();
            created.incrementAndGet();
        }
        if (!op.busy.compareAndSet(false, true))
        {
            doubleUse.incrementAndGet();
        }
        return op;
    }
}
