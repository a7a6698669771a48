package io.dmkv.computenode.ops;

import io.dmkv.computenode.alloc.SlabAllocator;
import io.dmkv.rdma.VerbBatch;

/** The operations' view of the slab allocator (which also tracks the log's prev pointers). */
public final class SlabObjectAllocator implements ObjectAllocator
{
    private final SlabAllocator slab;
    private final ThreadLocal<io.dmkv.computenode.alloc.Allocation> scratch =
        ThreadLocal.withInitial(io.dmkv.computenode.alloc.Allocation::new);

    public SlabObjectAllocator(final SlabAllocator slab)
    {
        this.slab = slab;
    }

    public SlabAllocator slab()
    {
        return slab;
    }

    @Override
    public void allocate(final int sizeClass, final ObjectAllocator.Allocation out)
    {
        final io.dmkv.computenode.alloc.Allocation a = scratch.get();
        slab.allocate(sizeClass, a);
        out.address = a.address();
        out.next = a.next();
        out.prev = a.prev();
    }

    @Override
    public void free(final long address, final int sizeClass, final VerbBatch batch)
    {
        slab.free(address, sizeClass, batch);
    }
}
