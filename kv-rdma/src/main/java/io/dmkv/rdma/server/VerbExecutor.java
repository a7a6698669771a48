package io.dmkv.rdma.server;

import java.lang.invoke.VarHandle;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbRules;

/**
 * Applies one-sided verbs to registered memory with a NIC's semantics, for every transport that
 * emulates one (local, tcp): atomics are CPU atomics, and a WRITE publishes its last byte only
 * after all the others (release), while a READ orders its loads after the caller's earlier
 * loads (acquire) — the ordering contract the embedded log's used bit relies on.
 */
public final class VerbExecutor
{
    private VerbExecutor()
    {
    }

    /**
     * Checks a verb against the region table ({@link VerbRules}); returns null when it may run,
     * else the reason it is refused (the caller turns it into an error reply or exception). A
     * write (WRITE, CAS, FAA) on a write-protected region is refused as an unknown key: the writer
     * re-reads the keys and the map, and holds while the map says the region is sealed.
     */
    public static RemoteAccessException.Reason check(final MemoryRegion region, final int op, final long offset,
        final int length)
    {
        if (region == null || op != Verb.READ && region.writeProtected())
        {
            return RemoteAccessException.Reason.UNKNOWN_REGION;
        }
        return VerbRules.check(op, offset, length, region.length());
    }

    public static void read(final MemoryRegion region, final long offset, final MutableDirectBuffer dst,
        final int dstOffset, final int length)
    {
        VarHandle.acquireFence();
        region.buffer().getBytes((int)offset, dst, dstOffset, length);
    }

    /** Answers the lendable READ {@code i} of {@code batch} with the region's own memory at {@code offset}. */
    public static void lend(final MemoryRegion region, final long offset, final VerbBatch batch, final int i)
    {
        VarHandle.acquireFence();
        batch.lend(i, region.buffer(), (int)offset);
    }

    public static void write(final MemoryRegion region, final long offset, final DirectBuffer src,
        final int srcOffset, final int length)
    {
        final AtomicBuffer b = region.buffer();
        final int at = (int)offset;
        final int last = length - 1;
        if (last > 0)
        {
            b.putBytes(at, src, srcOffset, last);
        }
        b.putByteVolatile(at + last, src.getByte(srcOffset + last));
    }

    /** Compare-and-swap returning the old value, as an RNIC's ATOMIC_CMP_AND_SWP does. */
    public static long cas(final MemoryRegion region, final long offset, final long expected, final long desired)
    {
        final AtomicBuffer b = region.buffer();
        final int at = (int)offset;
        while (true)
        {
            final long current = b.getLongVolatile(at);
            if (current != expected)
            {
                return current;
            }
            if (b.compareAndSetLong(at, expected, desired))
            {
                return expected;
            }
        }
    }

    public static long faa(final MemoryRegion region, final long offset, final long delta)
    {
        return region.buffer().getAndAddLong((int)offset, delta);
    }
}
