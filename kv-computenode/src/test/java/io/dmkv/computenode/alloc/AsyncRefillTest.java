package io.dmkv.computenode.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.rdma.VerbBatch;

/**
 * The asynchronous allocation path: {@link ObjectAllocator#tryAllocate} never waits and
 * {@link ObjectAllocator#refill} calls back once, whether the block fetch succeeded or failed.
 */
@Timeout(120)
class AsyncRefillTest
{
    private static final int THREADS = 8;
    private static final int ROUNDS = 150;
    private static final int IN_FLIGHT = 8;
    private static final int LIVE_PER_THREAD = 24;
    private static final long CALLBACK_WAIT_SECONDS = 60;

    /** Checks that no object is live twice and that every refill callback runs exactly once. */
    private static final class Checker
    {
        final Map<Long, Long> live = new ConcurrentHashMap<>();
        final Map<Long, AtomicInteger> callbacks = new ConcurrentHashMap<>();
        final AtomicInteger tokens = new AtomicInteger();
        final Queue<String> violations = new ConcurrentLinkedQueue<>();

        String report()
        {
            return violations.size() + " violations, the first: " + violations.stream().limit(5).toList();
        }

        void handedOut(final long address, final long op)
        {
            final Long before = live.putIfAbsent(address, op);
            if (before != null)
            {
                violations.add(GlobalAddress.toString(address) + " handed out to op " + op + " while op " + before
                    + " still holds it");
            }
        }

        /** Call before the free's verbs are posted: once they are, the object may be handed out again. */
        void freeing(final long address)
        {
            if (live.remove(address) == null)
            {
                violations.add("freeing " + GlobalAddress.toString(address) + ", which is not live");
            }
        }

        /** A callback for one refill; counts its runs. */
        Runnable callback(final Runnable then)
        {
            final AtomicInteger runs = new AtomicInteger();
            callbacks.put((long)tokens.incrementAndGet(), runs);
            return () ->
            {
                if (runs.incrementAndGet() == 1)
                {
                    then.run();
                }
                else
                {
                    violations.add("a refill callback ran " + runs.get() + " times");
                }
            };
        }
    }

    /** One allocation driven as the operations drive it: try, else refill and try again from the callback. */
    private static final class AllocationOp
    {
        final SlabAllocator allocator;
        final Checker checker;
        final int sizeClass;
        final long id;
        final Allocation a = new Allocation();
        final CountDownLatch done;
        final Queue<Long> mine;
        final AtomicReference<Throwable> failure;
        int refills;

        AllocationOp(final SlabAllocator allocator, final Checker checker, final int sizeClass, final long id,
            final CountDownLatch done, final Queue<Long> mine, final AtomicReference<Throwable> failure)
        {
            this.allocator = allocator;
            this.checker = checker;
            this.sizeClass = sizeClass;
            this.id = id;
            this.done = done;
            this.mine = mine;
            this.failure = failure;
        }

        void attempt()
        {
            try
            {
                if (allocator.tryAllocate(sizeClass, a))
                {
                    checker.handedOut(a.address(), id);
                    mine.add(a.address());
                    done.countDown();
                    return;
                }
                refills++;
                allocator.refill(sizeClass, checker.callback(this::attempt));
            }
            catch (final RuntimeException | Error e)
            {
                failure.compareAndSet(null, e);
                done.countDown();
            }
        }
    }

    /** On {@code local} fetches may complete on the caller's thread; on {@code tcp} always on the completion thread. */
    @ParameterizedTest
    @ValueSource(strings = {"local", "tcp"})
    void manyThreadsAllocateAndFreeWhileBlocksArriveAsynchronously(final String transport) throws Exception
    {
        // 4 KiB blocks hold 15 objects of class 0 and 7 of class 1: a refill every few allocations.
        // 2 MiB hold fewer objects than the test allocates, so freed objects must come back too.
        try (AllocFixture f = new AllocFixture(1, 2L << 20, 2L << 20, AllocFixture.small(1, 4096), transport))
        {
            final ClusterView view = f.view();
            final Checker checker = new Checker();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicInteger refills = new AtomicInteger();
            final AtomicBoolean stop = new AtomicBoolean();
            final SlabAllocator allocator = f.allocator(view);
            final ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            try
            {
                final Future<?> reclaimer = pool.submit(() ->
                {
                    while (!stop.get())
                    {
                        allocator.reclaimNow();
                        Thread.onSpinWait();
                    }
                });
                final List<Future<Integer>> drivers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++)
                {
                    final int thread = t;
                    drivers.add(pool.submit(() -> drive(allocator, f, checker, thread, failure, refills)));
                }
                int allocated = 0;
                for (final Future<Integer> d : drivers)
                {
                    allocated += d.get();
                }
                stop.set(true);
                reclaimer.get();
                assertEquals(null, failure.get(), "no operation failed");
                assertTrue(checker.violations.isEmpty(), "checker: " + checker.report());
                assertEquals(THREADS * ROUNDS * IN_FLIGHT, allocated);
                final SlabAllocator.Stats stats = allocator.stats();
                assertTrue(refills.get() > 100, "blocks were fetched asynchronously many times: " + refills);
                assertTrue(stats.objectsReclaimed() > 0, "freed objects came back: " + stats);
            }
            finally
            {
                pool.shutdownNow();
                allocator.close();
            }
            assertTrue(checker.callbacks.size() > 100, "refills: " + checker.callbacks.size());
            checker.callbacks.forEach((token, runs) ->
                assertEquals(1, runs.get(), "refill callback " + token + " ran once, and none was lost"));
            assertTrue(checker.violations.isEmpty(), "checker: " + checker.report());
        }
    }

    /** One thread's rounds: {@link #IN_FLIGHT} allocations at once, then frees beyond its live window. */
    private static int drive(final SlabAllocator allocator, final AllocFixture f, final Checker checker, final int thread,
        final AtomicReference<Throwable> failure, final AtomicInteger refills) throws InterruptedException
    {
        final Queue<Long> mine = new ConcurrentLinkedQueue<>();
        final ArrayDeque<long[]> held = new ArrayDeque<>();
        final VerbBatch batch = new VerbBatch();
        int allocated = 0;
        for (int round = 0; round < ROUNDS; round++)
        {
            final CountDownLatch done = new CountDownLatch(IN_FLIGHT);
            final List<AllocationOp> ops = new ArrayList<>();
            final int sizeClass = (thread + round) % 2;
            for (int k = 0; k < IN_FLIGHT; k++)
            {
                final AllocationOp op = new AllocationOp(allocator, checker, sizeClass,
                    ((long)thread << 32) | (round * IN_FLIGHT + k), done, mine, failure);
                ops.add(op);
                op.attempt();
            }
            assertTrue(done.await(CALLBACK_WAIT_SECONDS, TimeUnit.SECONDS), "every allocation of round " + round
                + " of thread " + thread + " finished: a lost refill callback would leave one waiting");
            if (failure.get() != null)
            {
                return allocated;
            }
            for (final AllocationOp op : ops)
            {
                refills.addAndGet(op.refills);
            }
            for (Long address = mine.poll(); address != null; address = mine.poll())
            {
                held.add(new long[] {address, sizeClass});
                allocated++;
            }
            batch.reset();
            while (held.size() > LIVE_PER_THREAD)
            {
                final long[] object = held.poll();
                checker.freeing(object[0]);
                allocator.free(object[0], (int)object[1], batch);
            }
            if (!batch.isEmpty())
            {
                f.client.execute(batch);
            }
        }
        return allocated;
    }

    @Test
    void aRefillThatFindsTheMemoryNodesFullIsReportedToEveryWaitingCaller() throws Exception
    {
        try (AllocFixture f = new AllocFixture(1, 1L << 20, 1L << 20, AllocFixture.small(1, 4096)))
        {
            final ClusterView view = f.view();
            final SlabAllocator filler = f.allocator(view);
            final Allocation a = new Allocation();
            final MemoryFullException full = assertThrows(MemoryFullException.class,
                () ->
                {
                    while (true)
                    {
                        filler.allocate(0, a);
                    }
                });
            assertTrue(full.getMessage().startsWith("memory nodes full"), full.getMessage());
            final long last = a.address();
            final long beforeLast = a.prev();

            try (SlabAllocator late = f.allocator(view))
            {
                assertFalse(late.tryAllocate(0, a), "a new client has no object without a block");
                final int waiters = 4;
                final CountDownLatch told = new CountDownLatch(waiters);
                final List<AtomicReference<Throwable>> outcomes = new ArrayList<>();
                final Checker checker = new Checker();
                for (int w = 0; w < waiters; w++)
                {
                    final AtomicReference<Throwable> outcome = new AtomicReference<>();
                    outcomes.add(outcome);
                    late.refill(0, checker.callback(() -> waitForOutcome(late, checker, outcome, told, 10)));
                }
                assertTrue(told.await(CALLBACK_WAIT_SECONDS, TimeUnit.SECONDS), "every waiting caller was called back");
                for (final AtomicReference<Throwable> outcome : outcomes)
                {
                    assertNotNull(outcome.get(), "told of the failure");
                    assertTrue(outcome.get() instanceof MemoryFullException, "memory full, not " + outcome.get());
                    final String m = outcome.get().getMessage();
                    assertTrue(m.contains("size class 0") && m.contains("reclaimed 0 freed objects"), m);
                }
                checker.callbacks.forEach((token, runs) -> assertEquals(1, runs.get(), "callback " + token));
                assertTrue(checker.violations.isEmpty(), "checker: " + checker.report());

                // The failure was reported, not kept: once the filler frees objects and leaves its
                // blocks, the late client's refills adopt them and it allocates.
                f.free(filler, last, 0);
                f.free(filler, beforeLast, 0);
                filler.close();
                assertFalse(late.tryAllocate(0, a), "no failure left over, and still no object without a block");
                late.allocate(0, a);
                assertTrue(late.stats().blocksAdopted() > 0, "adopted: " + late.stats());
            }
        }
    }

    /** In a refill callback: try once; on false, refill again (at most {@code attempts} times). */
    private static void waitForOutcome(final SlabAllocator allocator, final Checker checker,
        final AtomicReference<Throwable> outcome, final CountDownLatch told, final int attempts)
    {
        final Allocation a = new Allocation();
        try
        {
            if (allocator.tryAllocate(0, a))
            {
                outcome.set(new AssertionError("allocated " + a + " from full memory nodes"));
                told.countDown();
            }
            else if (attempts == 0)
            {
                outcome.set(new AssertionError("never told of the failure"));
                told.countDown();
            }
            else
            {
                allocator.refill(0, checker.callback(() -> waitForOutcome(allocator, checker, outcome, told,
                    attempts - 1)));
            }
        }
        catch (final RuntimeException e)
        {
            outcome.set(e);
            told.countDown();
        }
    }
}
