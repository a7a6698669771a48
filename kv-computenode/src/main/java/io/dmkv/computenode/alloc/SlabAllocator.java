package io.dmkv.computenode.alloc;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Level 2 of FUSEE's two-level memory management: a client's object allocator. It carves the
 * blocks {@link BlockSource} obtains into objects of one size class each and hands them out
 * locally; the memory nodes see one ALLOC per block, never one per object.
 *
 * <h2>Allocation and the log chain</h2>
 * {@link #allocate(int, Allocation)} returns an object and, with it, the object the next
 * allocation of that size class will return, which the caller writes into the object's log entry
 * as its next pointer. Per size class the allocator keeps that pre-reserved object; an allocation
 * hands it out and reserves a new one. The allocations of one class therefore form one chain
 * with no gap and no repeat, whatever the number of threads. The object the previous allocation
 * returned (the log entry's prev pointer) comes with it, under the same lock.
 *
 * <h2>Locking</h2>
 * <ul>
 *   <li>One monitor per size class guards that class's state: the reserved object, a stack of
 *       reclaimed objects, and the blocks with fresh objects. The chain is a total order per class,
 *       so allocations of one class are serial by nature; the critical section is a few field
 *       updates (no remote verb) unless the class runs dry and needs a block, when threads of
 *       that class would have to wait for the block anyway. Classes do not contend.</li>
 *   <li>Reclaim runs under one reclaim lock (two reclaims at once would both subtract the same
 *       bits) and never takes a class monitor: it puts reclaimed objects in the class's inbox,
 *       a leaf lock that allocation drains when its stack is empty.</li>
 *   <li>Lock order: class monitor, then reclaim lock, then inbox. An allocation that finds the
 *       memory nodes full reclaims inline while holding its class monitor; {@link #close()}
 *       closes the classes one monitor at a time and takes the reclaim lock only after all of
 *       them, when no allocation can be running.</li>
 * </ul>
 *
 * <h2>Freeing and reclaim</h2>
 * Any client frees an object with {@link #free(long, int, VerbBatch)}: an FAA that sets its bit in
 * the block's bitmap on every replica (exactly one party frees each object). The owner reads its
 * blocks' bitmaps from the primaries periodically ({@link Settings#reclaimPeriod()}, through a
 * {@link ReclaimScheduler}) or on {@link #reclaimNow()}, clears the bits it saw with FAAs on every
 * replica, and only then reuses the objects. When the memory nodes have no block left, an
 * allocation reclaims once before it gives up with {@link MemoryFullException}.
 *
 * <h2>Close</h2>
 * {@link #close()} leaves every block for a later client: after a last reclaim, objects this
 * client holds unused (reclaimed, pre-reserved, or never handed out) are either below the
 * high-water mark it writes into the block header, and then marked freed in the bitmap, or above
 * it; the table entry goes from OWNED to HANDED_OVER (CAS on the primary, then WRITE to the
 * backups). A block with no live object at all is released to FREE instead, so any size class
 * can use it again.
 */
public final class SlabAllocator implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(SlabAllocator.class);

    /** Bitmap bytes read by one reclaim batch. */
    private static final int RECLAIM_READ_BYTES = 1 << 20;
    /** CASes per close batch. */
    private static final int CAS_PER_BATCH = 1024;

    private final ClusterView view;
    private final VerbsClient client;
    private final int clientId;
    private final int blockSize;
    private final BlockSource source;
    private final ClassState[] classes = new ClassState[SizeClasses.COUNT];
    /** Objects per block of each class (0: the class does not fit a block). */
    private final int[] objectsPerBlock = new int[SizeClasses.COUNT];
    /** Every block this client owns; guarded by itself. Read by reclaim and close. */
    private final List<OwnedBlock> blocks = new ArrayList<>();
    private final Object reclaimLock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ReclaimScheduler.Handle reclaimTask;
    private final AtomicLong reclaimed = new AtomicLong();
    private final AtomicLong handedOver = new AtomicLong();
    private final AtomicLong released = new AtomicLong();

    // Reclaim scratch, guarded by reclaimLock.
    private boolean reclaimStopped;
    private final VerbBatch reclaimRead = new VerbBatch();
    private final UnsafeBuffer reclaimBitmaps = new UnsafeBuffer(new byte[RECLAIM_READ_BYTES]);
    private final VerbRunner runner;
    /** Objects to deliver after their bits are cleared: block (index in the snapshot), word, bits. */
    private int[] pendingBlocks = new int[64];
    private int[] pendingWords = new int[64];
    private long[] pendingBits = new long[64];

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

    /** One size class's state, guarded by the instance's monitor (the inbox by {@link #inboxLock}). */
    private static final class ClassState
    {
        final int sizeClass;
        boolean closed;
        long reserved = GlobalAddress.NULL;
        long previous = GlobalAddress.NULL;
        long[] stack = new long[64];
        int stackSize;
        OwnedBlock current;
        final ArrayDeque<OwnedBlock> withFresh = new ArrayDeque<>();
        final Object inboxLock = new Object();
        long[] inbox = new long[64];
        int inboxSize;

        ClassState(final int sizeClass)
        {
            this.sizeClass = sizeClass;
        }

        void push(final long address)
        {
            if (stackSize == stack.length)
            {
                stack = Arrays.copyOf(stack, stackSize * 2);
            }
            stack[stackSize++] = address;
        }

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

        /** Moves the inbox onto the stack; true if the stack is then non-empty. */
        boolean drainInbox()
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

        /** An object from the stack or a block with fresh objects, or NULL. */
        long takeLocal()
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

    private SlabAllocator(final ClusterView view, final int clientId, final Settings settings,
        final ReclaimScheduler scheduler)
    {
        this.view = view;
        this.client = view.client();
        this.clientId = BlockAllocationTable.validateClientId(clientId);
        this.source = new BlockSource(view, clientId);
        this.blockSize = source.blockSize();
        this.runner = new VerbRunner(client);
        for (int c = 0; c < SizeClasses.COUNT; c++)
        {
            classes[c] = new ClassState(c);
            objectsPerBlock[c] = BlockHeader.objectsPerBlock(blockSize, SizeClasses.objectSize(c));
        }
        this.reclaimTask = settings.reclaimPeriod().isZero() ? null
            : scheduler.schedule(this::backgroundReclaim, settings.reclaimPeriod());
    }

    /**
     * An allocator for client {@code clientId} (from {@link ClusterView#allocateClientId()}, or the
     * id a restarted client takes back) with background reclaim on {@code scheduler}.
     */
    public static SlabAllocator open(final ClusterView view, final int clientId, final Settings settings,
        final ReclaimScheduler scheduler)
    {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(scheduler, "scheduler");
        return new SlabAllocator(view, clientId, settings, scheduler);
    }

    /** As {@link #open(ClusterView, int, Settings, ReclaimScheduler)}, reclaiming on a daemon thread of its own. */
    public static SlabAllocator open(final ClusterView view, final int clientId, final Settings settings)
    {
        return open(view, clientId, settings, ReclaimScheduler.daemonThread("dmkv-reclaim-" + clientId));
    }

    /** The client id that owns this allocator's blocks. */
    public int clientId()
    {
        return clientId;
    }

    /**
     * Allocates an object of {@code sizeClass}: {@code out.address()} is the object to write,
     * {@code out.next()} the object the next call for this class will return, {@code out.prev()}
     * the one the previous call returned. Thread-safe; no remote operation unless the class needs
     * a new block.
     *
     * @throws IllegalArgumentException if the class is out of range or does not fit a block.
     * @throws MemoryFullException      if no object can be found even after reclaiming (the
     *                                  message says what is full); a later call may succeed.
     * @throws IllegalStateException    after {@link #close()}.
     */
    public void allocate(final int sizeClass, final Allocation out)
    {
        final ClassState s = classState(sizeClass);
        synchronized (s)
        {
            if (s.closed)
            {
                throw new IllegalStateException("the allocator of client " + clientId + " is closed");
            }
            if (s.reserved == GlobalAddress.NULL)
            {
                s.reserved = take(s);
            }
            final long next = take(s);
            out.set(sizeClass, s.reserved, next, s.previous);
            s.previous = s.reserved;
            s.reserved = next;
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
    public void free(final long address, final int sizeClass, final VerbBatch batch)
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
        final int word = blockOffset + BlockHeader.wordOffsetFor(i);
        final long delta = BlockHeader.freeDelta(i);
        for (int j = 0; j < view.replication(); j++)
        {
            batch.faa(view.replica(g, j), word, delta);
        }
    }

    /**
     * Reads the bitmaps of every owned block from the primaries, clears the bits found on every
     * replica, and makes those objects allocatable again. Serialised with other reclaims.
     *
     * @return the objects reclaimed (0 after {@link #close()}).
     */
    public int reclaimNow()
    {
        synchronized (reclaimLock)
        {
            return reclaimStopped ? 0 : reclaimLocked();
        }
    }

    /** Counters and free objects per class; consistent per class, not across classes. */
    public Stats stats()
    {
        final OwnedBlock[] owned = ownedBlocks();
        final long[] free = new long[SizeClasses.COUNT];
        for (final OwnedBlock b : owned)
        {
            free[b.sizeClass] += b.freshCount();
        }
        for (final ClassState s : classes)
        {
            synchronized (s)
            {
                synchronized (s.inboxLock)
                {
                    free[s.sizeClass] += s.stackSize + s.inboxSize;
                }
            }
        }
        return new Stats(owned.length, source.claimedCount(), source.adoptedCount(), handedOver.get(), released.get(),
            reclaimed.get(), free);
    }

    /**
     * Hands every owned block over (or releases it if nothing in it is live), so a later client
     * adopts it: no memory-node space is leaked by a client that closes. Allocation must have
     * stopped; later calls to {@link #allocate} fail. Idempotent.
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
        for (final ClassState s : classes)
        {
            synchronized (s)
            {
                s.closed = true;
            }
        }
        synchronized (reclaimLock)
        {
            reclaimStopped = true;
            // Objects freed by others since the last reclaim: a block whose every object is free
            // can then be released instead of handed over.
            reclaimLocked();
            leaveBlocks();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Allocation

    private ClassState classState(final int sizeClass)
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
        return classes[sizeClass];
    }

    private int objectCount(final int sizeClass)
    {
        classState(sizeClass);
        return objectsPerBlock[sizeClass];
    }

    /** One object of the class. Caller holds the class monitor. */
    private long take(final ClassState s)
    {
        final long local = s.takeLocal();
        return local != GlobalAddress.NULL ? local : refill(s);
    }

    /** Gets blocks until the class has an object; the slow path. Caller holds the class monitor. */
    private long refill(final ClassState s)
    {
        while (true)
        {
            final OwnedBlock b;
            try
            {
                b = source.acquire(s.sizeClass);
            }
            catch (final MemoryFullException full)
            {
                final int found = reclaimNow();
                if (s.drainInbox())
                {
                    return s.stack[--s.stackSize];
                }
                throw new MemoryFullException(full.getMessage() + " (client " + clientId + " reclaimed " + found
                    + " freed objects, none of size class " + s.sizeClass + ")", full);
            }
            synchronized (blocks)
            {
                blocks.add(b);
            }
            final int[] freed = b.takeFreedOnAdoption();
            for (final int i : freed)
            {
                s.push(b.address(i));
            }
            reclaimed.addAndGet(freed.length);
            if (b.hasFresh())
            {
                if (s.current == null)
                {
                    s.current = b;
                }
                else
                {
                    s.withFresh.add(b);
                }
            }
            final long local = s.takeLocal();
            if (local != GlobalAddress.NULL)
            {
                return local;
            }
            // An adopted block with every object live: keep it (its objects come back as they
            // are freed) and ask for another; the node never hands out the same block twice.
        }
    }

    private OwnedBlock[] ownedBlocks()
    {
        synchronized (blocks)
        {
            return blocks.toArray(new OwnedBlock[0]);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Reclaim

    private void backgroundReclaim()
    {
        try
        {
            reclaimNow();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("client {}: background reclaim failed, will retry: {}", clientId, e.toString());
        }
    }

    /** Caller holds the reclaim lock. */
    private int reclaimLocked()
    {
        final OwnedBlock[] owned = ownedBlocks();
        int total = 0;
        int first = 0;
        while (first < owned.length)
        {
            // Read as many bitmaps as fit the scratch buffer in one round trip.
            reclaimRead.reset();
            int end = first;
            int bytes = 0;
            while (end < owned.length)
            {
                final OwnedBlock b = owned[end];
                final int length = BlockHeader.bitmapWords(b.objectCount) * BlockHeader.BITMAP_WORD_LENGTH;
                if (bytes + length > RECLAIM_READ_BYTES)
                {
                    break;
                }
                if (!b.quarantined)
                {
                    reclaimRead.read(view.replica(b.region, 0), b.blockOffset + BlockHeader.BITMAP_OFFSET, reclaimBitmaps,
                        bytes, length);
                    bytes += length;
                }
                end++;
            }
            if (!reclaimRead.isEmpty())
            {
                client.execute(reclaimRead);
            }
            total += clearAndDeliver(owned, first, end);
            first = end;
        }
        reclaimed.addAndGet(total);
        return total;
    }

    /** Clears, on every replica, the bits read for blocks first..end-1, then delivers their objects. */
    private int clearAndDeliver(final OwnedBlock[] owned, final int first, final int end)
    {
        int pending = 0;
        int position = 0;
        for (int k = first; k < end; k++)
        {
            final OwnedBlock b = owned[k];
            if (b.quarantined)
            {
                continue;
            }
            final int words = BlockHeader.bitmapWords(b.objectCount);
            final int mark = b.highWaterMark();
            for (int w = 0; w < words; w++, position += BlockHeader.BITMAP_WORD_LENGTH)
            {
                final long bits = reclaimBitmaps.getLong(position);
                if (bits == 0)
                {
                    continue;
                }
                final long handedOut = belowMark(w, mark);
                if ((bits & ~handedOut) != 0)
                {
                    // A free of an object this client never handed out breaks the exactly-once
                    // rule somewhere; the bit is cleared so the object is not freed twice later.
                    LOG.warn("client {}: {} has bits 0x{} set for objects never handed out; cleared", clientId, b,
                        Long.toHexString(bits & ~handedOut));
                }
                for (int j = 0; j < view.replication(); j++)
                {
                    runner.next().faa(view.replica(b.region, j), b.blockOffset + BlockHeader.BITMAP_OFFSET
                        + w * BlockHeader.BITMAP_WORD_LENGTH, -bits);
                }
                if ((bits & handedOut) != 0)
                {
                    if (pending == pendingBlocks.length)
                    {
                        pendingBlocks = Arrays.copyOf(pendingBlocks, pending * 2);
                        pendingWords = Arrays.copyOf(pendingWords, pending * 2);
                        pendingBits = Arrays.copyOf(pendingBits, pending * 2);
                    }
                    pendingBlocks[pending] = k;
                    pendingWords[pending] = w;
                    pendingBits[pending++] = bits & handedOut;
                }
            }
        }
        // The bits must be clear on every replica before anyone can be handed the object again:
        // its next free would otherwise add to a bit still set.
        runner.flush();
        int delivered = 0;
        for (int p = 0; p < pending; p++)
        {
            final OwnedBlock b = owned[pendingBlocks[p]];
            final ClassState s = classes[b.sizeClass];
            final int w = pendingWords[p];
            for (long rest = pendingBits[p]; rest != 0; rest &= rest - 1)
            {
                s.deliver(b.address(w * BlockHeader.OBJECTS_PER_WORD + Long.numberOfTrailingZeros(rest)));
                delivered++;
            }
        }
        return delivered;
    }

    /** Bits of word {@code w} for objects below {@code mark}. */
    private static long belowMark(final int w, final int mark)
    {
        final int n = mark - w * BlockHeader.OBJECTS_PER_WORD;
        return n <= 0 ? 0 : n >= BlockHeader.OBJECTS_PER_WORD ? -1L : (1L << n) - 1;
    }

    // ---------------------------------------------------------------------------------------
    // Close

    /**
     * Hands over or releases every block. Caller holds the reclaim lock; every class is closed.
     * Taking class monitors here inverts the lock order safely: once every class is closed, no
     * thread holds a class monitor while it waits for the reclaim lock.
     */
    private void leaveBlocks()
    {
        final OwnedBlock[] owned = ownedBlocks();
        final Long2ObjectHashMap<OwnedBlock> byKey = new Long2ObjectHashMap<>();
        final Map<OwnedBlock, long[]> held = new IdentityHashMap<>();
        for (final OwnedBlock b : owned)
        {
            byKey.put(b.key(), b);
            held.put(b, new long[BlockHeader.bitmapWords(b.objectCount)]);
        }
        for (final ClassState s : classes)
        {
            synchronized (s)
            {
                s.drainInbox();
                for (int i = 0; i < s.stackSize; i++)
                {
                    markHeld(byKey, held, s.stack[i]);
                }
                if (s.reserved != GlobalAddress.NULL)
                {
                    markHeld(byKey, held, s.reserved);
                }
                s.stackSize = 0;
                s.reserved = GlobalAddress.NULL;
                s.previous = GlobalAddress.NULL;
                s.current = null;
                s.withFresh.clear();
            }
        }
        final int[] marks = new int[owned.length];
        final long[] desired = new long[owned.length];
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[Math.max(1, owned.length) * Long.BYTES]);
        for (int k = 0; k < owned.length; k++)
        {
            final OwnedBlock b = owned[k];
            if (b.quarantined)
            {
                continue;
            }
            final long[] h = held.get(b);
            int mark = b.highWaterMark();
            // Held objects just below the mark need no bit: lowering the mark frees them.
            while (mark > 0 && (h[(mark - 1) >>> 6] & (1L << (mark - 1))) != 0)
            {
                mark--;
            }
            marks[k] = mark;
            desired[k] = mark == 0 ? BlockAllocationTable.released(b.entry) : BlockAllocationTable.handedOver(b.entry);
            if (mark == 0)
            {
                continue;
            }
            scratch.putInt(k * Long.BYTES, mark);
            for (int j = 0; j < view.replication(); j++)
            {
                runner.next().write(view.replica(b.region, j), b.blockOffset + BlockHeader.HIGH_WATER_MARK_OFFSET,
                    scratch, k * Long.BYTES, Integer.BYTES);
            }
            for (int w = 0; w < h.length; w++)
            {
                final long freed = h[w] & belowMark(w, mark);
                if (freed != 0)
                {
                    for (int j = 0; j < view.replication(); j++)
                    {
                        runner.next().faa(view.replica(b.region, j), b.blockOffset + BlockHeader.BITMAP_OFFSET
                            + w * BlockHeader.BITMAP_WORD_LENGTH, freed);
                    }
                }
            }
        }
        // Header and bitmap land on every replica before the table says the block may be adopted.
        runner.flush();
        final boolean[] done = casEntries(owned, desired);
        final UnsafeBuffer entries = new UnsafeBuffer(new byte[Math.max(1, owned.length) * Long.BYTES]);
        for (int k = 0; k < owned.length; k++)
        {
            if (!done[k])
            {
                continue;
            }
            final OwnedBlock b = owned[k];
            entries.putLong(k * Long.BYTES, desired[k]);
            for (int j = 1; j < view.replication(); j++)
            {
                runner.next().write(view.replica(b.region, j), source.entryOffset(b.region, b.blockIndex), entries,
                    k * Long.BYTES, BlockAllocationTable.ENTRY_LENGTH);
            }
            (marks[k] == 0 ? released : handedOver).incrementAndGet();
        }
        runner.flush();
        synchronized (blocks)
        {
            blocks.clear();
        }
        LOG.debug("client {} closed: {} blocks handed over, {} released", clientId, handedOver.get(), released.get());
    }

    private void markHeld(final Long2ObjectHashMap<OwnedBlock> byKey, final Map<OwnedBlock, long[]> held,
        final long address)
    {
        final int g = GlobalAddress.regionId(address);
        final int blockIndex = RegionLayout.blockIndexOf(view.firstBlockOffset(g), blockSize, view.blockCount(g),
            GlobalAddress.offset(address));
        final OwnedBlock b = byKey.get(OwnedBlock.key(g, blockIndex));
        if (b == null)
        {
            throw new IllegalStateException("client " + clientId + " holds object " + GlobalAddress.toString(address)
                + " of no block it owns");
        }
        final int i = b.indexOf(address);
        held.get(b)[i >>> 6] |= 1L << i;
    }

    /** CASes every block's entry on its primary; true where it was still this client's entry. */
    private boolean[] casEntries(final OwnedBlock[] owned, final long[] desired)
    {
        final boolean[] done = new boolean[owned.length];
        final VerbBatch b = new VerbBatch();
        final int[] verbOf = new int[owned.length];
        int k = 0;
        while (k < owned.length)
        {
            b.reset();
            final int first = k;
            while (k < owned.length && b.size() < CAS_PER_BATCH)
            {
                final OwnedBlock block = owned[k];
                verbOf[k] = block.quarantined ? -1
                    : b.cas(view.replica(block.region, 0), source.entryOffset(block.region, block.blockIndex), block.entry,
                        desired[k]);
                k++;
            }
            if (!b.isEmpty())
            {
                client.execute(b);
            }
            for (int i = first; i < k; i++)
            {
                if (verbOf[i] < 0)
                {
                    continue;
                }
                done[i] = b.casSucceeded(verbOf[i]);
                if (!done[i])
                {
                    LOG.warn("client {}: {} changed behind its owner's back (now {}); left as it is", clientId,
                        owned[i], BlockAllocationTable.toString(b.result(verbOf[i])));
                }
            }
        }
        return done;
    }
}
