package io.dmkv.computenode.ops;

import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cluster.ClusterView;

/** Test allocators for protocol tests in other packages. */
public final class TestAllocators
{
    private TestAllocators()
    {
    }

    /** A bump allocator over the data regions that never reuses memory. */
    public static ObjectAllocator bump(final ClusterView view)
    {
        return new BumpAllocator(view);
    }
}
