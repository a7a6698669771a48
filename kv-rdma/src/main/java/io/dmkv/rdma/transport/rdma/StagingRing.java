package io.dmkv.rdma.transport.rdma;

/**
 * Allocation of a channel's registered staging memory. An RC queue pair completes its work
 * requests in the order they were posted, so staging is handed out and given back in FIFO order:
 * a ring with a monotonic allocation cursor ({@code tail}) and release cursor ({@code head}). An
 * allocation that would straddle the end skips to the start, so every slice is contiguous. Slices
 * are 8-byte aligned (atomic results are 8-byte words). Not thread-safe: the channel's lock guards it.
 */
final class StagingRing
{
    private final int capacity;
    private long head;
    private long tail;

    StagingRing(final int capacity)
    {
        if (capacity <= 0 || (capacity & 7) != 0)
        {
            throw new IllegalArgumentException("staging capacity must be a positive multiple of 8: " + capacity);
        }
        this.capacity = capacity;
    }

    int capacity()
    {
        return capacity;
    }

    /** Bytes handed out and not yet released, including skipped ends. */
    long used()
    {
        return tail - head;
    }

    /** Whether a slice of {@code length} bytes can ever be allocated. */
    boolean fits(final int length)
    {
        return length > 0 && align(length) <= capacity;
    }

    /** Offset of a contiguous slice of {@code length} bytes, or -1 if it does not fit now. */
    int allocate(final int length)
    {
        final long need = align(length);
        if (length <= 0 || need > capacity)
        {
            return -1;
        }
        final long position = tail % capacity;
        final long skip = position + need > capacity ? capacity - position : 0;
        if (tail + skip + need - head > capacity)
        {
            return -1;
        }
        tail += skip;
        final int offset = (int)(tail % capacity);
        tail += need;
        return offset;
    }

    /** The allocation cursor: pass it to {@link #releaseTo} once everything allocated so far is done. */
    long mark()
    {
        return tail;
    }

    /** Releases every slice allocated before {@code mark} was taken. */
    void releaseTo(final long mark)
    {
        if (mark < head || mark > tail)
        {
            throw new IllegalStateException("staging released out of order: mark " + mark + " outside [" + head + ", "
                + tail + "]");
        }
        head = mark;
    }

    private static long align(final int length)
    {
        return ((long)length + 7) & ~7L;
    }
}
