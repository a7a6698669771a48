package io.dmkv.computenode.ops;

import io.dmkv.rdma.VerbBatch;

/**
 * Where the operations get object memory: the client-side slab allocator on top of blocks from
 * the memory nodes. Thread-safe.
 */
public interface ObjectAllocator
{
    /**
     * Takes a free object of {@code sizeClass}; fills {@code out.address} with it, {@code out.next}
     * with the object the next allocation of this size class will return, and {@code out.prev}
     * with the one the previous allocation returned (0 for the first): the embedded log links
     * each object to both before it is written.
     *
     * @throws io.dmkv.MemoryFullException when the memory nodes have no block left.
     */
    void allocate(int sizeClass, Allocation out);

    /**
     * Adds to {@code batch} the verbs that free the object at {@code address} (an FAA on its
     * block's free bitmap on every replica). The caller posts the batch; each object is freed
     * exactly once, by the writer whose CAS replaced it.
     */
    void free(long address, int sizeClass, VerbBatch batch);

    /** A free object of a size class, and its neighbours in the client's allocation order. */
    final class Allocation
    {
        public long address;
        public long next;
        public long prev;
    }
}
