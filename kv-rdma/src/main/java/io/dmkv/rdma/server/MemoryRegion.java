package io.dmkv.rdma.server;

import java.nio.MappedByteBuffer;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One registered region of a memory node: off-heap bytes every transport works on in place.
 * CAS and FAA are the CPU atomics of {@link AtomicBuffer}, so their semantics match a NIC's.
 *
 * <p>The key is a capability that {@link RegionTable} can replace (re-keying, for fencing): a
 * verb is checked against the key current when it runs, so once {@link RegionTable#rekey}
 * returns, verbs carrying the old key are refused. The key is one volatile field read per verb,
 * which is all fencing costs on the verb path.
 */
public final class MemoryRegion
{
    /** Regions are at most 1 GiB so offsets fit an {@code int} (Agrona and DiSNI index with int). */
    public static final long MAX_LENGTH = 1L << 30;

    private final int id;
    private volatile long key;
    private volatile boolean writeProtected;
    private int generation;
    private final UnsafeBuffer buffer;
    private final MappedByteBuffer mapping;

    MemoryRegion(final int id, final long key, final UnsafeBuffer buffer, final MappedByteBuffer mapping)
    {
        this.id = id;
        this.key = key;
        this.buffer = buffer;
        this.mapping = mapping;
    }

    public int id()
    {
        return id;
    }

    public long key()
    {
        return key;
    }

    /** How often the region was re-keyed since the node started (0 at first). */
    public synchronized int keyGeneration()
    {
        return generation;
    }

    /** Replaces the key; {@code newGeneration} says whether this is a re-keying the cluster sees. */
    synchronized void key(final long newKey, final boolean newGeneration)
    {
        key = newKey;
        if (newGeneration)
        {
            generation++;
        }
    }

    /**
     * True while the region refuses every WRITE, CAS and FAA whatever key they carry (READs go on):
     * the node holds it still while a copy takes its last differences ({@link RegionTable#protect}).
     */
    public boolean writeProtected()
    {
        return writeProtected;
    }

    void writeProtected(final boolean on)
    {
        writeProtected = on;
    }

    public int length()
    {
        return buffer.capacity();
    }

    /** The region's bytes. */
    public AtomicBuffer buffer()
    {
        return buffer;
    }

    /** Virtual address of the first byte (what an RNIC registration needs). */
    public long address()
    {
        return buffer.addressOffset();
    }

    /** The file mapping behind the region, or null when it is anonymous off-heap memory. */
    public MappedByteBuffer mapping()
    {
        return mapping;
    }
}
