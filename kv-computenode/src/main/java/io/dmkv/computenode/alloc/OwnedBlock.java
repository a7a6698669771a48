package io.dmkv.computenode.alloc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.SizeClasses;

/**
 * A block this client owns: where it is, its carving into objects of one size class, and its
 * high-water mark, the number of objects from object 0 up that were ever handed out. Objects at
 * or above the mark are fresh and are handed out by bumping it; objects below it come back only
 * through the free bitmap.
 *
 * <p>The mark is bumped under the lock of the block's size class in {@link SizeClassSlab} and
 * read without it by reclaim, hence the release/acquire accessors.
 */
final class OwnedBlock
{
    private static final VarHandle MARK;
    private static final int[] EMPTY = new int[0];

    static
    {
        try
        {
            MARK = MethodHandles.lookup().findVarHandle(OwnedBlock.class, "mark", int.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Global region id. */
    final int region;
    /** Index of the block in its region's allocation table. */
    final int blockIndex;
    /** Offset of the block in its region. */
    final int blockOffset;
    final int sizeClass;
    final int objectSize;
    final int objectCount;
    final int firstObjectOffset;
    /** True if the block came from a client that handed it over. */
    final boolean adopted;
    /** True if the block's header could not be trusted when adopted: it is owned but never used. */
    final boolean quarantined;
    /** The allocation table entry this client put in place (state OWNED, owner this client). */
    final long entry;
    /** Objects below the mark whose bits were set when the block was adopted; taken once by the allocator. */
    private int[] freedOnAdoption;
    @SuppressWarnings("unused")
    private int mark;

    OwnedBlock(final int region, final int blockIndex, final int blockOffset, final int sizeClass, final int blockSize,
        final long entry, final boolean adopted, final int mark, final int[] freedOnAdoption, final boolean quarantined)
    {
        this.region = region;
        this.blockIndex = blockIndex;
        this.blockOffset = blockOffset;
        this.sizeClass = sizeClass;
        this.objectSize = SizeClasses.objectSize(sizeClass);
        this.objectCount = BlockHeader.objectsPerBlock(blockSize, objectSize);
        this.firstObjectOffset = BlockHeader.firstObjectOffset(objectCount);
        this.entry = entry;
        this.adopted = adopted;
        this.quarantined = quarantined;
        this.freedOnAdoption = freedOnAdoption;
        MARK.setRelease(this, quarantined ? objectCount : mark);
    }

    /** Key of the block in maps: region and index. */
    static long key(final int region, final int blockIndex)
    {
        return ((long)region << 32) | (blockIndex & 0xFFFF_FFFFL);
    }

    long key()
    {
        return key(region, blockIndex);
    }

    /** Global address of object {@code i}. */
    long address(final int i)
    {
        return GlobalAddress.pack(region, blockOffset + firstObjectOffset + i * objectSize);
    }

    /** Index of the object at {@code address}, which must be in this block. */
    int indexOf(final long address)
    {
        return (GlobalAddress.offset(address) - blockOffset - firstObjectOffset) / objectSize;
    }

    /** The high-water mark (acquire). */
    int highWaterMark()
    {
        return (int)MARK.getAcquire(this);
    }

    /** True if some object was never handed out. Caller holds the size-class lock. */
    boolean hasFresh()
    {
        return (int)MARK.getOpaque(this) < objectCount;
    }

    /** Hands out the next fresh object. Caller holds the size-class lock and checked {@link #hasFresh()}. */
    long takeFresh()
    {
        final int i = (int)MARK.getOpaque(this);
        MARK.setRelease(this, i + 1);
        return address(i);
    }

    /** Objects never handed out. */
    int freshCount()
    {
        return objectCount - highWaterMark();
    }

    /** The objects found freed on adoption, once; then an empty array. */
    int[] takeFreedOnAdoption()
    {
        final int[] freed = freedOnAdoption;
        freedOnAdoption = EMPTY;
        return freed;
    }

    @Override
    public String toString()
    {
        return "block " + blockIndex + " of region " + region + " (class " + sizeClass + ", " + objectCount
            + " objects, mark " + highWaterMark() + ", " + BlockAllocationTable.toString(entry) + ")";
    }
}
