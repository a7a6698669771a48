// Over 500 lines: the region map, its changes (fail-over, joining replicas, seals, promotion) and
// both serialised forms are one value type whose invariants (distinct nodes per region, one replica
// per physical region) are checked in one place; split, every change would re-check them apart.
package io.dmkv.core.address;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

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
 * after the live replicas, when a region has lost some). Format 1 holds maps whose replicas sit at
 * their positional physical regions (below) and that have no joining replica and no seal: every
 * map {@link #place} makes and every fail-over of one.
 *
 * <h2>Physical regions, joining replicas, seals (format 2)</h2>
 * The replica of region g on node n is one of n's physical regions. In a placed map it is g's
 * position among the regions placed on n; once replicas move (re-replication, growing, a
 * decommission: docs/recovery.md) each entry names its physical region explicitly. A region may
 * also have one <em>joining</em> replica, being copied and not yet used by readers or writers, and
 * may be <em>sealed</em>: writers hold their writes while the copier takes the last differences.
 * Format 2 stores, per region, r + 1 entries of (node u16, physical region u16) (the last one the
 * joining replica, 0xFFFF for none) and a u32 of flags (bit 0: sealed):
 * <pre>
 *   header (as format 1, format = 2) | per region: (r + 1) x [node u16 | physical u16] | flags u32
 * </pre>
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
    /** Version of the serialised form of a plain map (positional physical regions, no joiner, no seal). */
    public static final int FORMAT_VERSION = 1;
    /** Version of the serialised form with explicit physical regions, joiners and seals. */
    public static final int FORMAT_VERSION_EXPLICIT = 2;
    /** Bytes per entry in format 2: node u16, physical region u16. */
    public static final int EXPLICIT_ENTRY_LENGTH = 4;
    /** Bytes of a region's flags in format 2. */
    public static final int FLAGS_LENGTH = 4;
    /** Flag: writers hold their writes to the region (the copier's last pass). */
    public static final int FLAG_SEALED = 1;
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
    /** The physical region of each entry (same indexing; -1 where the entry is -1). */
    private final int[] physical;
    /** Per region, the joining replica's node, or -1. */
    private final int[] joiners;
    /** Per region, the joining replica's physical region, or -1. */
    private final int[] joinerPhysical;
    /** Per region, {@link #FLAG_SEALED} and future flags. */
    private final int[] flags;

    private RegionMap(final long epoch, final int memoryNodeCount, final int replicationFactor, final int regionCount,
        final int[] entries, final int[] physical, final int[] joiners, final int[] joinerPhysical, final int[] flags)
    {
        this.epoch = epoch;
        this.memoryNodeCount = memoryNodeCount;
        this.replicationFactor = replicationFactor;
        this.regionCount = regionCount;
        this.entries = entries;
        this.physical = physical;
        this.joiners = joiners;
        this.joinerPhysical = joinerPhysical;
        this.flags = flags;
    }

    private RegionMap(final long epoch, final int memoryNodeCount, final int replicationFactor, final int regionCount,
        final int[] entries)
    {
        this(epoch, memoryNodeCount, replicationFactor, regionCount, entries, positional(memoryNodeCount,
            replicationFactor, regionCount, entries), filled(regionCount, -1), filled(regionCount, -1),
            new int[regionCount]);
    }

    private static int[] filled(final int length, final int value)
    {
        final int[] a = new int[length];
        Arrays.fill(a, value);
        return a;
    }

    /** Each entry's physical region by the positional rule: g's position among the regions on its node. */
    private static int[] positional(final int nodes, final int r, final int regionCount, final int[] entries)
    {
        final int[] next = new int[nodes];
        final int[] phys = filled(entries.length, -1);
        for (int g = 0; g < regionCount; g++)
        {
            for (int j = 0; j < r; j++)
            {
                final int e = entries[g * r + j];
                if (e >= 0)
                {
                    phys[g * r + j] = next[e]++;
                }
            }
        }
        return phys;
    }

    private RegionMap with(final long newEpoch, final int nodes, final int[] e, final int[] p, final int[] jn,
        final int[] jp, final int[] f)
    {
        return new RegionMap(newEpoch, nodes, replicationFactor, regionCount, e, p, jn, jp, f);
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
     * failing. A joining replica on {@code node} goes too, and so does a seal of a region whose
     * joiner it was.
     */
    public RegionMap withoutNode(final int node, final boolean keepLastReplica)
    {
        checkNode(node);
        final int r = replicationFactor;
        final int[] next = new int[entries.length];
        final int[] nextPhys = new int[entries.length];
        final int[] jn = joiners.clone();
        final int[] jp = joinerPhysical.clone();
        final int[] f = flags.clone();
        for (int g = 0; g < regionCount; g++)
        {
            int k = 0;
            final boolean last = keepLastReplica && entries[g * r] == node && (r == 1 || entries[g * r + 1] < 0);
            for (int j = 0; j < r; j++)
            {
                final int e = entries[g * r + j];
                if (e >= 0 && (e != node || last))
                {
                    nextPhys[g * r + k] = physical[g * r + j];
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
                nextPhys[g * r + k] = -1;
                next[g * r + k++] = -1;
            }
            if (jn[g] == node)
            {
                jn[g] = -1;
                jp[g] = -1;
                f[g] &= ~FLAG_SEALED;
            }
        }
        return with(epoch + 1, memoryNodeCount, next, nextPhys, jn, jp, f);
    }

    /** The same placement at another epoch (the epoch of the coordinator's map that carries it). */
    public RegionMap withEpoch(final long newEpoch)
    {
        validateEpoch(newEpoch);
        return with(newEpoch, memoryNodeCount, entries, physical, joiners, joinerPhysical, flags);
    }

    /** Physical region of replica {@code j} of region {@code g} on its node. */
    public int physical(final int regionId, final int j)
    {
        replica(regionId, j);
        return physical[regionId * replicationFactor + j];
    }

    /** The node of region {@code g}'s joining replica, or -1 if it has none. */
    public int joiner(final int regionId)
    {
        checkRegion(regionId);
        return joiners[regionId];
    }

    /** The physical region of region {@code g}'s joining replica, or -1. */
    public int joinerPhysical(final int regionId)
    {
        checkRegion(regionId);
        return joinerPhysical[regionId];
    }

    /** True if writers hold their writes to region {@code g} (the copier's last pass). */
    public boolean sealed(final int regionId)
    {
        checkRegion(regionId);
        return (flags[regionId] & FLAG_SEALED) != 0;
    }

    /** The physical region of {@code node}'s replica of region g, full or joining, or -1 if it holds none. */
    public int physicalOn(final int regionId, final int node)
    {
        checkRegion(regionId);
        final int r = replicationFactor;
        for (int j = 0; j < r; j++)
        {
            if (entries[regionId * r + j] == node)
            {
                return physical[regionId * r + j];
            }
        }
        return joiners[regionId] == node ? joinerPhysical[regionId] : -1;
    }

    /** True if region g has the same replicas, physical regions, joiner and flags in both maps. */
    public boolean sameRegion(final RegionMap other, final int regionId)
    {
        final int r = replicationFactor;
        if (regionId >= other.regionCount || other.replicationFactor != r)
        {
            return false;
        }
        final int a = regionId * r;
        return Arrays.equals(entries, a, a + r, other.entries, a, a + r)
            && Arrays.equals(physical, a, a + r, other.physical, a, a + r)
            && joiners[regionId] == other.joiners[regionId] && joinerPhysical[regionId] == other.joinerPhysical[regionId]
            && flags[regionId] == other.flags[regionId];
    }

    /** Regions whose joining replica is on {@code node}, ascending. */
    public int[] joiningOn(final int node)
    {
        return IntStream.range(0, regionCount).filter(g -> joiners[g] == node).toArray();
    }

    /** True if some region has a joining replica (a copy is under way or was left by a copier). */
    public boolean anyJoining()
    {
        return joiningOn(-1).length < regionCount;
    }

    /** The fewest replicas any region has (r when every region is whole). */
    public int fewestReplicas()
    {
        int fewest = replicationFactor;
        for (int g = 0; g < regionCount; g++)
        {
            fewest = Math.min(fewest, replicaCount(g));
        }
        return fewest;
    }

    /** True if some region is sealed. */
    public boolean anySealed()
    {
        for (final int f : flags)
        {
            if ((f & FLAG_SEALED) != 0)
            {
                return true;
            }
        }
        return false;
    }

    /** Physical regions of {@code node} that the map uses, as a full or a joining replica. */
    public BitSet physicalInUse(final int node)
    {
        final BitSet used = new BitSet();
        for (int i = 0; i < entries.length; i++)
        {
            if (entries[i] == node)
            {
                used.set(physical[i]);
            }
        }
        for (int g = 0; g < regionCount; g++)
        {
            if (joiners[g] == node)
            {
                used.set(joinerPhysical[g]);
            }
        }
        return used;
    }

    /** This map over {@code nodes} memory nodes (a node joined the cluster); epoch + 1. */
    public RegionMap withMemoryNodes(final int nodes)
    {
        if (nodes < memoryNodeCount || nodes > MAX_MEMORY_NODES)
        {
            throw new IllegalArgumentException("a map over " + memoryNodeCount + " memory nodes cannot grow to "
                + nodes);
        }
        return with(epoch + 1, nodes, entries, physical, joiners, joinerPhysical, flags);
    }

    /**
     * The map with new global regions appended (epoch + 1), for capacity (docs/recovery.md, "Growing
     * capacity"): region {@code regionCount() + i} gets the replicas {@code nodes[i]} (primary first)
     * in their physical regions {@code physical[i]}. Existing regions keep their ids and replicas, so
     * no key is rehashed and no slot moves.
     *
     * @throws IllegalArgumentException if a new region has no replica or more than r, names a node
     *                                  twice or outside the map, uses a physical region already in
     *                                  use, or the count would exceed the global address space's.
     */
    public RegionMap withRegions(final int[][] nodes, final int[][] physicalRegions)
    {
        if (nodes.length != physicalRegions.length || nodes.length == 0)
        {
            throw new IllegalArgumentException("new regions: " + nodes.length + " replica lists and "
                + physicalRegions.length + " physical lists; give one of each per region, at least one region");
        }
        final int count = regionCount + nodes.length;
        validateRegionCount(count);
        final int r = replicationFactor;
        final int[] e = Arrays.copyOf(entries, count * r);
        final int[] p = Arrays.copyOf(physical, count * r);
        Arrays.fill(e, entries.length, e.length, -1);
        Arrays.fill(p, entries.length, p.length, -1);
        for (int i = 0; i < nodes.length; i++)
        {
            final int g = regionCount + i;
            if (nodes[i].length < 1 || nodes[i].length > r || nodes[i].length != physicalRegions[i].length)
            {
                throw new IllegalArgumentException("new region " + g + " names " + nodes[i].length + " replicas in "
                    + physicalRegions[i].length + " physical regions; it needs 1.." + r + " of each, as many");
            }
            for (int j = 0; j < nodes[i].length; j++)
            {
                checkNode(nodes[i][j]);
                if (physicalRegions[i][j] < 0 || physicalRegions[i][j] >= NONE)
                {
                    throw new IllegalArgumentException("new region " + g + ": physical region " + physicalRegions[i][j]
                        + " is outside 0.." + (NONE - 1));
                }
                e[g * r + j] = nodes[i][j];
                p[g * r + j] = physicalRegions[i][j];
            }
        }
        final RegionMap next = new RegionMap(epoch + 1, memoryNodeCount, r, count, e, p,
            Arrays.copyOf(joiners, count), Arrays.copyOf(joinerPhysical, count), Arrays.copyOf(flags, count));
        Arrays.fill(next.joiners, regionCount, count, -1);
        Arrays.fill(next.joinerPhysical, regionCount, count, -1);
        for (int g = regionCount; g < count; g++)
        {
            for (int j = 0; j < next.replicaCount(g); j++)
            {
                for (int k = 0; k < j; k++)
                {
                    if (next.entries[g * r + j] == next.entries[g * r + k])
                    {
                        throw new IllegalArgumentException("new region " + g + " names memory node "
                            + next.entries[g * r + j] + " twice");
                    }
                }
            }
        }
        next.checkPhysical();
        return next;
    }

    /**
     * Region {@code g} gets a joining replica on {@code node}'s physical region {@code phys}
     * (epoch + 1): copied to, never read, not a replica until {@link #withJoinerPromoted}.
     *
     * @throws IllegalArgumentException if the region has a joiner, the node holds the region, or the
     *                                  physical region is in use.
     */
    public RegionMap withJoiner(final int regionId, final int node, final int phys)
    {
        checkRegion(regionId);
        checkNode(node);
        if (joiners[regionId] >= 0)
        {
            throw new IllegalArgumentException("region " + regionId + " already has a joining replica on node "
                + joiners[regionId]);
        }
        if (hasReplicaOn(regionId, node))
        {
            throw new IllegalArgumentException("memory node " + node + " already holds region " + regionId);
        }
        if (phys < 0 || physicalInUse(node).get(phys))
        {
            throw new IllegalArgumentException("physical region " + phys + " of memory node " + node + " is in use");
        }
        final int[] jn = joiners.clone();
        final int[] jp = joinerPhysical.clone();
        jn[regionId] = node;
        jp[regionId] = phys;
        return with(epoch + 1, memoryNodeCount, entries, physical, jn, jp, flags);
    }

    /** Region {@code g} sealed or unsealed (epoch + 1). */
    public RegionMap withSealed(final int regionId, final boolean sealed)
    {
        checkRegion(regionId);
        final int[] f = flags.clone();
        f[regionId] = sealed ? f[regionId] | FLAG_SEALED : f[regionId] & ~FLAG_SEALED;
        return with(epoch + 1, memoryNodeCount, entries, physical, joiners, joinerPhysical, f);
    }

    /** Every region unsealed (joining replicas stay); epoch + 1. */
    public RegionMap withoutSeals()
    {
        final int[] f = flags.clone();
        for (int g = 0; g < regionCount; g++)
        {
            f[g] &= ~FLAG_SEALED;
        }
        return with(epoch + 1, memoryNodeCount, entries, physical, joiners, joinerPhysical, f);
    }

    /** Region {@code g} without its joining replica (and unsealed); epoch + 1. */
    public RegionMap withoutJoiner(final int regionId)
    {
        checkRegion(regionId);
        final int[] jn = joiners.clone();
        final int[] jp = joinerPhysical.clone();
        final int[] f = flags.clone();
        jn[regionId] = -1;
        jp[regionId] = -1;
        f[regionId] &= ~FLAG_SEALED;
        return with(epoch + 1, memoryNodeCount, entries, physical, jn, jp, f);
    }

    /**
     * Region {@code g}'s joining replica becomes a full replica, the seal goes, and the replica on
     * {@code leaving} (or none, when -1: re-replication) leaves the region; epoch + 1. The joiner
     * takes the leaving replica's place (so it is the new primary when the primary leaves: it holds
     * the primary's bytes as of the sealed last pass, docs/recovery.md), or else the last place.
     *
     * @throws IllegalArgumentException if the region has no joiner, or the region would have more
     *                                  than r replicas.
     */
    public RegionMap withJoinerPromoted(final int regionId, final int leaving)
    {
        checkRegion(regionId);
        if (joiners[regionId] < 0)
        {
            throw new IllegalArgumentException("region " + regionId + " has no joining replica");
        }
        final int r = replicationFactor;
        final int[] e = entries.clone();
        final int[] p = physical.clone();
        int k = 0;
        boolean placed = false;
        for (int j = 0; j < r; j++)
        {
            final int node = entries[regionId * r + j];
            if (node >= 0 && node == leaving)
            {
                e[regionId * r + k] = joiners[regionId];
                p[regionId * r + k++] = joinerPhysical[regionId];
                placed = true;
            }
            else if (node >= 0)
            {
                e[regionId * r + k] = node;
                p[regionId * r + k++] = physical[regionId * r + j];
            }
        }
        if (!placed && k >= r)
        {
            throw new IllegalArgumentException("region " + regionId + " has " + r + " replicas: name the one that"
                + " leaves");
        }
        if (!placed)
        {
            e[regionId * r + k] = joiners[regionId];
            p[regionId * r + k++] = joinerPhysical[regionId];
        }
        while (k < r)
        {
            e[regionId * r + k] = -1;
            p[regionId * r + k++] = -1;
        }
        final RegionMap out = withoutJoiner(regionId);
        return with(epoch + 1, memoryNodeCount, e, p, out.joiners, out.joinerPhysical, out.flags);
    }

    /** True if this map fits format 1: positional physical regions, no joiner, no seal. */
    private boolean plain()
    {
        for (int g = 0; g < regionCount; g++)
        {
            if (joiners[g] >= 0 || flags[g] != 0)
            {
                return false;
            }
        }
        return Arrays.equals(physical, positional(memoryNodeCount, replicationFactor, regionCount, entries));
    }

    /** Bytes {@link #encode} writes. */
    public int encodedLength()
    {
        return plain() ? HEADER_LENGTH + entries.length * ENTRY_LENGTH
            : HEADER_LENGTH + regionCount * ((replicationFactor + 1) * EXPLICIT_ENTRY_LENGTH + FLAGS_LENGTH);
    }

    /** Writes the serialised form at {@code offset} (format 1 when it fits, else 2); returns the bytes written. */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        final int length = encodedLength();
        final boolean plain = plain();
        buffer.boundsCheck(offset, length);
        buffer.putInt(offset + MAGIC_OFFSET, MAGIC, LE);
        buffer.putShort(offset + FORMAT_OFFSET, (short)(plain ? FORMAT_VERSION : FORMAT_VERSION_EXPLICIT), LE);
        buffer.putByte(offset + REPLICATION_OFFSET, (byte)replicationFactor);
        buffer.putByte(offset + REPLICATION_OFFSET + 1, (byte)0);
        buffer.putLong(offset + EPOCH_OFFSET, epoch, LE);
        buffer.putInt(offset + MEMORY_NODES_OFFSET, memoryNodeCount, LE);
        buffer.putInt(offset + REGIONS_OFFSET, regionCount, LE);
        if (plain)
        {
            for (int i = 0; i < entries.length; i++)
            {
                final int e = entries[i] < 0 ? NONE : entries[i];
                buffer.putShort(offset + HEADER_LENGTH + i * ENTRY_LENGTH, (short)e, LE);
            }
            return length;
        }
        final int r = replicationFactor;
        int at = offset + HEADER_LENGTH;
        for (int g = 0; g < regionCount; g++)
        {
            for (int j = 0; j <= r; j++)
            {
                final int node = j < r ? entries[g * r + j] : joiners[g];
                final int phys = j < r ? physical[g * r + j] : joinerPhysical[g];
                buffer.putShort(at, (short)(node < 0 ? NONE : node), LE);
                buffer.putShort(at + 2, (short)(node < 0 ? NONE : phys), LE);
                at += EXPLICIT_ENTRY_LENGTH;
            }
            buffer.putInt(at, flags[g], LE);
            at += FLAGS_LENGTH;
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
        if (format != FORMAT_VERSION && format != FORMAT_VERSION_EXPLICIT)
        {
            throw new IllegalArgumentException("region map: format version " + format + " is not supported (expected "
                + FORMAT_VERSION + " or " + FORMAT_VERSION_EXPLICIT + ")");
        }
        final int r = buffer.getByte(offset + REPLICATION_OFFSET) & 0xFF;
        final long epoch = buffer.getLong(offset + EPOCH_OFFSET, LE);
        final int n = buffer.getInt(offset + MEMORY_NODES_OFFSET, LE);
        final int regions = buffer.getInt(offset + REGIONS_OFFSET, LE);
        validateReplication(r, n);
        validateRegionCount(regions);
        validateEpoch(epoch);
        final boolean explicit = format == FORMAT_VERSION_EXPLICIT;
        final long perRegion = explicit ? (r + 1L) * EXPLICIT_ENTRY_LENGTH + FLAGS_LENGTH : (long)r * ENTRY_LENGTH;
        final long needed = HEADER_LENGTH + regions * perRegion;
        if (length < needed)
        {
            throw new IllegalArgumentException("region map: " + regions + " regions with " + r + " replicas need "
                + needed + " bytes, got " + length);
        }
        final int[] entries = new int[regions * r];
        final int[] phys = filled(regions * r, -1);
        final int[] jn = filled(regions, -1);
        final int[] jp = filled(regions, -1);
        final int[] flags = new int[regions];
        for (int g = 0; g < regions; g++)
        {
            boolean ended = false;
            final int base = offset + HEADER_LENGTH + (int)(g * perRegion);
            for (int j = 0; j < r; j++)
            {
                final int at = base + j * (explicit ? EXPLICIT_ENTRY_LENGTH : ENTRY_LENGTH);
                final int e = buffer.getShort(at, LE) & 0xFFFF;
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
                checkDecodedNode(g, e, n);
                for (int k = 0; k < j; k++)
                {
                    if (entries[g * r + k] == e)
                    {
                        throw new IllegalArgumentException("region map: region " + g + " lists memory node " + e
                            + " twice");
                    }
                }
                entries[g * r + j] = e;
                if (explicit)
                {
                    phys[g * r + j] = buffer.getShort(at + 2, LE) & 0xFFFF;
                }
            }
            if (entries[g * r] < 0)
            {
                throw new IllegalArgumentException("region map: region " + g + " has no replica");
            }
            if (explicit)
            {
                final int at = base + r * EXPLICIT_ENTRY_LENGTH;
                final int e = buffer.getShort(at, LE) & 0xFFFF;
                if (e != NONE)
                {
                    checkDecodedNode(g, e, n);
                    jn[g] = e;
                    jp[g] = buffer.getShort(at + 2, LE) & 0xFFFF;
                }
                flags[g] = buffer.getInt(at + EXPLICIT_ENTRY_LENGTH, LE);
            }
        }
        final RegionMap map = explicit ? new RegionMap(epoch, n, r, regions, entries, phys, jn, jp, flags)
            : new RegionMap(epoch, n, r, regions, entries);
        map.checkPhysical();
        return map;
    }

    private static void checkDecodedNode(final int g, final int e, final int n)
    {
        if (e >= n)
        {
            throw new IllegalArgumentException("region map: region " + g + " names memory node " + e
                + " but there are only " + n);
        }
    }

    /** No physical region of a node serves two replicas. */
    private void checkPhysical()
    {
        final Set<Long> seen = new HashSet<>();
        for (int i = 0; i < entries.length; i++)
        {
            if (entries[i] >= 0 && !seen.add(((long)entries[i] << 32) | physical[i]))
            {
                throw new IllegalArgumentException("region map: memory node " + entries[i] + "'s physical region "
                    + physical[i] + " serves two replicas");
            }
        }
        for (int g = 0; g < regionCount; g++)
        {
            if (joiners[g] >= 0 && (hasReplicaOn(g, joiners[g]) || !seen.add(((long)joiners[g] << 32) | joinerPhysical[g])))
            {
                throw new IllegalArgumentException("region map: region " + g + "'s joining replica on memory node "
                    + joiners[g] + " clashes with a replica");
            }
        }
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
            && Arrays.equals(entries, other.entries) && Arrays.equals(physical, other.physical)
            && Arrays.equals(joiners, other.joiners) && Arrays.equals(joinerPhysical, other.joinerPhysical)
            && Arrays.equals(flags, other.flags);
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
