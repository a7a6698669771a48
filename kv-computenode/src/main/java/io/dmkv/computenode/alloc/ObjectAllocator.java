package io.dmkv.computenode.alloc;

import io.dmkv.rdma.VerbBatch;

/**
 * Where the operations get object memory: level 2 of the two-level memory management, slab
 * allocation of objects of the size classes inside blocks from the memory nodes. Thread-safe.
 *
 * <p>Asynchronous first: an operation calls {@link #tryAllocate}, which never waits, and when the
 * size class has no free object it calls {@link #refill} and continues from the callback, so no
 * thread waits for a block. {@link #allocate} is the blocking convenience on top.
 */
public interface ObjectAllocator
{
    /**
     * Takes a free object of {@code sizeClass} if one is at hand: fills {@code out} with it, the
     * object the next allocation of this size class will return, and the one the previous
     * allocation returned (the embedded log links each object to both before it is written).
     * Never blocks and never posts a verb or an RPC on the caller's thread.
     *
     * @return false when the class has no free object without fetching a new block ({@code out}
     *         is then unchanged): call {@link #refill}.
     * @throws io.dmkv.MemoryFullException when the last {@link #refill} of this class found the
     *                                     memory nodes full; the transport's exception when it failed.
     *                                     A failure is thrown to as many callers as callbacks were run
     *                                     because of it, so each waiting caller learns of it; after
     *                                     that the next {@link #refill} fetches again.
     * @throws IllegalStateException       after the allocator is closed.
     */
    boolean tryAllocate(int sizeClass, Allocation out);

    /**
     * Starts fetching a block for {@code sizeClass} asynchronously unless one is being fetched,
     * and runs {@code ready} exactly once when an allocation of the class may succeed or when the
     * fetch failed (the next {@link #tryAllocate} then throws the failure). {@code ready} runs on
     * whatever thread completes the fetch, or at once on the caller's thread if an object is
     * already at hand, the class's last fetch failed, or the allocator is closed; it must not block.
     * After {@code ready}, {@link #tryAllocate} may still return false (another thread took the
     * objects first): call {@code refill} again.
     */
    void refill(int sizeClass, Runnable ready);

    /**
     * As {@link #tryAllocate}, waiting for refills until it succeeds. Blocks: never call it from
     * a completion thread or a {@link #refill} callback.
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

    /**
     * Frees the object at {@code address} with no verb on the caller's path: the writer whose
     * primary CAS replaced it (or that abandons an object nobody references) calls this once.
     * An object of a block this client owns goes back to its class at the next reclaim; any other
     * is freed by an FAA on its bitmap word posted in the background, summed with the other frees
     * of that word (docs/memory.md).
     */
    void release(long address, int sizeClass);

    /** Posts the released frees still pending and waits for them (when the store closes). */
    void flushReleased();
}
