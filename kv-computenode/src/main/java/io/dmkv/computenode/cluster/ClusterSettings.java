package io.dmkv.computenode.cluster;

import java.time.Duration;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.ClientLogHeads;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;

/**
 * How a cluster is laid out when a client bootstraps it. Clients that join an existing cluster
 * take its stored layout; only the replication factor must match what they were configured with.
 *
 * @param replication        r: replicas of every index slot and every object (1..5, at most the node count).
 * @param blockSize          bytes per block handed out by ALLOC (power of two, 4 KiB..64 MiB).
 * @param bucketGroups       bucket groups per subtable (tests use a few, so subtables split often).
 * @param initialGlobalDepth the index starts with 2^d subtables.
 * @param maxGlobalDepth     the directory holds at most 2^d subtables.
 * @param maxClients         clients with a log-head record (client ids 1..maxClients).
 * @param indexAreaBytes     bytes of each index region (one per memory node) reserved for the index (0: a quarter of the region).
 * @param formatTimeout      how long to wait for another client that is formatting the cluster.
 */
public record ClusterSettings(int replication, int blockSize, int bucketGroups, int initialGlobalDepth,
    int maxGlobalDepth, int maxClients, long indexAreaBytes, Duration formatTimeout)
{
    /** Block size 0: chosen from the region size ({@link #blockSizeFor}). */
    public static final int AUTO_BLOCK_SIZE = 0;
    /** Blocks an automatically sized region has at least. */
    public static final int AUTO_BLOCKS_PER_REGION = 64;

    public ClusterSettings
    {
        RegionMap.validateReplication(replication, replication);
        if (blockSize != AUTO_BLOCK_SIZE)
        {
            BlockHeader.validateBlockSize(blockSize);
        }
        Subtable.validateBucketGroups(bucketGroups);
        if (maxGlobalDepth < 0 || maxGlobalDepth > Slot.SUFFIX_BITS)
        {
            throw new IllegalArgumentException("max global depth must be in 0.." + Slot.SUFFIX_BITS
                + " (slots keep 8 hash bits for splits), got " + maxGlobalDepth);
        }
        if (initialGlobalDepth < 0 || initialGlobalDepth > maxGlobalDepth)
        {
            throw new IllegalArgumentException("initial global depth must be in 0.." + maxGlobalDepth + ", got "
                + initialGlobalDepth);
        }
        ClientLogHeads.validateMaxClients(maxClients);
        if (indexAreaBytes < 0 || indexAreaBytes > (1L << 30))
        {
            throw new IllegalArgumentException("index area must be in 0..1G bytes, got " + indexAreaBytes);
        }
        if (formatTimeout == null || formatTimeout.isNegative() || formatTimeout.isZero())
        {
            throw new IllegalArgumentException("format timeout must be positive");
        }
    }

    /** FUSEE-like defaults with r replicas. */
    public static ClusterSettings defaults(final int replication)
    {
        return new ClusterSettings(replication, BlockHeader.DEFAULT_BLOCK_SIZE, Subtable.DEFAULT_BUCKET_GROUPS,
            IndexRoot.DEFAULT_INITIAL_GLOBAL_DEPTH, Slot.SUFFIX_BITS, ClientLogHeads.DEFAULT_MAX_CLIENTS,
            0, Duration.ofSeconds(30));
    }

    public ClusterSettings withReplication(final int r)
    {
        return new ClusterSettings(r, blockSize, bucketGroups, initialGlobalDepth, maxGlobalDepth, maxClients,
            indexAreaBytes, formatTimeout);
    }

    public ClusterSettings withBlockSize(final int bytes)
    {
        return new ClusterSettings(replication, bytes, bucketGroups, initialGlobalDepth, maxGlobalDepth, maxClients,
            indexAreaBytes, formatTimeout);
    }

    public ClusterSettings withIndex(final int groups, final int initialDepth, final int maxDepth)
    {
        return new ClusterSettings(replication, blockSize, groups, initialDepth, maxDepth, maxClients, indexAreaBytes,
            formatTimeout);
    }

    public ClusterSettings withIndexAreaBytes(final long bytes)
    {
        return new ClusterSettings(replication, blockSize, bucketGroups, initialGlobalDepth, maxGlobalDepth, maxClients,
            bytes, formatTimeout);
    }

    public ClusterSettings withMaxClients(final int n)
    {
        return new ClusterSettings(replication, blockSize, bucketGroups, initialGlobalDepth, maxGlobalDepth, n,
            indexAreaBytes, formatTimeout);
    }

    /**
     * The layout of a FlexKV index of {@code partitions} partitions (docs/flexkv.md): it starts at
     * depth p = log2(partitions), so each partition is a set of whole subtables, with the bucket
     * groups divided so the initial index takes the bytes these settings would have given it.
     */
    public ClusterSettings forPartitions(final int partitions)
    {
        final int p = Integer.numberOfTrailingZeros(partitions);
        if (Integer.bitCount(partitions) != 1 || p > Slot.SUFFIX_BITS)
        {
            throw new IllegalArgumentException("partitions must be a power of two in 1.." + (1 << Slot.SUFFIX_BITS)
                + ", got " + partitions);
        }
        final long groups = Math.max(1L, ((long)bucketGroups << initialGlobalDepth) >> p);
        return withIndex((int)Math.min(groups, Subtable.MAX_BUCKET_GROUPS), p, Math.max(p, maxGlobalDepth));
    }

    /**
     * The block size a cluster of {@code regionSize}-byte regions is formatted with: the one
     * configured, or with {@link #AUTO_BLOCK_SIZE} min(16 MiB, region / 64) rounded down to a power
     * of two and at least 4 KiB, so a small memory node still has blocks for several clients.
     */
    public int blockSizeFor(final long regionSize)
    {
        if (blockSize != AUTO_BLOCK_SIZE)
        {
            return blockSize;
        }
        final long wanted = Math.min(BlockHeader.DEFAULT_BLOCK_SIZE, regionSize / AUTO_BLOCKS_PER_REGION);
        return (int)Math.max(BlockHeader.MIN_BLOCK_SIZE, Long.highestOneBit(Math.max(1, wanted)));
    }
}
