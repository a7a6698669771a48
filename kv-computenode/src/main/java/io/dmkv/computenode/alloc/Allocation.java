package io.dmkv.computenode.alloc;

import io.dmkv.core.address.GlobalAddress;

/**
 * What one {@link ObjectAllocator#tryAllocate(int, Allocation)} or {@link ObjectAllocator#allocate(int, Allocation)}
 * returns: the object to write now, the
 * object the next allocation of the same size class will return, and the one the previous
 * allocation returned. FUSEE's embedded log links each object to its successor and predecessor
 * in allocation order before the object is written, so the successor has to be known, and
 * reserved, in advance.
 *
 * <p>Mutable and reusable, so the allocation path creates no garbage: a caller keeps one per
 * thread and passes it in again.
 */
public final class Allocation
{
    private int sizeClass = -1;
    private long address;
    private long next;
    private long prev;

    /** Size class of both objects. */
    public int sizeClass()
    {
        return sizeClass;
    }

    /** Global address of the object to write: 256-byte aligned, never {@link GlobalAddress#NULL}. */
    public long address()
    {
        return address;
    }

    /** Global address the next allocation of this size class returns (the log entry's next pointer). */
    public long next()
    {
        return next;
    }

    /**
     * Global address the previous allocation of this size class by this allocator returned (the
     * log entry's prev pointer), or {@link GlobalAddress#NULL} for the class's first allocation.
     */
    public long prev()
    {
        return prev;
    }

    /** Fills the allocation; for {@link ObjectAllocator} implementations. */
    public void set(final int sizeClass, final long address, final long next, final long prev)
    {
        this.sizeClass = sizeClass;
        this.address = address;
        this.next = next;
        this.prev = prev;
    }

    @Override
    public String toString()
    {
        return "Allocation{class=" + sizeClass + ", address=" + GlobalAddress.toString(address) + ", next="
            + GlobalAddress.toString(next) + ", prev=" + GlobalAddress.toString(prev) + "}";
    }
}
