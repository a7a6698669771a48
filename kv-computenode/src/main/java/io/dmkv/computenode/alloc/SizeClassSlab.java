package io.dmkv.computenode.alloc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.MemoryFullException;
import io.dmkv.core.address.GlobalAddress;

/**
 * The slab of one size class: the objects of that class this client can hand out, and the chain
 * of its allocations. Objects come, in this order, from reclaimed objects (a stack), fresh objects
 * of the class's current block (bumping its high-water mark), the next block with fresh objects,
 * and a new block from level 1 ({@link BlockSource}), which is fetched asynchronously.
 *
 * <h2>The chain</h2>
 * FUSEE's embedded log links each object to the next object its client will allocate in the same
 * class before that one exists, so the slab pre-reserves it: an allocation hands out the reserved
 * object and reserves a new one. The allocations of a class form one chain with no gap and no
 * repeat, whatever the number of threads.
 *
 * <h2>Locking</h2>
 * The instance's monitor guards the class's state; its critical sections are a few field updates
 * and never wait for a remote verb. Reclaim puts objects into an inbox (a leaf lock) that
 * allocation drains when its stack is empty. Lock order: class monitor, then inbox; ready
 * callbacks run with no lock held.
 *
 * <h2>Refill</h2>
 * At most one block fetch per class is in flight; {@link #refill(Runnable)} callbacks wait for
 * it. When level 1 reports the cluster full, the slab reclaims once and reports the failure only
 * if that found nothing of the class. A failure is kept for as many {@link #tryAllocate} calls as
 * callbacks were run because of it (the fetch's waiters, and refills that came while it was
 * kept), so every one of them can learn of it; the next refill after that fetches again.
 */
final class SizeClassSlab
{
    private static final Logger LOG = LoggerFactory.getLogger(SizeClassSlab.class);

    final int sizeClass;
    private final int clientId;
    private final BlockSource source;
    private final OwnedBlocks blocks;
    private final BitmapReclaimer reclaimer;

    // Guarded by this.
    private boolean closed;
    private long reserved = GlobalAddress.NULL;
    private long previous = GlobalAddress.NULL;
    private long[] stack = new long[64];
    private int stackSize;
    private OwnedBlock current;
    private final ArrayDeque<OwnedBlock> withFresh = new ArrayDeque<>();
    /** The block fetch in flight (completes, never exceptionally, when its waiters have been told), or null. */
    private CompletableFuture<Void> fetch;
    private final List<Runnable> waiters = new ArrayList<>();
    private RuntimeException failure;
    private int failureReports;

    // Guarded by inboxLock.
    private final Object inboxLock = new Object();
    private long[] inbox = new long[64];
    private int inboxSize;

    SizeClassSlab(final int sizeClass, final int clientId, final BlockSource source, final OwnedBlocks blocks,
        final BitmapReclaimer reclaimer)
    {
        this.sizeClass = sizeClass;
        this.clientId = clientId;
        this.source = source;
        this.blocks = blocks;
        this.reclaimer = reclaimer;
    }

    /** See {@link ObjectAllocator#tryAllocate(int, Allocation)}. */
    synchronized boolean tryAllocate(final Allocation out)
    {
        if (closed)
        {
            throw new IllegalStateException("the allocator of client " + clientId + " is closed");
        }
        if (reserved == GlobalAddress.NULL)
        {
            reserved = takeLocal();
            if (reserved == GlobalAddress.NULL)
            {
                return noObject();
            }
        }
        final long next = takeLocal();
        if (next == GlobalAddress.NULL)
        {
            return noObject();
        }
        out.set(sizeClass, reserved, next, previous);
        previous = reserved;
        reserved = next;
        return true;
    }

    /** False, or the failure of the last fetch if some waiter has not been told yet. Caller holds the monitor. */
    private boolean noObject()
    {
        final RuntimeException f = failure;
        if (f == null)
        {
            return false;
        }
        if (--failureReports <= 0)
        {
            failure = null;
        }
        throw f;
    }

    /** See {@link ObjectAllocator#refill(int, Runnable)}. */
    void refill(final Runnable ready)
    {
        final boolean now;
        boolean start = false;
        synchronized (this)
        {
            now = closed || failure != null || hasLocal();
            if (failure != null)
            {
                // This caller is told too, without taking the report of a waiter not yet called back.
                failureReports++;
            }
            if (!now)
            {
                waiters.add(ready);
                if (fetch == null)
                {
                    fetch = new CompletableFuture<>();
                    start = true;
                }
            }
        }
        if (now)
        {
            run(ready);
        }
        else if (start)
        {
            fetchBlock();
        }
    }

    /** Closes the slab (allocation then throws) and waits for the fetch in flight, whose block close must leave. */
    void closeAndAwaitFetch()
    {
        final CompletableFuture<Void> inFlight;
        synchronized (this)
        {
            closed = true;
            inFlight = fetch;
        }
        if (inFlight != null)
        {
            inFlight.join();
        }
    }

    /** Gives every object held but never handed out to {@code held} and forgets them. The slab is closed. */
    synchronized void surrender(final LongConsumer held)
    {
        drainInbox();
        for (int i = 0; i < stackSize; i++)
        {
            held.accept(stack[i]);
        }
        if (reserved != GlobalAddress.NULL)
        {
            held.accept(reserved);
        }
        stackSize = 0;
        reserved = GlobalAddress.NULL;
        previous = GlobalAddress.NULL;
        current = null;
        withFresh.clear();
    }

    /** Reclaimed objects ready to hand out (fresh ones are counted by their blocks). */
    synchronized int reclaimedHeld()
    {
        synchronized (inboxLock)
        {
            return stackSize + inboxSize;
        }
    }

    /** Makes a reclaimed object allocatable; called by reclaim with no class monitor held. */
    void deliver(final long address)
    {
        synchronized (inboxLock)
        {
            if (inboxSize == inbox.length)
            {
                inbox = Arrays.copyOf(inbox, inboxSize * 2);
            }
            inbox[inboxSize++] = address;
        }
    }

    private void fetchBlock()
    {
        CompletableFuture<OwnedBlock> block;
        try
        {
            block = source.acquire(sizeClass);
        }
        catch (final RuntimeException e)
        {
            block = CompletableFuture.failedFuture(e);
        }
        // handle, not whenComplete: the stage after it fails only if this code throws.
        block.handle((b, f) ->
        {
            if (f == null)
            {
                arrived(b);
                return null;
            }
            final RuntimeException e = Failures.cause(f);
            if (e instanceof MemoryFullException full)
            {
                reclaimer.reclaim().whenComplete((found, rf) -> afterFullReclaim(full, found, rf));
            }
            else
            {
                finish(e);
            }
            return null;
        }).exceptionally(bug ->
        {
            // Whatever went wrong after the fetch, its waiters must still be told.
            LOG.error("client {}: a block fetch for size class {} failed unexpectedly", clientId, sizeClass, bug);
            finish(Failures.cause(bug));
            return null;
        });
    }

    private void arrived(final OwnedBlock b)
    {
        final boolean again;
        synchronized (this)
        {
            blocks.add(b);
            final int[] freed = b.takeFreedOnAdoption();
            for (final int i : freed)
            {
                push(b.address(i));
            }
            reclaimer.countAdopted(freed.length);
            if (b.hasFresh())
            {
                if (current == null)
                {
                    current = b;
                }
                else
                {
                    withFresh.add(b);
                }
            }
            // An adopted block with every object live: keep it (its objects come back as they
            // are freed) and ask for another; the node never hands out the same block twice.
            again = !closed && !hasLocal();
        }
        if (again)
        {
            fetchBlock();
        }
        else
        {
            finish(null);
        }
    }

    private void afterFullReclaim(final MemoryFullException full, final Integer found, final Throwable reclaimFailure)
    {
        final RuntimeException report;
        synchronized (this)
        {
            if (reclaimFailure != null)
            {
                report = Failures.cause(reclaimFailure);
            }
            else if (drainInbox())
            {
                report = null;
            }
            else
            {
                report = new MemoryFullException(full.getMessage() + " (client " + clientId + " reclaimed " + found
                    + " freed objects, none of size class " + sizeClass + ")", full);
            }
        }
        finish(report);
    }

    /** Ends the fetch in flight and tells its waiters, {@code failed} null for success. */
    private void finish(final RuntimeException failed)
    {
        final Runnable[] ready;
        final CompletableFuture<Void> done;
        synchronized (this)
        {
            ready = waiters.toArray(new Runnable[0]);
            waiters.clear();
            if (failed != null)
            {
                failure = failed;
                failureReports = Math.max(1, ready.length);
            }
            done = fetch;
            fetch = null;
        }
        if (done != null)
        {
            done.complete(null);
        }
        for (final Runnable r : ready)
        {
            run(r);
        }
    }

    private void run(final Runnable ready)
    {
        try
        {
            ready.run();
        }
        catch (final RuntimeException e)
        {
            LOG.error("client {}: a refill callback of size class {} failed", clientId, sizeClass, e);
        }
    }

    /** True if an object can be taken without a new block. Caller holds the monitor. */
    private boolean hasLocal()
    {
        return stackSize > 0 || drainInbox() || current != null && current.hasFresh() || !withFresh.isEmpty();
    }

    private void push(final long address)
    {
        if (stackSize == stack.length)
        {
            stack = Arrays.copyOf(stack, stackSize * 2);
        }
        stack[stackSize++] = address;
    }

    /** Moves the inbox onto the stack; true if the stack is then non-empty. Caller holds the monitor. */
    private boolean drainInbox()
    {
        synchronized (inboxLock)
        {
            if (inboxSize > 0)
            {
                if (stackSize == 0 && inbox.length >= stack.length)
                {
                    final long[] swap = stack;
                    stack = inbox;
                    inbox = swap;
                    stackSize = inboxSize;
                }
                else
                {
                    for (int i = 0; i < inboxSize; i++)
                    {
                        push(inbox[i]);
                    }
                }
                inboxSize = 0;
            }
        }
        return stackSize > 0;
    }

    /** An object from the stack or a block with fresh objects, or NULL. Caller holds the monitor. */
    private long takeLocal()
    {
        if (stackSize > 0 || drainInbox())
        {
            return stack[--stackSize];
        }
        OwnedBlock b = current;
        while (b != null)
        {
            if (b.hasFresh())
            {
                return b.takeFresh();
            }
            b = withFresh.poll();
            current = b;
        }
        return GlobalAddress.NULL;
    }
}
