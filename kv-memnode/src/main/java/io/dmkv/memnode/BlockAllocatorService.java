package io.dmkv.memnode;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.agrona.concurrent.AtomicBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;

/**
 * ALLOC_BLOCK, level 1 of FUSEE's two-level memory management: claims one block of one of this
 * node's regions for a client, by a CAS on the region's local block allocation table (BAT).
 *
 * <p>Policy: a block of the requested size class that its previous owner handed over is adopted
 * first (its live objects and free bitmap stay as they are), so short-lived clients recycle each
 * other's blocks; otherwise a free block is claimed. The client formats or takes over the block
 * header and mirrors the new entry to the region's backups; the node touches only its own table.
 *
 * <p>Concurrency. Requests run on several RPC worker threads, and clients change the same table
 * with one-sided CASes (an owner hands its block over or releases it). Each region's search runs
 * under that region's monitor, which orders the node's own bookkeeping; every change of an entry
 * is still a CAS from the value just read, so when a client's one-sided CAS gets there first the
 * node's CAS fails and the node re-reads instead of overwriting it. A block therefore never has
 * two owners. ALLOC is rare (one per block of up to 64 MiB), so one monitor per region costs
 * nothing measurable, and requests for different regions do not wait for each other.
 *
 * <p>Cost. Free blocks are found from a rotating cursor, so claims walk the table about once per
 * lap instead of rescanning it from block 0 each time. A handed-over block can only be one this
 * node gave out, since only ALLOC turns a free block into an owned one; the node keeps, per size
 * class, the blocks it gave out (rebuilt from the table by one scan the first time a region is
 * asked, which also covers a backup that has become primary) and looks for handed-over blocks
 * among those only.
 *
 * <p>Roles. In a coordinated cluster the node follows the region map ({@link #grants}): only the
 * primary of an unsealed region grants blocks in it; otherwise ALLOC is refused with
 * {@link RpcStatus#UNAVAILABLE} (the client asks another region, or again with a newer map). So no
 * grant lands on a table after a copy's last pass read it, and none on a table no replica copies
 * any more (a client routing by an old map asks a node that lost the primary). A grant runs under
 * the region's read lock and a change of role takes its write lock, so a grant in progress finishes
 * before the change returns, and the node re-keys the region only after that (docs/recovery.md).
 * Until the node has read a map (and in static mode) every region grants.
 */
final class BlockAllocatorService
{
    private static final Logger LOG = LoggerFactory.getLogger(BlockAllocatorService.class);

    /** Bytes of an encoded {@link MemoryNodeRpc.AllocBlock}. */
    static final int REQUEST_LENGTH = 9;
    /** Bytes of the response: blockIndex:u32 entry:u64 adopted:u8. */
    static final int RESPONSE_LENGTH = 13;

    private final MemoryNodeService service;
    private final RegionAllocator[] allocators;
    /** Per physical region: grants hold the read lock, a change of role the write lock. */
    private final ReadWriteLock[] roleLocks;
    /** Per physical region, null while it grants, else why it refuses; guarded by its role lock. */
    private final String[] refusals;

    BlockAllocatorService(final MemoryNodeService service)
    {
        this.service = service;
        this.allocators = new RegionAllocator[service.regions().count()];
        this.roleLocks = new ReadWriteLock[allocators.length];
        this.refusals = new String[allocators.length];
        for (int i = 0; i < roleLocks.length; i++)
        {
            roleLocks[i] = new ReentrantReadWriteLock();
        }
    }

    /**
     * Lets physical region {@code physicalRegion} grant blocks, or makes it refuse ALLOC saying
     * {@code why}. Returns once no grant on the region is in progress.
     */
    void grants(final int physicalRegion, final boolean on, final String why)
    {
        if (physicalRegion < 0 || physicalRegion >= refusals.length)
        {
            return;
        }
        roleLocks[physicalRegion].writeLock().lock();
        try
        {
            refusals[physicalRegion] = on ? null : why;
        }
        finally
        {
            roleLocks[physicalRegion].writeLock().unlock();
        }
    }

    ByteBuffer handle(final ByteBuffer request)
    {
        if (request.remaining() != REQUEST_LENGTH)
        {
            throw badRequest("malformed ALLOC_BLOCK request of " + request.remaining() + " bytes, expected "
                + REQUEST_LENGTH);
        }
        final MemoryNodeRpc.AllocBlock a = MemoryNodeRpc.AllocBlock.decode(request);
        if (a.physicalRegion() < 0 || a.physicalRegion() >= allocators.length)
        {
            throw badRequest("memory node " + service.name() + " has no region " + a.physicalRegion() + " (it has "
                + allocators.length + ")");
        }
        if (a.clientId() < 1 || a.clientId() > BlockAllocationTable.MAX_CLIENT_ID)
        {
            throw badRequest("client id " + a.clientId() + " is outside 1.." + BlockAllocationTable.MAX_CLIENT_ID);
        }
        if (a.sizeClass() >= SizeClasses.COUNT)
        {
            throw badRequest("size class " + a.sizeClass() + " is outside 0.." + (SizeClasses.COUNT - 1));
        }
        roleLocks[a.physicalRegion()].readLock().lock();
        try
        {
            final String refusal = refusals[a.physicalRegion()];
            if (refusal != null)
            {
                throw new RpcException(RpcStatus.UNAVAILABLE, "region " + a.physicalRegion() + " of memory node "
                    + service.name() + " grants no block now: it " + refusal);
            }
            return grant(a);
        }
        finally
        {
            roleLocks[a.physicalRegion()].readLock().unlock();
        }
    }

    private ByteBuffer grant(final MemoryNodeRpc.AllocBlock a)
    {
        final RegionAllocator allocator = allocator(a.physicalRegion());
        final int objectSize = SizeClasses.objectSize(a.sizeClass());
        if (BlockHeader.objectsPerBlock(allocator.blockSize, objectSize) == 0)
        {
            throw badRequest("a block of " + allocator.blockSize + " bytes cannot hold one object of size class "
                + a.sizeClass() + " (" + objectSize + " bytes)");
        }
        final Claim claim = allocator.allocate(a.clientId(), a.sizeClass());
        if (claim == null)
        {
            LOG.debug("{}: region {} has no free or handed-over block for size class {}", service.name(),
                a.physicalRegion(), a.sizeClass());
            throw new RpcException(RpcStatus.EXHAUSTED, "region " + a.physicalRegion() + " (global region "
                + allocator.globalRegion + ") of memory node " + service.name() + " has no free block and no block"
                + " of size class " + a.sizeClass() + " handed over (" + allocator.blockCount + " blocks of "
                + allocator.blockSize + " bytes: " + allocator.usage() + ")");
        }
        return ByteBuffer.allocate(RESPONSE_LENGTH).putInt(claim.block).putLong(claim.entry)
            .put((byte)(claim.adopted ? 1 : 0)).flip();
    }

    private RpcException badRequest(final String message)
    {
        LOG.warn("{}: refused ALLOC_BLOCK: {}", service.name(), message);
        return new RpcException(RpcStatus.BAD_REQUEST, message);
    }

    private RegionAllocator allocator(final int physicalRegion)
    {
        synchronized (allocators)
        {
            RegionAllocator a = allocators[physicalRegion];
            if (a == null)
            {
                final MemoryRegion region = service.regions().regions().get(physicalRegion);
                if (!RegionLayout.isFormatted(region.buffer()))
                {
                    throw badRequest("region " + physicalRegion + " of memory node " + service.name()
                        + " is not formatted: no cluster has been bootstrapped on it");
                }
                a = new RegionAllocator(service.name(), region.buffer(), region.length());
                allocators[physicalRegion] = a;
            }
            return a;
        }
    }

    /** Drops the bookkeeping of a physical region (rebuilt from its table on the next ALLOC). */
    void forget(final int physicalRegion)
    {
        synchronized (allocators)
        {
            if (physicalRegion >= 0 && physicalRegion < allocators.length)
            {
                allocators[physicalRegion] = null;
            }
        }
    }

    /** A block given out: its index, its new table entry, and whether it was adopted. */
    private record Claim(int block, long entry, boolean adopted)
    {
    }

    /** One region's table and the node's bookkeeping about it, guarded by the instance's monitor. */
    private static final class RegionAllocator
    {
        private static final byte UNLISTED = 0;


        private final AtomicBuffer table;
        private final int globalRegion;
        private final int batOffset;
        private final int blockCount;
        private final int blockSize;
        /** Per size class, the blocks this node gave out for it, in no order. */
        private final int[][] given = new int[SizeClasses.COUNT][];
        private final int[] givenCount = new int[SizeClasses.COUNT];
        /** Per block, 1 + the class whose list holds it, or {@link #UNLISTED}. */
        private final byte[] listOf;
        /** Per listed block, its position in that list, so removal is O(1). */
        private final int[] positionOf;
        /** Where the search for a free block starts. */
        private int cursor;

        RegionAllocator(final String node, final AtomicBuffer region, final int regionLength)
        {
            this.table = region;
            this.globalRegion = RegionLayout.regionId(region);
            this.blockSize = RegionLayout.blockSize(region);
            final int count = RegionLayout.blockCount(region);
            final int bat = RegionLayout.batOffset(region);
            // The header was written by FORMAT_REGION; the check only guards the bounds of what follows.
            if (count < 0 || bat < RegionLayout.HEADER_LENGTH
                || (long)bat + BlockAllocationTable.length(count) > regionLength)
            {
                throw new RpcException(RpcStatus.FAILED, "region of global id " + globalRegion + " on memory node "
                    + node + " has a damaged header: " + count + " blocks, allocation table at " + bat);
            }
            this.blockCount = count;
            this.batOffset = bat;
            this.listOf = new byte[count];
            this.positionOf = new int[count];
            for (int c = 0; c < SizeClasses.COUNT; c++)
            {
                given[c] = new int[8];
            }
            for (int block = 0; block < count; block++)
            {
                final long e = table.getLongVolatile(entryOffset(block));
                final int state = BlockAllocationTable.state(e);
                final int c = BlockAllocationTable.sizeClass(e);
                if ((state == BlockAllocationTable.OWNED || state == BlockAllocationTable.HANDED_OVER)
                    && c < SizeClasses.COUNT)
                {
                    list(c, block);
                }
            }
        }

        private int entryOffset(final int block)
        {
            return batOffset + BlockAllocationTable.entryOffset(block);
        }

        /** The block given to {@code client}, or null if none is left. */
        synchronized Claim allocate(final int client, final int sizeClass)
        {
            final Claim adopted = adoptHandedOver(client, sizeClass);
            if (adopted != null)
            {
                return adopted;
            }
            Claim claimed = claimFree(client, sizeClass);
            if (claimed == null)
            {
                claimed = claimEmptyHandedOver(client, sizeClass);
            }
            if (claimed != null)
            {
                list(sizeClass, claimed.block);
            }
            return claimed;
        }

        /**
         * A handed-over block of another size class in which every object is free (each one below
         * the mark has its free bit set) holds nothing anyone can reach or free again, so it is as
         * good as a free block: it is claimed for {@code sizeClass} (the client writes a fresh header
         * and bitmap, as for any claim). This is what keeps blocks from staying pinned to the class
         * they were first used for.
         */
        private Claim claimEmptyHandedOver(final int client, final int sizeClass)
        {
            for (int c = 0; c < SizeClasses.COUNT; c++)
            {
                for (int i = 0; c != sizeClass && i < givenCount[c]; i++)
                {
                    final int block = given[c][i];
                    final int at = entryOffset(block);
                    final long e = table.getLongVolatile(at);
                    if (BlockAllocationTable.state(e) != BlockAllocationTable.HANDED_OVER || !everyObjectFree(block))
                    {
                        continue;
                    }
                    final long claimed = BlockAllocationTable.claimed(BlockAllocationTable.released(e), client, sizeClass);
                    if (table.compareAndSetLong(at, e, claimed))
                    {
                        return new Claim(block, claimed, false);
                    }
                }
            }
            return null;
        }

        private boolean everyObjectFree(final int block)
        {
            final int offset = RegionLayout.blockOffset(RegionLayout.firstBlockOffset(table), blockSize, block);
            if (!BlockHeader.hasMagic(table, offset))
            {
                return false;
            }
            final int mark = Math.min(BlockHeader.highWaterMark(table, offset), BlockHeader.objectCount(table, offset));
            for (int w = 0; w * BlockHeader.OBJECTS_PER_WORD < mark; w++)
            {
                final int below = Math.min(BlockHeader.OBJECTS_PER_WORD, mark - w * BlockHeader.OBJECTS_PER_WORD);
                final long want = below == 64 ? -1L : (1L << below) - 1;
                if ((table.getLongVolatile(offset + BlockHeader.BITMAP_OFFSET + w * BlockHeader.BITMAP_WORD_LENGTH)
                    & want) != want)
                {
                    return false;
                }
            }
            return true;
        }

        private Claim adoptHandedOver(final int client, final int sizeClass)
        {
            int i = 0;
            while (i < givenCount[sizeClass])
            {
                final int block = given[sizeClass][i];
                final int at = entryOffset(block);
                long e = table.getLongVolatile(at);
                while (BlockAllocationTable.state(e) == BlockAllocationTable.HANDED_OVER
                    && BlockAllocationTable.sizeClass(e) == sizeClass)
                {
                    final long adopted = BlockAllocationTable.adopted(e, client);
                    if (table.compareAndSetLong(at, e, adopted))
                    {
                        return new Claim(block, adopted, true);
                    }
                    e = table.getLongVolatile(at);
                }
                if (BlockAllocationTable.state(e) == BlockAllocationTable.OWNED
                    && BlockAllocationTable.sizeClass(e) == sizeClass)
                {
                    i++;
                }
                else
                {
                    // Released (the free-block cursor will find it again) or not a state this node
                    // can act on: either way it is no candidate for adoption in this class.
                    unlist(block);
                }
            }
            return null;
        }

        private Claim claimFree(final int client, final int sizeClass)
        {
            for (int k = 0; k < blockCount; k++)
            {
                final int block = cursor;
                cursor = cursor + 1 == blockCount ? 0 : cursor + 1;
                final int at = entryOffset(block);
                long e = table.getLongVolatile(at);
                while (isCleanFree(e))
                {
                    final long claimed = BlockAllocationTable.claimed(e, client, sizeClass);
                    if (table.compareAndSetLong(at, e, claimed))
                    {
                        return new Claim(block, claimed, false);
                    }
                    e = table.getLongVolatile(at);
                }
            }
            return null;
        }

        /** What the region's blocks are doing, for a refusal: free, handed over, owned and by which clients. */
        String usage()
        {
            final BlockUsage u = BlockUsage.ofRegion(table, 0);
            return u.owned() + " owned by " + u.ownedPerClient().size() + " clients " + u.ownedPerClient().keySet()
                + ", " + u.handedOver() + " handed over with live objects, " + u.free() + " free";
        }

        /** FREE with no stray owner or class bits: anything else was not written by this protocol. */
        private static boolean isCleanFree(final long e)
        {
            return BlockAllocationTable.state(e) == BlockAllocationTable.FREE && e == BlockAllocationTable.released(e);
        }

        private void list(final int sizeClass, final int block)
        {
            if (listOf[block] == sizeClass + 1)
            {
                return;
            }
            if (listOf[block] != UNLISTED)
            {
                unlist(block);
            }
            if (givenCount[sizeClass] == given[sizeClass].length)
            {
                given[sizeClass] = Arrays.copyOf(given[sizeClass], given[sizeClass].length * 2);
            }
            positionOf[block] = givenCount[sizeClass];
            given[sizeClass][givenCount[sizeClass]++] = block;
            listOf[block] = (byte)(sizeClass + 1);
        }

        private void unlist(final int block)
        {
            final int c = listOf[block] - 1;
            final int at = positionOf[block];
            final int last = given[c][--givenCount[c]];
            given[c][at] = last;
            positionOf[last] = at;
            listOf[block] = UNLISTED;
        }
    }
}
