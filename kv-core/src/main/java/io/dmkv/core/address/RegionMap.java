package io.dmkv.core.address;

import java.nio.ByteOrder;
import java.util.Arrays;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Where each region of the global address space lives: region id to an ordered list of
 * memory-node indexes, primary first, at a given epoch. Immutable; a change (a node failure,
 * a re-replication) is a new map with a higher epoch, and every request carries the epoch of the
 * map it was routed by. The replica of region {@code g} on a listed node is the region that node
 * registers with id {@code g}.
 *
 * <h2>Placement</h2>
 * {@link #place} is a rotation with a stride that changes every lap, which keeps it
 * deterministic and exactly balanced while spreading a failed node's load:
 * <pre>
 *   N = memory nodes, r = replicas, p = g mod N, lap = g / N
 *   replica 0 (primary) = p
 *   replica j (1..r-1)  = (p + 1 + ((lap + j - 1) mod (N - 1))) mod N
 * </pre>
 * For a fixed lap and j, {@code p -> replica j} is a bijection of the nodes, so in every full lap
 * of N regions each node is primary exactly once and holds exactly r replicas; primaries never
 * differ by more than one region between nodes. The r-1 backup offsets are distinct values in
 * 1..N-1, so a region's replicas are distinct nodes. Unlike plain rotation (backups always on
 * p+1, p+2, ...), the offset moves on each lap, so when a node fails its regions' new primaries
 * are spread over all other nodes instead of doubling the load of its one successor.
 * Consistent hashing (FUSEE's choice) moves fewer regions when nodes join, but dmkv stores the
 * map explicitly and versions it, so placement only computes the initial map.
 *
 * <h2>Serialised form</h2>
 * Explicitly little-endian (it travels between hosts and through the coordinator):
 * <pre>
 *   0        4        6    7    8                16         20         24
 *   +--------+--------+----+----+----------------+----------+----------+---------------------+
 *   | magic  | format | r  | 0  | epoch (i64)    | nodes N  | regions  | entries             |
 *   | "DMRM" | u16 =1 | u8 |    |                | (u32)    | R (u32)  | R x r x u16         |
 *   +--------+--------+----+----+----------------+----------+----------+---------------------+
 * </pre>
 * Entry {@code g * r + j} is the node index of replica j of region g, or 0xFFFF for none (only
 * after the live replicas, when a region has lost some).
 */
public final class RegionMap
{
    /** Smallest replication factor. */
    public static final int MIN_REPLICATION = 1;
    /** Largest replication factor (FUSEE's SNAPSHOT reasoning is checked up to 5). */
    public static final int MAX_REPLICATION = 5;
    /** Node indexes are u16 in the serialised form and 0xFFFF means "none". */
    public static final int MAX_MEMORY_NODES = 0xFFFE;
    /** Magic of the serialised form: the bytes "DMRM". */
    public static final int MAGIC = 0x4D52_4D44;
    /** Version of the serialised form. */
    public static final int FORMAT_VERSION = 1;
    /** Bytes before the entries in the serialised form. */
    public static final int HEADER_LENGTH = 24;
    /** Offset of the magic (u32). */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the format version (u16). */
    public static final int FORMAT_OFFSET = 4;
    /** Offset of the replication factor (u8); a zero byte follows. */
    public static final int REPLICATION_OFFSET = 6;
    /** Offset of the epoch (i64). */
    public static final int EPOCH_OFFSET = 8;
    /** Offset of the number of memory nodes (u32). */
    public static final int MEMORY_NODES_OFFSET = 16;
    /** Offset of the number of regions (u32). */
    public static final int REGIONS_OFFSET = 20;
    /** Bytes per entry (one replica of one region). */
    public static final int ENTRY_LENGTH = 2;
    /** Entry value for "no replica". */
    public static final int NONE = 0xFFFF;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final long epoch;
    private final int memoryNodeCount;
    private final int replicationFactor;
    private final int regionCount;
    /** regionCount * replicationFactor node indexes, -1 after the live replicas of a region. */
    private final int[] entries;

    private RegionMap(final long epoch, final int memoryNodeCount, final int replicationFactor, final int regionCount,
        final int[] entries)
    {
        this.epoch = epoch;
        this.memoryNodeCount = memoryNodeCount;
        this.replicationFactor = replicationFactor;
        this.regionCount = regionCount;
        this.entries = entries;
    }

    /**
     * Checks a replication factor against the number of memory nodes.
     *
     * @throws IllegalArgumentException with a message naming the bad value and the limit.
     */
    public static void validateReplication(final int replicationFactor, final int memoryNodeCount)
    {
        if (memoryNodeCount < 1 || memoryNodeCount > MAX_MEMORY_NODES)
        {
            throw new IllegalArgumentException("number of memory nodes " + memoryNodeCount + " is outside 1.."
                + MAX_MEMORY_NODES);
        }
        if (replicationFactor < MIN_REPLICATION || replicationFactor > MAX_REPLICATION)
        {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " is outside "
                + MIN_REPLICATION + ".." + MAX_REPLICATION);
        }
        if (replicationFactor > memoryNodeCount)
        {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " needs at least "
                + replicationFactor + " memory nodes, but only " + memoryNodeCount + " are configured");
        }
    }

    /**
     * The initial map: {@code regionCount} regions placed over {@code memoryNodeCount} nodes with
     * {@code replicationFactor} replicas each, by the rotation described in the class comment.
     *
     * @throws IllegalArgumentException if r is outside 1..5 or above the number of nodes, or the
     *                                  region count is outside 1..262,144, or the epoch negative.
     */
    public static RegionMap place(final long epoch, final int regionCount, final int memoryNodeCount,
        final int replicationFactor)
    {
        validateReplication(replicationFactor, memoryNodeCount);
        validateRegionCount(regionCount);
        validateEpoch(epoch);
        final int n = memoryNodeCount;
        final int r = replicationFactor;
        final int[] entries = new int[regionCount * r];
        for (int g = 0; g < regionCount; g++)
        {
            final int primary = g % n;
            final int lap = g / n;
            entries[g * r] = primary;
            for (int j = 1; j < r; j++)
            {
                final int step = 1 + (lap + j - 1) % (n - 1);
                entries[g * r + j] = (primary + step) % n;
            }
        }
        return new RegionMap(epoch, n, r, regionCount, entries);
    }

    /** Version of this map; higher is newer. */
    public long epoch()
    {
        return epoch;
    }

    /** Memory nodes the map was placed over; node indexes are 0..count-1. */
    public int memoryNodeCount()
    {
        return memoryNodeCount;
    }

    /** Replicas each region was placed with (a region may have fewer after failures). */
    public int replicationFactor()
    {
        return replicationFactor;
    }

    /** Regions in the map; region ids are 0..count-1. */
    public int regionCount()
    {
        return regionCount;
    }

    /** Live replicas of a region: the replication factor, less any node removed since. */
    public int replicaCount(final int regionId)
    {
        checkRegion(regionId);
        final int base = regionId * replicationFactor;
        int count = 0;
        while (count < replicationFactor && entries[base + count] >= 0)
        {
            count++;
        }
        return count;
    }

    /** Node index of replica {@code i} of a region (0 is the primary). */
    public int replica(final int regionId, final int i)
    {
        checkRegion(regionId);
        if (i < 0 || i >= replicationFactor || entries[regionId * replicationFactor + i] < 0)
        {
            throw new IllegalArgumentException("region " + regionId + " has no replica " + i + " (it has "
                + replicaCount(regionId) + ")");
        }
        return entries[regionId * replicationFactor + i];
    }

    /** Node index of a region's primary replica. */
    public int primary(final int regionId)
    {
        return replica(regionId, 0);
    }

    /** A fresh array of a region's replica node indexes, primary first. */
    public int[] replicas(final int regionId)
    {
        return Arrays.copyOfRange(entries, regionId * replicationFactor,
            regionId * replicationFactor + replicaCount(regionId));
    }

    /** True if {@code node} holds a replica of the region. */
    public boolean hasReplicaOn(final int regionId, final int node)
    {
        final int count = replicaCount(regionId);
        for (int i = 0; i < count; i++)
        {
            if (entries[regionId * replicationFactor + i] == node)
            {
                return true;
            }
        }
        return false;
    }

    /** Region ids with a replica on {@code node}, ascending: the regions that node must register. */
    public int[] regionsOn(final int node)
    {
        checkNode(node);
        int count = 0;
        for (int g = 0; g < regionCount; g++)
        {
            if (hasReplicaOn(g, node))
            {
                count++;
            }
        }
        final int[] result = new int[count];
        int k = 0;
        for (int g = 0; g < regionCount; g++)
        {
            if (hasReplicaOn(g, node))
            {
                result[k++] = g;
            }
        }
        return result;
    }

    /**
     * The map after {@code node} failed: the node leaves every list, the others keep their order
     * (so a region whose primary failed is led by its first backup), and the epoch goes up by one.
     *
     * @throws IllegalStateException if a region would lose its last replica.
     */
    public RegionMap withoutNode(final int node)
    {
        return withoutNode(node, false);
    }

    /**
     * As {@link #withoutNode(int)}; with {@code keepLastReplica}, a region whose only replica is on
     * {@code node} keeps it (the region is lost, and the map still says where it was) instead of
     * failing.
     */
    public RegionMap withoutNode(final int node, final boolean keepLastReplica)
    {
        checkNode(node);
        final int r = replicationFactor;
        final int[] next = new int[entries.length];
        for (int g = 0; g < regionCount; g++)
        {
            int k = 0;
            final boolean last = keepLastReplica && entries[g * r] == node && (r == 1 || entries[g * r + 1] < 0);
            for (int j = 0; j < r; j++)
            {
                final int e = entries[g * r + j];
                if (e >= 0 && (e != node || last))
                {
                    next[g * r + k++] = e;
                }
            }
            if (k == 0)
            {
                throw new IllegalStateException("removing memory node " + node + " would lose region " + g
                    + ": it holds the region's last replica");
            }
            while (k < r)
            {
                next[g * r + k++] = -1;
            }
        }
        return new RegionMap(epoch + 1, memoryNodeCount, r, regionCount, next);
    }

    /** The same placement at another epoch (the epoch of the coordinator's map that carries it). */
    public RegionMap withEpoch(final long newEpoch)
    {
        validateEpoch(newEpoch);
        return new RegionMap(newEpoch, memoryNodeCount, replicationFactor, regionCount, entries);
    }

    /** Bytes {@link #encode} writes. */
    public int encodedLength()
    {
        return HEADER_LENGTH + entries.length * ENTRY_LENGTH;
    }

    /** Writes the serialised form at {@code offset}; returns the bytes written. */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        final int length = encodedLength();
        buffer.boundsCheck(offset, length);
        buffer.putInt(offset + MAGIC_OFFSET, MAGIC, LE);
        buffer.putShort(offset + FORMAT_OFFSET, (short)FORMAT_VERSION, LE);
        buffer.putByte(offset + REPLICATION_OFFSET, (byte)replicationFactor);
        buffer.putByte(offset + REPLICATION_OFFSET + 1, (byte)0);
        buffer.putLong(offset + EPOCH_OFFSET, epoch, LE);
        buffer.putInt(offset + MEMORY_NODES_OFFSET, memoryNodeCount, LE);
        buffer.putInt(offset + REGIONS_OFFSET, regionCount, LE);
        for (int i = 0; i < entries.length; i++)
        {
            final int e = entries[i] < 0 ? NONE : entries[i];
            buffer.putShort(offset + HEADER_LENGTH + i * ENTRY_LENGTH, (short)e, LE);
        }
        return length;
    }

    /** The serialised form as a new array. */
    public byte[] toBytes()
    {
        final byte[] bytes = new byte[encodedLength()];
        encode(new UnsafeBuffer(bytes), 0);
        return bytes;
    }

    /** Parses {@link #toBytes()}. */
    public static RegionMap fromBytes(final byte[] bytes)
    {
        return decode(new UnsafeBuffer(bytes), 0, bytes.length);
    }

    /**
     * Parses the serialised form from {@code length} bytes at {@code offset}, checking everything
     * a corrupt or foreign buffer could get wrong.
     *
     * @throws IllegalArgumentException naming the first problem found.
     */
    public static RegionMap decode(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < HEADER_LENGTH)
        {
            throw new IllegalArgumentException("region map: " + length + " bytes is shorter than its "
                + HEADER_LENGTH + "-byte header");
        }
        buffer.boundsCheck(offset, length);
        final int magic = buffer.getInt(offset + MAGIC_OFFSET, LE);
        if (magic != MAGIC)
        {
            throw new IllegalArgumentException("region map: bad magic 0x" + Integer.toHexString(magic));
        }
        final int format = buffer.getShort(offset + FORMAT_OFFSET, LE) & 0xFFFF;
        if (format != FORMAT_VERSION)
        {
            throw new IllegalArgumentException("region map: format version " + format + " is not supported (expected "
                + FORMAT_VERSION + ")");
        }
        final int r = buffer.getByte(offset + REPLICATION_OFFSET) & 0xFF;
        final long epoch = buffer.getLong(offset + EPOCH_OFFSET, LE);
        final int n = buffer.getInt(offset + MEMORY_NODES_OFFSET, LE);
        final int regions = buffer.getInt(offset + REGIONS_OFFSET, LE);
        validateReplication(r, n);
        validateRegionCount(regions);
        validateEpoch(epoch);
        final long needed = HEADER_LENGTH + (long)regions * r * ENTRY_LENGTH;
        if (length < needed)
        {
            throw new IllegalArgumentException("region map: " + regions + " regions with " + r + " replicas need "
                + needed + " bytes, got " + length);
        }
        final int[] entries = new int[regions * r];
        for (int g = 0; g < regions; g++)
        {
            boolean ended = false;
            for (int j = 0; j < r; j++)
            {
                final int e = buffer.getShort(offset + HEADER_LENGTH + (g * r + j) * ENTRY_LENGTH, LE) & 0xFFFF;
                if (e == NONE)
                {
                    ended = true;
                    entries[g * r + j] = -1;
                    continue;
                }
                if (ended)
                {
                    throw new IllegalArgumentException("region map: region " + g + " lists a replica after an empty entry");
                }
                if (e >= n)
                {
                    throw new IllegalArgumentException("region map: region " + g + " names memory node " + e
                        + " but there are only " + n);
                }
                for (int k = 0; k < j; k++)
                {
                    if (entries[g * r + k] == e)
                    {
                        throw new IllegalArgumentException("region map: region " + g + " lists memory node " + e
                            + " twice");
                    }
                }
                entries[g * r + j] = e;
            }
            if (entries[g * r] < 0)
            {
                throw new IllegalArgumentException("region map: region " + g + " has no replica");
            }
        }
        return new RegionMap(epoch, n, r, regions, entries);
    }

    @Override
    public boolean equals(final Object o)
    {
        if (this == o)
        {
            return true;
        }
        if (!(o instanceof RegionMap))
        {
            return false;
        }
        final RegionMap other = (RegionMap)o;
        return epoch == other.epoch && memoryNodeCount == other.memoryNodeCount
            && replicationFactor == other.replicationFactor && regionCount == other.regionCount
            && Arrays.equals(entries, other.entries);
    }

    @Override
    public int hashCode()
    {
        return 31 * Long.hashCode(epoch) + Arrays.hashCode(entries);
    }

    @Override
    public String toString()
    {
        return "RegionMap{epoch=" + epoch + ", regions=" + regionCount + ", memoryNodes=" + memoryNodeCount
            + ", replicas=" + replicationFactor + "}";
    }

    private static void validateRegionCount(final int regionCount)
    {
        if (regionCount < 1 || regionCount > GlobalAddress.MAX_REGIONS)
        {
            throw new IllegalArgumentException("region count " + regionCount + " is outside 1.."
                + GlobalAddress.MAX_REGIONS);
        }
    }

    private static void validateEpoch(final long epoch)
    {
        if (epoch < 0)
        {
            throw new IllegalArgumentException("epoch " + epoch + " is negative");
        }
    }

    private void checkRegion(final int regionId)
    {
        if (regionId < 0 || regionId >= regionCount)
        {
            throw new IllegalArgumentException("region " + regionId + " is not in the map (regions 0.."
                + (regionCount - 1) + ", epoch " + epoch + ")");
        }
    }

    private void checkNode(final int node)
    {
        if (node < 0 || node >= memoryNodeCount)
        {
            throw new IllegalArgumentException("memory node " + node + " is not in the map (nodes 0.."
                + (memoryNodeCount - 1) + ")");
        }
    }
}
