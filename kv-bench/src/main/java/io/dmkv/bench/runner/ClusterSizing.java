package io.dmkv.bench.runner;

import io.dmkv.core.layout.SizeClasses;
import io.dmkv.core.layout.Subtable;

/**
 * How much memory an embedded cluster needs for a number of keys, and how large the index area
 * should be: the rules {@code kv demo} uses, for any value size.
 *
 * @param indexAreaBytes index root, directory and subtables (KvConfig's {@code dmkv.index.areaBytes}).
 * @param regionBytes    region size of every node.
 * @param memoryPerNode  memory of every node, a whole number of regions.
 */
public record ClusterSizing(long indexAreaBytes, long regionBytes, long memoryPerNode)
{
    /** Keys a subtable of the default shape holds comfortably (under half of its 86,016 slots). */
    private static final int KEYS_PER_SUBTABLE = 40_000;
    /** Index root, directory and client log heads, with room to spare. */
    private static final long INDEX_FIXED_BYTES = 1L << 20;
    /** Memory per node beyond the objects: blocks being filled, the index, region headers. */
    private static final long SLACK_BYTES = 64L << 20;
    private static final long MIN_REGION_BYTES = 64L << 20;
    private static final long MAX_REGION_BYTES = 1L << 30;

    /**
     * Room for {@code keys} keys of {@code keyLength} and {@code maxValueLength} bytes on
     * {@code nodes} nodes with {@code r} replicas: every object on r nodes, and half as much again,
     * because updates write new objects out of place and old ones return to the allocator only at
     * the next reclaim.
     */
    public static ClusterSizing forKeys(final long keys, final int keyLength, final int maxValueLength, final int nodes,
        final int r)
    {
        final long indexArea = indexAreaBytes(keys);
        final long regionBytes = Math.min(MAX_REGION_BYTES, Math.max(MIN_REGION_BYTES,
            Long.highestOneBit(indexArea * 4 - 1) << 1));
        final long objectBytes = SizeClasses.objectSize(SizeClasses.sizeClassFor(keyLength, maxValueLength));
        final long objectsPerNode = (keys * r + nodes - 1) / nodes;
        final long wanted = objectsPerNode * objectBytes * 3 / 2 + indexArea + SLACK_BYTES;
        return new ClusterSizing(indexArea, regionBytes, (wanted + regionBytes - 1) / regionBytes * regionBytes);
    }

    /** This sizing with {@code bytes} per node instead, rounded up to whole regions. */
    public ClusterSizing withMemory(final long bytes)
    {
        return new ClusterSizing(indexAreaBytes, regionBytes, (bytes + regionBytes - 1) / regionBytes * regionBytes);
    }

    /** Subtables of the default shape {@code keys} keys fill to under half: at least the index's first 4. */
    static long subtables(final long keys)
    {
        final long needed = (keys + KEYS_PER_SUBTABLE - 1) / KEYS_PER_SUBTABLE;
        return Math.max(4, Long.highestOneBit(Math.max(1, needed - 1)) << 1);
    }

    /** Slots of {@link #subtables} subtables of the default shape. */
    static long indexSlots(final long keys)
    {
        return subtables(keys) * Subtable.slotCount(Subtable.DEFAULT_BUCKET_GROUPS);
    }

    /** Room for twice the subtables the keys need at under half load, and the index root. */
    static long indexAreaBytes(final long keys)
    {
        final long subtables = subtables(keys);
        final long subtableBytes = (long)Subtable.BUCKET_GROUP_LENGTH * Subtable.DEFAULT_BUCKET_GROUPS;
        return INDEX_FIXED_BYTES + Math.min(256, 2 * subtables) * subtableBytes;
    }
}
