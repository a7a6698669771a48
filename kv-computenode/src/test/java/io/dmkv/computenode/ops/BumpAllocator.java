package io.dmkv.computenode.ops;

import io.dmkv.computenode.alloc.Allocation;
import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;

/**
 * Test-only allocator: hands out objects from the block area of the data regions by bumping a
 * pointer, never reuses and never talks to the memory nodes. Enough to test the index protocols
 * on their own; the real allocator is tested in the alloc package. It never runs dry, so
 * {@link #tryAllocate} always succeeds and {@link #refill} calls back at once.
 */
final class BumpAllocator implements ObjectAllocator
{
    private final ClusterView view;
    private int region;
    private long offset;
    private final long[] reserved = new long[SizeClasses.COUNT];
    private final long[] last = new long[SizeClasses.COUNT];
    long frees;

    BumpAllocator(final ClusterView view)
    {
        this.view = view;
        this.region = view.regions() > 1 ? 1 : 0;
        this.offset = view.firstBlockOffset(region);
    }

    @Override
    public synchronized boolean tryAllocate(final int sizeClass, final Allocation out)
    {
        final long address = reserved[sizeClass] != 0 ? reserved[sizeClass] : bump(sizeClass);
        reserved[sizeClass] = bump(sizeClass);
        out.set(sizeClass, address, reserved[sizeClass], last[sizeClass]);
        last[sizeClass] = address;
        return true;
    }

    @Override
    public void refill(final int sizeClass, final Runnable ready)
    {
        ready.run();
    }

    @Override
    public void allocate(final int sizeClass, final Allocation out)
    {
        tryAllocate(sizeClass, out);
    }

    private long bump(final int sizeClass)
    {
        final int size = SizeClasses.objectSize(sizeClass);
        if (offset + size > view.replica(region, 0).length())
        {
            region = (region + 1) % view.regions();
            offset = view.firstBlockOffset(region);
        }
        final long address = GlobalAddress.pack(region, (int)offset);
        offset += size;
        return address;
    }

    @Override
    public synchronized void free(final long address, final int sizeClass, final VerbBatch batch)
    {
        frees++;
    }

    @Override
    public synchronized void release(final long address, final int sizeClass)
    {
        frees++;
    }

    @Override
    public void flushReleased()
    {
    }
}
