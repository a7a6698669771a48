package io.dmkv.computenode.alloc;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Level 2 of FUSEE's two-level memory management: a client's object allocator. It carves the
 * blocks level 1 hands out into objects of one size class each and hands them out locally; the
 * memory nodes see one ALLOC per block, never one per object. It assembles the pieces:
 *
 * <ul>
 *   <li>{@link SizeClassSlab}, one per size class: the objects at hand, the log chain (each
 *       allocation comes with the object the next one returns and the one the previous one
 *       returned), and the asynchronous refill from {@link BlockSource} (level 1 on the client).</li>
 *   <li>{@link BitmapReclaimer}: reads the owned blocks' free bitmaps, periodically
 *       ({@link Settings#reclaimPeriod()}, through a {@link ReclaimScheduler}) or on
 *       {@link #reclaimNow()}, clears the bits it saw on every replica, and only then returns the
 *       objects to their slabs. A slab that finds the memory nodes full reclaims once before it
 *       reports {@link MemoryFullException}.</li>
 *   <li>{@link BlockHandover}: {@link #close()} leaves every block for a later client to adopt
 *       (or releases it when nothing in it is live).</li>
 * </ul>
 * Any client frees an object with {@link #free(long, int, VerbBatch)}: an FAA that sets its bit in
 * the block's bitmap on every replica (exactly one party frees each object).
 */
public final class SlabAllocator implements ObjectAllocator, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(SlabAllocator.class);

    private final ClusterView view;
    private final int clientId;
    private final int blockSize;
    private final BlockSource source;
    private final OwnedBlocks blocks = new OwnedBlocks();
    private final SizeClassSlab[] slabs = new SizeClassSlab[SizeClasses.COUNT];
    /** Objects per block of each class (0: the class does not fit a block). */
    private final int[] objectsPerBlock = new int[SizeClasses.COUNT];
    private final BitmapReclaimer reclaimer;
    private final BlockHandover handover;
    private final ReleasedFrees released;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ReclaimScheduler.Handle reclaimTask;
    /** Rounds of 100 ms a closing allocator waits for frees held by a seal (a seal lasts about a second). */
    static final int SEAL_WAIT_ROUNDS = 50;
    /** Background reclaims failed in a row; touched by the reclaim task only (one at a time). */
    private int reclaimFailures;

    /**
     * How the allocator behaves.
     *
     * @param reclaimPeriod time between background reclaims (zero: none; call {@link #reclaimNow()}).
     */
    public record Settings(Duration reclaimPeriod)
    {
        /** Default period between background reclaims. */
        public static final Duration DEFAULT_RECLAIM_PERIOD = Duration.ofMillis(200);

        public Settings
        {
            if (reclaimPeriod == null || reclaimPeriod.isNegative())
            {
                throw new IllegalArgumentException("reclaim period must be zero (none) or positive, got "
                    + reclaimPeriod);
            }
        }

        /** Background reclaim every {@link #DEFAULT_RECLAIM_PERIOD} (200 ms). */
        public static Settings defaults()
        {
            return new Settings(DEFAULT_RECLAIM_PERIOD);
        }

        /** No background reclaim: the owner calls {@link SlabAllocator#reclaimNow()}. */
        public static Settings manualReclaim()
        {
            return new Settings(Duration.ZERO);
        }
    }

    /**
     * A snapshot of the allocator's state.
     *
     * @param blocksOwned      blocks this client owns now.
     * @param blocksClaimed    blocks claimed free from memory nodes since open.
     * @param blocksAdopted    blocks adopted from clients that had closed.
     * @param blocksHandedOver blocks left for adoption by {@link #close()}.
     * @param blocksReleased   blocks given back free by {@link #close()} (no live object in them).
     * @param objectsReclaimed objects taken back from free bitmaps (on adoption and by reclaim).
     * @param freeObjects      per size class, objects ready to hand out (reclaimed or never used),
     *                         not counting the one reserved as the next.
     */
    public record Stats(int blocksOwned, long blocksClaimed, long blocksAdopted, long blocksHandedOver,
        long blocksReleased, long objectsReclaimed, long[] freeObjects)
    {
        /** Free objects of {@code sizeClass}. */
        public long freeObjects(final int sizeClass)
        {
            return freeObjects[sizeClass];
        }

        @Override
        public String toString()
        {
            return "Stats{owned=" + blocksOwned + ", claimed=" + blocksClaimed + ", adopted=" + blocksAdopted
                + ", handedOver=" + blocksHandedOver + ", released=" + blocksReleased + ", reclaimed=" + objectsReclaimed
                + ", free=" + Arrays.toString(freeObjects) + "}";
        }
    }

    private SlabAllocator(final ClusterView view, final VerbsClient client, final int clientId,
        final Settings settings, final ReclaimScheduler scheduler)
    {
        this.view = view;
        this.clientId = BlockAllocationTable.validateClientId(clientId);
        this.source = new BlockSource(view, client, clientId);
        this.blockSize = source.blockSize();
        this.released = new ReleasedFrees(view, client);
        this.reclaimer = new BitmapReclaimer(view, client, clientId, blocks, slabs, released);
        this.handover = new BlockHandover(view, client, clientId, source, blocks);
        for (int c = 0; c < SizeClasses.COUNT; c++)
        {
            slabs[c] = new SizeClassSlab(c, clientId, source, blocks, reclaimer);
            objectsPerBlock[c] = BlockHeader.objectsPerBlock(blockSize, SizeClasses.objectSize(c));
        }
        this.reclaimTask = settings.reclaimPeriod().isZero() ? null
            : scheduler.schedule(this::backgroundReclaim, settings.reclaimPeriod());
    }

    /**
     * An allocator for client {@code clientId} (from
     * {@link io.dmkv.computenode.cluster.ClusterBootstrap#allocateClientId}, or the id a restarted
     * client takes back) with background reclaim on {@code scheduler}.
     */
    public static SlabAllocator open(final ClusterView view, final VerbsClient client, final int clientId,
        final Settings settings, final ReclaimScheduler scheduler)
    {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(scheduler, "scheduler");
        return new SlabAllocator(view, client, clientId, settings, scheduler);
    }

    /** As {@link #open(ClusterView, VerbsClient, int, Settings, ReclaimScheduler)}, reclaiming on a daemon thread of its own. */
    public static SlabAllocator open(final ClusterView view, final VerbsClient client, final int clientId,
        final Settings settings)
    {
        return open(view, client, clientId, settings, ReclaimScheduler.daemonThread("dmkv-reclaim-" + clientId));
    }

    /** The client id that owns this allocator's blocks. */
    public int clientId()
    {
        return clientId;
    }

    /**
     * {@inheritDoc} Thread-safe; the hot path is a few field updates under the class's monitor
     * and creates no garbage.
     *
     * @throws IllegalArgumentException if the class is out of range or does not fit a block.
     */
    @Override
    public boolean tryAllocate(final int sizeClass, final Allocation out)
    {
        return slab(sizeClass).tryAllocate(out);
    }

    /**
     * {@inheritDoc} The fetch is an ALLOC_BLOCK RPC ({@code rpcAsync}) and the batches that set the
     * block up on every replica, each started by the completion of the one before.
     *
     * @throws IllegalArgumentException if the class is out of range or does not fit a block.
     */
    @Override
    public void refill(final int sizeClass, final Runnable ready)
    {
        Objects.requireNonNull(ready, "ready");
        slab(sizeClass).refill(ready);
    }

    /**
     * Allocates an object of {@code sizeClass}: {@code out.address()} is the object to write,
     * {@code out.next()} the object the next call for this class will return, {@code out.prev()}
     * the one the previous call returned. Thread-safe; waits only when the class needs a new block.
     *
     * @throws IllegalArgumentException if the class is out of range or does not fit a block.
     * @throws MemoryFullException      if no object can be found even after reclaiming (the
     *                                  message says what is full); a later call may succeed.
     * @throws IllegalStateException    after {@link #close()}.
     */
    @Override
    public void allocate(final int sizeClass, final Allocation out)
    {
        final SizeClassSlab s = slab(sizeClass);
        while (!s.tryAllocate(out))
        {
            final CompletableFuture<Void> ready = new CompletableFuture<>();
            s.refill(() -> ready.complete(null));
            ready.join();
        }
    }

    /**
     * Appends to {@code batch} the FAAs that free the object of {@code sizeClass} at
     * {@code address}, one per replica of its region; the caller posts the batch. Any client may
     * free any object, but exactly one party may free each object once: a second FAA on a set bit
     * would carry into the neighbouring object's bit.
     *
     * @throws IllegalArgumentException if no object of that class starts at {@code address}.
     */
    @Override
    public void free(final long address, final int sizeClass, final VerbBatch batch)
    {
        final long place = locate(address, sizeClass);
        final int g = (int)(place >>> 36);
        final int blockIndex = (int)(place >>> 18) & 0x3FFFF;
        final int i = (int)place & 0x3FFFF;
        final int word = RegionLayout.blockOffset(view.firstBlockOffset(g), blockSize, blockIndex)
            + BlockHeader.wordOffsetFor(i);
        final long delta = BlockHeader.freeDelta(i);
        for (int j = 0; j < view.replicaCount(g); j++)
        {
            batch.faa(view.replica(g, j), word, delta);
        }
    }

    /**
     * Frees an object with no verb on the caller's path ({@link ReleasedFrees}): one of an owned
     * block goes back to its class at the next reclaim; any other gets its bitmap FAA posted in
     * the background with the other frees of its word.
     *
     * @throws IllegalArgumentException if no object of that class starts at {@code address}.
     */
    @Override
    public void release(final long address, final int sizeClass)
    {
        final long place = locate(address, sizeClass);
        final int g = (int)(place >>> 36);
        final int blockIndex = (int)(place >>> 18) & 0x3FFFF;
        final int i = (int)place & 0x3FFFF;
        final OwnedBlock owned = closed.get() ? null : blocks.find(g, blockIndex);
        if (owned != null && !owned.quarantined && owned.sizeClass == sizeClass)
        {
            released.addOwn(address, sizeClass);
            return;
        }
        released.addRemote(g, RegionLayout.blockOffset(view.firstBlockOffset(g), blockSize, blockIndex)
            + BlockHeader.wordOffsetFor(i), BlockHeader.freeDelta(i));
    }

    /**
     * Posts the released frees and waits for them. Frees of a region sealed for a copy stay pending
     * until the copy is promoted (docs/recovery.md): they are posted again every 100 ms, for at most
     * {@value #SEAL_WAIT_ROUNDS} rounds, so a store closed during a seal does not drop them.
     */
    @Override
    public void flushReleased()
    {
        released.flush().join();
        for (int round = 0; round < SEAL_WAIT_ROUNDS && released.remotePending() > 0; round++)
        {
            try
            {
                Thread.sleep(100);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return;
            }
            released.flush().join();
        }
    }

    /** Released objects of owned blocks waiting for the next reclaim, and bitmap words with frees not yet posted. */
    int[] releasedPending()
    {
        return new int[] {released.ownPending(), released.remotePending()};
    }

    /**
     * Checks that an object of {@code sizeClass} starts at {@code address}; returns its region
     * (bits 36..), block index (bits 18..35) and index in the block (bits 0..17).
     */
    private long locate(final long address, final int sizeClass)
    {
        final int count = objectCount(sizeClass);
        final int g = GlobalAddress.regionId(address);
        if (!GlobalAddress.isObjectAddress(address) || g >= view.regions())
        {
            throw new IllegalArgumentException("cannot free " + GlobalAddress.toString(address) + ": not an object"
                + " address in the cluster's " + view.regions() + " regions");
        }
        final int offset = GlobalAddress.offset(address);
        final int blockIndex = RegionLayout.blockIndexOf(view.firstBlockOffset(g), blockSize, view.blockCount(g), offset);
        if (blockIndex < 0)
        {
            throw new IllegalArgumentException("cannot free " + GlobalAddress.toString(address) + ": not in a block of"
                + " region " + g);
        }
        final int blockOffset = RegionLayout.blockOffset(view.firstBlockOffset(g), blockSize, blockIndex);
        final int i;
        try
        {
            i = BlockHeader.objectIndex(count, SizeClasses.objectSize(sizeClass), offset - blockOffset);
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException("cannot free " + GlobalAddress.toString(address) + " as size class "
                + sizeClass + ": " + e.getMessage(), e);
        }
        return ((long)g << 36) | ((long)blockIndex << 18) | i;
    }

    /**
     * Reads the bitmaps of every owned block from the primaries, clears the bits found on every
     * replica, and makes those objects allocatable again. Serialised with other reclaims.
     *
     * @return the objects reclaimed (0 after {@link #close()}).
     */
    public int reclaimNow()
    {
        return reclaimer.reclaimNow();
    }

    /** Counters and free objects per class; consistent per class, not across classes. */
    public Stats stats()
    {
        final OwnedBlock[] owned = blocks.snapshot();
        final long[] free = new long[SizeClasses.COUNT];
        for (final OwnedBlock b : owned)
        {
            free[b.sizeClass] += b.freshCount();
        }
        for (final SizeClassSlab s : slabs)
        {
            free[s.sizeClass] += s.reclaimedHeld();
        }
        return new Stats(owned.length, source.claimedCount(), source.adoptedCount(), handover.handedOverCount(),
            handover.releasedCount(), reclaimer.reclaimedCount(), free);
    }

    /**
     * Hands every owned block over (or releases it if nothing in it is live), so a later client
     * adopts it: no memory-node space is leaked by a client that closes. Allocation must have
     * stopped; later calls to {@link #allocate} fail. Waits for block fetches in flight, whose
     * blocks are left too. Idempotent.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        if (reclaimTask != null)
        {
            reclaimTask.cancel();
        }
        for (final SizeClassSlab s : slabs)
        {
            s.closeAndAwaitFetch();
        }
        // Objects freed by others since the last reclaim: a block whose every object is free can
        // then be released instead of handed over.
        reclaimer.stop();
        handover.leaveBlocks(slabs);
    }

    /**
     * One background reclaim. A reclaim (or a posted free) refused a key learns the keys again
     * ({@link RefusedKeys}): a node that re-keyed after this client learnt its keys for the current
     * map would otherwise refuse every period until a newer map came. A failure is logged once at
     * WARN and its repeats at DEBUG until a reclaim succeeds again: while a dead memory node waits for
     * its fail-over (a session timeout), every period fails the same way.
     */
    private void backgroundReclaim()
    {
        try
        {
            if (released.takeRefusal())
            {
                view.relearnKeys();
            }
            RefusedKeys.retrying(view, "client " + clientId + "'s background reclaim", this::reclaimNow);
            if (reclaimFailures > 0)
            {
                LOG.info("client {}: background reclaim works again after {} failed attempt(s)", clientId,
                    reclaimFailures);
                reclaimFailures = 0;
            }
        }
        catch (final RuntimeException e)
        {
            if (reclaimFailures++ == 0)
            {
                LOG.warn("client {}: background reclaim failed, will retry every period (repeats logged at DEBUG"
                    + " until it works again): {}", clientId, e.toString());
            }
            else
            {
                LOG.debug("client {}: background reclaim failed again ({} in a row): {}", clientId, reclaimFailures,
                    e.toString());
            }
        }
    }

    private SizeClassSlab slab(final int sizeClass)
    {
        if (sizeClass < 0 || sizeClass >= SizeClasses.COUNT)
        {
            throw new IllegalArgumentException("size class " + sizeClass + " is outside 0.." + (SizeClasses.COUNT - 1));
        }
        if (objectsPerBlock[sizeClass] == 0)
        {
            throw new IllegalArgumentException("size class " + sizeClass + " (" + SizeClasses.objectSize(sizeClass)
                + "-byte objects) does not fit the cluster's " + blockSize + "-byte blocks");
        }
        return slabs[sizeClass];
    }

    private int objectCount(final int sizeClass)
    {
        slab(sizeClass);
        return objectsPerBlock[sizeClass];
    }
}
