package io.dmkv.computenode.index;

import java.nio.ByteBuffer;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cache.BucketSnapshot;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsChannel;

/**
 * RACE bucket probing for one operation: reads a key's two combined buckets from the primary
 * index replica (or, to check an index-cache entry, only the one holding the cached slot), tells whether they are current (they cover the key, no split froze them),
 * finds the candidate slots whose fingerprint and hash byte match, reads the candidate objects
 * and compares full keys. Buckets are read from the primary only (a backup may hold a losing
 * SNAPSHOT proposal); objects from any replica, in turn: a writer WRITEs its object to every
 * replica before any slot points at it, and a READ torn by a reuse fails the checksum on any
 * replica alike. Holds the operation's scratch buffers, so probing allocates nothing
 * once the candidate buffer has grown to the objects it meets. Not thread-safe.
 */
public final class BucketProbe
{
    /** The candidate index when no candidate holds the key. */
    public static final int NO_MATCH = -1;
    /** The candidate index when an object changed under the READ (the caller starts over). */
    public static final int RACED = -2;

    private static final int MAX_CANDIDATES = 2 * CombinedBucket.SLOT_COUNT;

    private final ClusterView view;
    private final UnsafeBuffer buckets = new UnsafeBuffer(new byte[2 * CombinedBucket.LENGTH]);
    private final long[] candSlot = new long[MAX_CANDIDATES];
    private final long[] candValue = new long[MAX_CANDIDATES];
    private final int[] candOffset = new int[MAX_CANDIDATES];
    private final Crc32cDigest digest = new Crc32cDigest();
    private UnsafeBuffer objects = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
    private int candidates;
    /** See {@link #racedSlot}. */
    private long racedSlot;
    private int nextReplica;
    private long subtable;
    private int c1;
    private int c2;
    /** Bit k set if combined bucket k (0: c1, 1: c2) was read. */
    private int readMask;
    /** The verb of the speculated object's READ in its batch ({@link #readObject}). */
    private int objectVerb;

    public BucketProbe(final ClusterView view)
    {
        this.view = view;
    }

    /** Adds the READ of both combined buckets of a key (in {@code table}) to {@code b}. */
    public void readBuckets(final VerbBatch b, final long table, final int first, final int second)
    {
        subtable = table;
        c1 = first;
        c2 = second;
        readMask = 3;
        view.read(b, table + Subtable.combinedBucketOffset(first), 0, buckets, 0, CombinedBucket.LENGTH);
        view.read(b, table + Subtable.combinedBucketOffset(second), 0, buckets, CombinedBucket.LENGTH,
            CombinedBucket.LENGTH);
    }

    /**
     * Adds the READ of the one combined bucket of a key that holds {@code slotAddress} (a cached
     * slot) to {@code b}: enough to confirm the cache entry, not to look for the key elsewhere.
     *
     * @return false, adding nothing, if neither combined bucket holds that slot.
     */
    public boolean readBucketHolding(final VerbBatch b, final long table, final int first, final int second,
        final long slotAddress)
    {
        final int k = holding(table, first, slotAddress) ? 0 : holding(table, second, slotAddress) ? 1 : -1;
        if (k < 0)
        {
            return false;
        }
        subtable = table;
        c1 = first;
        c2 = second;
        readMask = 1 << k;
        view.read(b, table + Subtable.combinedBucketOffset(k == 0 ? first : second), 0, buckets,
            k * CombinedBucket.LENGTH, CombinedBucket.LENGTH);
        return true;
    }

    /** Brings {@code snapshot}'s copy of the combined buckets read up to date. */
    public void teach(final BucketSnapshot snapshot)
    {
        for (int k = 0; k < 2; k++)
        {
            if (wasRead(k))
            {
                snapshot.learn(subtable, k == 0 ? c1 : c2, buckets, k * CombinedBucket.LENGTH);
            }
        }
    }

    /** True if both combined buckets were read (so the key's absence from them means something). */
    public boolean readBoth()
    {
        return readMask == 3;
    }

    private static boolean holding(final long table, final int c, final long slotAddress)
    {
        final long start = table + Subtable.combinedBucketOffset(c);
        return slotAddress >= start && slotAddress < start + CombinedBucket.LENGTH;
    }

    private boolean wasRead(final int k)
    {
        return (readMask & (1 << k)) != 0;
    }

    private long header(final int k)
    {
        return CombinedBucket.header(buckets, k * CombinedBucket.LENGTH, k == 0 ? c1 : c2);
    }

    /**
     * Adds a READ of the object a slot value points at into candidate position 0 (a cache
     * speculation). The transport may lend its bytes instead of copying them (the {@code local}
     * transport does): {@link #speculatedValue} reads them where they are, {@link #speculationHolds}
     * copies them first.
     */
    public void readObject(final VerbBatch b, final long slotValue)
    {
        final int length = Slot.objectLength(slotValue);
        ensureObjects(length);
        objectVerb = view.readLendable(b, Slot.address(slotValue), replicaBesideBuckets(Slot.address(slotValue)), objects,
            0, length);
    }

    /** True if every bucket read says its subtable covers the key. */
    public boolean covers(final long hash)
    {
        return (!wasRead(0) || Bucket.covers(Bucket.plain(header(0)), hash))
            && (!wasRead(1) || Bucket.covers(Bucket.plain(header(1)), hash));
    }

    /** True if a split froze a bucket read. */
    public boolean frozen()
    {
        return (wasRead(0) && Bucket.isFrozen(header(0))) || (wasRead(1) && Bucket.isFrozen(header(1)));
    }

    /** The plain header (depth and suffix) of the first bucket read. */
    public long plainHeader()
    {
        return Bucket.plain(header(wasRead(0) ? 0 : 1));
    }

    /** The value now in the buckets read of the slot at {@code slotAddress}, or -1 if it is not one of them. */
    public long slotValueAt(final long slotAddress)
    {
        final int at1 = wasRead(0) ? Subtable.slotInCombinedBucket(c1, slotAddress - subtable) : -1;
        if (at1 >= 0)
        {
            return buckets.getLong(at1);
        }
        final int at2 = wasRead(1) ? Subtable.slotInCombinedBucket(c2, slotAddress - subtable) : -1;
        return at2 >= 0 ? buckets.getLong(CombinedBucket.LENGTH + at2) : -1;
    }

    /** The global address of an empty slot in the buckets read (the emptier bucket first, as RACE does), or 0. */
    public long firstFreeSlot()
    {
        requireBoth();
        final int free1 = Integer.bitCount(CombinedBucket.emptySlots(buckets, 0, c1));
        final int free2 = Integer.bitCount(CombinedBucket.emptySlots(buckets, CombinedBucket.LENGTH, c2));
        for (int pass = 0; pass < 2; pass++)
        {
            final int k = (pass == 0) == (free1 >= free2) ? 0 : 1;
            final int c = k == 0 ? c1 : c2;
            final int empty = CombinedBucket.emptySlots(buckets, k * CombinedBucket.LENGTH, c);
            if (empty != 0)
            {
                return subtable + Subtable.slotOffset(c, Integer.numberOfTrailingZeros(empty));
            }
        }
        return 0;
    }

    /** The address of the header of the bucket holding {@code slotAddress} (its split fence). */
    public long bucketHeaderAddress(final long slotAddress)
    {
        final long inSubtable = slotAddress - subtable;
        return subtable + (inSubtable / Bucket.LENGTH) * Bucket.LENGTH + Bucket.HEADER_OFFSET;
    }

    /** Collects the slots whose fingerprint and hash byte match; returns how many. */
    public int findCandidates(final long hash, final int fp)
    {
        requireBoth();
        int n = 0;
        final int suffix = (int)(hash & 0xFF);
        for (int k = 0; k < 2; k++)
        {
            final int c = k == 0 ? c1 : c2;
            int mask = CombinedBucket.fingerprintMatches(buckets, k * CombinedBucket.LENGTH, c, fp);
            while (mask != 0)
            {
                final int i = Integer.numberOfTrailingZeros(mask);
                mask &= mask - 1;
                final long value = CombinedBucket.slot(buckets, k * CombinedBucket.LENGTH, c, i);
                // A slot naming a region the cluster does not have is damaged memory: skipped (a region
                // past a map that may grow is a new one: knownRegion).
                if (Slot.hashSuffix(value) == suffix && Slot.isWellFormed(value)
                    && knownRegion(GlobalAddress.regionId(Slot.address(value))))
                {
                    candSlot[n] = subtable + Subtable.slotOffset(c, i);
                    candValue[n] = value;
                    n++;
                }
            }
        }
        candidates = n;
        return n;
    }

    /** Adds the READs of every candidate object found to {@code b} (one round trip). */
    public void readCandidates(final VerbBatch b)
    {
        int total = 0;
        for (int i = 0; i < candidates; i++)
        {
            total += Slot.objectLength(candValue[i]);
        }
        ensureObjects(total);
        int offset = 0;
        for (int i = 0; i < candidates; i++)
        {
            final int length = Slot.objectLength(candValue[i]);
            candOffset[i] = offset;
            view.read(b, Slot.address(candValue[i]), objectReplica(Slot.address(candValue[i])), objects, offset, length);
            offset += length;
        }
    }

    /**
     * After {@link #readCandidates}: the index of the candidate holding {@code key},
     * {@link #NO_MATCH} if none does, or {@link #RACED} if an object changed under the READ.
     */
    public int match(final byte[] key)
    {
        racedSlot = 0;
        for (int i = 0; i < candidates; i++)
        {
            final int length = Slot.objectLength(candValue[i]);
            final ObjectStatus status = KvObject.validate(objects, candOffset[i], length, digest);
            if (status == ObjectStatus.OK)
            {
                if (KvObject.keyEquals(objects, candOffset[i], key))
                {
                    return i;
                }
                // A whole object whose key does not hash to the slot that pointed at it was freed
                // and reused after the bucket READ (a reader descheduled past a reclaim): the
                // slot has moved on, so its answer is no answer.
                if (racedSlot == 0 && !keyFitsSlot(candOffset[i], candValue[i]))
                {
                    racedSlot = candValue[i];
                }
            }
            else if (racedSlot == 0)
            {
                racedSlot = candValue[i];
            }
        }
        return racedSlot != 0 ? RACED : NO_MATCH;
    }

    /**
     * After {@link #match} answered {@link #RACED}: the value of the first slot whose object was
     * not whole or held a key the slot cannot point to. The same value again on the next attempt
     * means damaged memory, not a race (a race moves the slot on).
     */
    public long racedSlot()
    {
        return racedSlot;
    }

    private boolean keyFitsSlot(final int offset, final long slot)
    {
        final long h = KeyHash.hash(objects, KvObject.keyOffset(offset), KvObject.keyLength(objects, offset));
        return Slot.fingerprint(slot) == KeyHash.fingerprint(h) && Slot.hashSuffix(slot) == (int)(h & 0xFF);
    }

    /**
     * After {@link #readObject} in {@code b}, completed: true if the object read is whole and holds
     * {@code key}, which is then at offset 0 of {@link #objects()} (copied there if the transport
     * lent it).
     */
    public boolean speculationHolds(final VerbBatch b, final long slotValue, final byte[] key)
    {
        final int length = Slot.objectLength(slotValue);
        if (b.isLent(objectVerb))
        {
            b.source(objectVerb).getBytes(b.sourceOffset(objectVerb), objects, 0, length);
        }
        return KvObject.validate(objects, 0, length, digest) == ObjectStatus.OK && KvObject.keyEquals(objects, 0, key);
    }

    /**
     * After {@link #readObject} in {@code b}, completed: the value of the object read in a new array
     * if it is whole and holds {@code key}, else null. Read where the transport left the bytes
     * (lent memory included), each byte once ({@link KvObject#valueIfHolds}): the value is copied
     * once, into the array returned.
     */
    public byte[] speculatedValue(final VerbBatch b, final long slotValue, final byte[] key)
    {
        return KvObject.valueIfHolds(b.source(objectVerb), b.sourceOffset(objectVerb), Slot.objectLength(slotValue), key,
            digest);
    }

    /** The buffer objects are read into: the speculated object at 0, candidate {@code i} at {@link #candidateOffset}. */
    public DirectBuffer objects()
    {
        return objects;
    }

    /** Where candidate {@code i} starts in {@link #objects()}. */
    public int candidateOffset(final int i)
    {
        return candOffset[i];
    }

    public long candidateSlot(final int i)
    {
        return candSlot[i];
    }

    public long candidateValue(final int i)
    {
        return candValue[i];
    }

    /** The value bytes of candidate {@code i} (after {@link #match} returned it). */
    public byte[] candidateValueBytes(final int i)
    {
        return KvObject.valueBytes(objects, candOffset[i]);
    }

    /**
     * The replica of {@code object} on the node the bucket READ of the same batch goes to (the
     * index primary), if it has one there, else the next in turn: on tcp each node a batch touches
     * costs a frame, a write and a wake-up on both ends, so a speculative get that stays on one
     * node costs one of each instead of two.
     */
    private int replicaBesideBuckets(final long object)
    {
        final VerbsChannel bucketNode = view.replicaOf(subtable, 0).channel();
        final int r = view.replicasOf(object);
        for (int j = 0; j < r; j++)
        {
            if (view.replicaOf(object, j).channel() == bucketNode)
            {
                return j;
            }
        }
        return objectReplica(object);
    }

    /** The replica the next object READ goes to: each in turn, so object READs spread over the replicas. */
    private int objectReplica(final long object)
    {
        final int r = view.replicasOf(object);
        nextReplica = nextReplica + 1 >= r ? 0 : nextReplica + 1;
        return nextReplica;
    }

    private void requireBoth()
    {
        if (readMask != 3)
        {
            throw new IllegalStateException("only one combined bucket was read: the key may be in the other");
        }
    }

    private void ensureObjects(final int length)
    {
        if (objects.capacity() < length)
        {
            objects = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(length, objects.capacity() * 2)));
        }
    }

    /**
     * True if region {@code g} is in this client's map. A region past it is damaged memory in static
     * mode; in coordinated mode it may have been added for capacity after this client's map, so the
     * probe is refused as a re-keyed region is, and the operation retried after its map is re-read
     * (the probe may run on a completion thread, which must not block on the coordinator).
     *
     * @throws RemoteAccessException (UNKNOWN_REGION) for a region past a map that may grow.
     */
    private boolean knownRegion(final int g)
    {
        if (g < view.regions())
        {
            return true;
        }
        if (view.growable())
        {
            throw new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, -1, "a slot names region " + g
                + ", past the " + view.regions() + " regions of this client's region map (epoch " + view.map().epoch()
                + "): a region added for capacity since; the map is re-read and the operation retried");
        }
        return false;
    }
}
