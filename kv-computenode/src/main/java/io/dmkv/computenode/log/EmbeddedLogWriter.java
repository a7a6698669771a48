package io.dmkv.computenode.log;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.alloc.Allocation;
import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.VerbBatch;

/**
 * FUSEE's embedded operation log, written side: every object a mutation writes carries its log
 * entry (next and prev pointers of its size class's list in allocation order, op code, the old
 * primary value once committed, a checksum, and the used bit stored last). The writer allocates
 * the object, writes it with its entry to r replicas (and the client's log head the first time a
 * size class is used), writes the commit (the old primary value) before SNAPSHOT decides, and
 * releases objects the operation replaced or abandoned, which costs the operation no verb
 * ({@link ObjectAllocator#release}). The recovery side reads what this writes.
 *
 * <p>Per operation state lives in a {@link Record}; the writer itself is shared and thread-safe.
 */
public final class EmbeddedLogWriter
{
    private final ClusterView view;
    private final ObjectAllocator allocator;
    private final int clientId;
    private final AtomicIntegerArray logHeadWritten = new AtomicIntegerArray(SizeClasses.COUNT);
    /** Numbers allocations, so the oldest object still in flight per class can be found. */
    private final AtomicLong allocations = new AtomicLong();
    /** Every record made, so the heartbeat can find the oldest object in flight per class. */
    private final List<Record> records = new CopyOnWriteArrayList<>();
    /** Numbers this client's DELETEs (their tombstones), from a random start. */
    private final AtomicLong deletes = new AtomicLong(ThreadLocalRandom.current().nextLong());

    public EmbeddedLogWriter(final ClusterView view, final ObjectAllocator allocator, final int clientId)
    {
        this.view = view;
        this.allocator = allocator;
        this.clientId = clientId;
    }

    public ObjectAllocator allocator()
    {
        return allocator;
    }

    /** One operation's log state: the object it writes and its image. */
    public final class Record
    {
        private final Allocation allocation = new Allocation();
        private final UnsafeBuffer head = new UnsafeBuffer(new byte[8]);
        private final Crc32cDigest digest = new Crc32cDigest();
        private UnsafeBuffer image = new UnsafeBuffer(ByteBuffer.allocateDirect(2048));
        private long object;
        /** Allocation number of {@link #object} while the operation is in flight, else 0. */
        private volatile long inFlight;
        private int objectSize;
        private int usedLength;
        private int sizeClass;

        Record()
        {
        }

        /** Asks the allocator for a block of {@code sc}; {@code ready} runs when an allocation may succeed. */
        public void refill(final int sc, final Runnable ready)
        {
            allocator.refill(sc, ready);
        }

        /** The object this operation wrote (0 if none yet). */
        public long object()
        {
            return object;
        }

        /** Bytes the object written uses (header, key, value, log entry): what its slot's length code holds. */
        public int usedLength()
        {
            return usedLength;
        }

        /**
         * Takes an object of {@code sc} without waiting; false when the allocator must refill
         * first ({@link ObjectAllocator#refill}).
         */
        public boolean tryAllocate(final int sc)
        {
            if (!allocator.tryAllocate(sc, allocation))
            {
                return false;
            }
            sizeClass = sc;
            object = allocation.address();
            inFlight = allocations.incrementAndGet();
            objectSize = SizeClasses.objectSize(sc);
            return true;
        }

        /** Adds the WRITEs of the allocated object with its log entry (and the log head, once) to {@code b}. */
        public void appendObject(final VerbBatch b, final byte[] key, final byte[] value, final int op)
        {
            if (image.capacity() < objectSize)
            {
                image = new UnsafeBuffer(ByteBuffer.allocateDirect(objectSize));
            }
            usedLength = KvObject.encode(image, 0, sizeClass, key, value, op, allocation.next(), allocation.prev(),
                digest);
            view.writeAll(b, object, image, 0, usedLength);
            if (allocation.prev() == 0 && logHeadWritten.compareAndSet(sizeClass, 0, 1))
            {
                head.putLong(0, object);
                final long at = (long)view.clientLogHeadsOffset() + ClientLogHeads.headOffset(clientId, sizeClass);
                for (int j = 0; j < view.replicaCount(RegionLayout.ROOT_REGION_ID); j++)
                {
                    b.write(view.replica(RegionLayout.ROOT_REGION_ID, j), at, head, 0, 8);
                }
            }
        }

        /** Adds the log commit (the old primary value, written before SNAPSHOT decides) to {@code b}. */
        public void appendCommit(final VerbBatch b, final long vOld)
        {
            final int entryOffset = usedLength - LogEntry.LENGTH;
            LogEntry.commit(image, entryOffset, vOld, digest);
            view.writeAll(b, object + entryOffset + LogEntry.COMMIT_OFFSET, image, entryOffset + LogEntry.COMMIT_OFFSET,
                LogEntry.COMMIT_LENGTH);
        }

        /**
         * A fresh tombstone for a DELETE of the key hashed {@code hash}: names this client and the
         * next number of its DELETEs. A DELETE writes no object; its tombstone is its record.
         */
        public long tombstone(final long hash)
        {
            return Slot.tombstone(clientId, deletes.getAndIncrement(), hash);
        }

        /** The object will never be referenced: release it ({@link ObjectAllocator#release}). */
        public void abandon()
        {
            if (object != 0)
            {
                inFlight = 0;
                allocator.release(object, sizeClass);
                object = 0;
            }
        }

        /** The operation is done with its object (a slot now points at it). */
        public void keep()
        {
            inFlight = 0;
            object = 0;
        }

        /**
         * Releases the object a replaced slot value pointed at: called once, by the writer whose
         * primary CAS replaced it; costs the operation no verb ({@link ObjectAllocator#release}).
         */
        public void free(final long address, final int sc)
        {
            allocator.release(address, sc);
        }
    }

    /** A record for one operation; reuse it for every operation run by the same state. */
    public Record newRecord()
    {
        final Record r = new Record();
        records.add(r);
        return r;
    }

    /**
     * Fills {@code heads[c]} with the object of size class c whose operation has been in flight
     * longest (0 if none is): where a walk of the log must start to meet every operation that may
     * be unfinished. Read from another thread than the operations' (the heartbeat's); a value it
     * reads while an operation finishes names an object that was in flight a moment ago, which a
     * walk simply passes over.
     */
    public void oldestInFlight(final long[] heads)
    {
        final long[] seq = new long[heads.length];
        java.util.Arrays.fill(heads, 0);
        for (final Record r : records)
        {
            final long n = r.inFlight;
            final long object = r.object;
            final int sc = r.sizeClass;
            if (n != 0 && object != 0 && (heads[sc] == 0 || n < seq[sc]))
            {
                heads[sc] = object;
                seq[sc] = n;
            }
        }
    }
}
