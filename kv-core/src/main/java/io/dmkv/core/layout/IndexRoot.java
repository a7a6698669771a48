package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;

/**
 * The root of the RACE hashing index: global depth, a version/lock word for resizing, and the
 * directory of subtable entries. It lives in the root region ({@link RegionLayout#ROOT_OFFSET}),
 * which the region map replicates on r memory nodes like every region, so each index replica
 * has its own copy of the root, its own directory entry per subtable and its own copy of every
 * subtable, all at the same global addresses: an entry names a subtable by global address, and
 * replica j of the subtable is that address on the region's j-th node. FUSEE's root stores a
 * (server id, pointer) per subtable and per replica instead; global addresses make a memory-node
 * failure a change of the region map, not of the root.
 *
 * <pre>
 *   0                                8          9          12                      16
 *   +--------------------------------+----------+----------+-----------------------+
 *   | root word (u64, CAS)           | max      | reserved | bucket groups per     |
 *   |                                | global   | (0)      | subtable (u32)        |
 *   |                                | depth u8 |          |                       |
 *   +--------------------------------+----------+----------+-----------------------+
 *   16 .. 64: reserved (0)
 *   64 + 8 i: directory entry i, for i in 0 .. 2^maxGlobalDepth - 1
 *
 *   root word:       63                              16 15      9  8   7           0
 *                    +---------------------------------+---------+----+------------+
 *                    | version (48)                    | 0       |lock| global     |
 *                    |                                 |         |    | depth      |
 *                    +---------------------------------+---------+----+------------+
 *   directory entry: 63  62     56 55        48 47                                  0
 *                    +----+--------+------------+------------------------------------+
 *                    |lock| 0      | local depth| subtable global address (48)       |
 *                    +----+--------+------------+------------------------------------+
 * </pre>
 * A key's directory index is its hash's low {@code globalDepth} bits; entries
 * {@code 2^globalDepth} and above are unused (zero). 2^(g-d) entries point at a subtable of
 * local depth d.
 *
 * <p>What the words are for in the split protocol (the protocol itself is kv-computenode's):
 * the entry's <b>lock</b> bit, CASed on the primary replica's root, admits one splitter per
 * subtable while other subtables split in parallel; the entry's <b>local depth</b> lets a client
 * with a cached directory decide without reading buckets whether an entry is current; the root
 * word's <b>lock</b> serialises directory doubling (global depth + 1, which copies entries
 * [0, 2^g) to [2^g, 2^(g+1))), and its <b>version</b>, bumped by every directory change, lets a
 * client that read a stale root detect it with one 8-byte READ. Every field is native
 * (little-endian) order.
 */
public final class IndexRoot
{
    /** Offset of the root word. */
    public static final int ROOT_WORD_OFFSET = 0;
    /** Offset of the maximum global depth (u8). */
    public static final int MAX_GLOBAL_DEPTH_OFFSET = 8;
    /** Offset of the bucket groups per subtable (u32). */
    public static final int BUCKET_GROUPS_OFFSET = 12;
    /** Bytes before the directory. */
    public static final int HEADER_LENGTH = 64;
    /** Offset of directory entry 0. */
    public static final int DIRECTORY_OFFSET = HEADER_LENGTH;
    /** Bytes per directory entry. */
    public static final int ENTRY_LENGTH = 8;
    /** Largest maximum global depth (65,536 subtables). */
    public static final int MAX_GLOBAL_DEPTH = KeyHash.MAX_DEPTH;
    /** Default maximum global depth: 4,096 subtables, a 32 KiB directory. */
    public static final int DEFAULT_MAX_GLOBAL_DEPTH = 12;
    /** Default initial global depth: 4 subtables. */
    public static final int DEFAULT_INITIAL_GLOBAL_DEPTH = 2;

    /** Lock bit of the root word. */
    public static final long ROOT_LOCK = 1L << 8;
    /** Shift of the version in the root word. */
    public static final int VERSION_SHIFT = 16;
    /** Largest version before it wraps to 0. */
    public static final long MAX_VERSION = (1L << 48) - 1;
    /** Lock bit of a directory entry. */
    public static final long ENTRY_LOCK = 1L << 63;
    /** Shift of the local depth in a directory entry. */
    public static final int ENTRY_LOCAL_DEPTH_SHIFT = 48;

    private IndexRoot()
    {
    }

    /** Bytes in a root whose directory has room for global depth {@code maxGlobalDepth}. */
    public static int length(final int maxGlobalDepth)
    {
        checkMaxGlobalDepth(maxGlobalDepth);
        return DIRECTORY_OFFSET + (ENTRY_LENGTH << maxGlobalDepth);
    }

    /** Offset from the root's start of directory entry {@code i}. */
    public static int entryOffset(final int i)
    {
        if (i < 0 || i >= (1 << MAX_GLOBAL_DEPTH))
        {
            throw new IllegalArgumentException("directory entry " + i + " is outside 0.." + ((1 << MAX_GLOBAL_DEPTH) - 1));
        }
        return DIRECTORY_OFFSET + i * ENTRY_LENGTH;
    }

    /**
     * Packs a root word.
     *
     * @throws IllegalArgumentException if the depth is outside 0..16 or the version outside 48 bits.
     */
    public static long rootWord(final int globalDepth, final boolean locked, final long version)
    {
        checkDepth(globalDepth, "global depth");
        if (version < 0 || version > MAX_VERSION)
        {
            throw new IllegalArgumentException("root version " + version + " does not fit 48 bits");
        }
        return (version << VERSION_SHIFT) | (locked ? ROOT_LOCK : 0) | globalDepth;
    }

    /** Global depth of a root word. */
    public static int globalDepth(final long rootWord)
    {
        return (int)rootWord & 0xFF;
    }

    /** True if the root word is locked (a directory doubling is in progress). */
    public static boolean isLocked(final long rootWord)
    {
        return (rootWord & ROOT_LOCK) != 0;
    }

    /** Version of a root word. */
    public static long version(final long rootWord)
    {
        return rootWord >>> VERSION_SHIFT;
    }

    /** The root word after a directory change to {@code globalDepth}: unlocked, version + 1 (wrapping). */
    public static long nextRootWord(final long rootWord, final int globalDepth)
    {
        return rootWord(globalDepth, false, (version(rootWord) + 1) & MAX_VERSION);
    }

    /**
     * Packs a directory entry.
     *
     * @param subtable   global address of the subtable (256-byte aligned, never 0).
     * @param localDepth the subtable's local depth, 0..16.
     * @param locked     true while the subtable is being split.
     */
    public static long entry(final long subtable, final int localDepth, final boolean locked)
    {
        GlobalAddress.requireObjectAddress(subtable, "subtable address");
        checkDepth(localDepth, "local depth");
        return (locked ? ENTRY_LOCK : 0) | ((long)localDepth << ENTRY_LOCAL_DEPTH_SHIFT) | subtable;
    }

    /** Subtable address of a directory entry (0 for an unused entry). */
    public static long entrySubtable(final long entry)
    {
        return entry & GlobalAddress.ADDRESS_MASK;
    }

    /** Local depth of a directory entry. */
    public static int entryLocalDepth(final long entry)
    {
        return (int)(entry >>> ENTRY_LOCAL_DEPTH_SHIFT) & 0xFF;
    }

    /** True if the entry's subtable is being split. */
    public static boolean isEntryLocked(final long entry)
    {
        return (entry & ENTRY_LOCK) != 0;
    }

    /** The entry with its lock bit set. */
    public static long lockEntry(final long entry)
    {
        return entry | ENTRY_LOCK;
    }

    /** The entry with its lock bit clear. */
    public static long unlockEntry(final long entry)
    {
        return entry & ~ENTRY_LOCK;
    }

    /**
     * Lays out an empty root at {@code offset}: global depth {@code initialGlobalDepth}, version
     * 0, unlocked, an all-zero directory. The caller fills entries 0..2^initialGlobalDepth-1.
     */
    public static void format(final MutableDirectBuffer buffer, final int offset, final int maxGlobalDepth,
        final int bucketGroups, final int initialGlobalDepth)
    {
        final int length = length(maxGlobalDepth);
        Subtable.validateBucketGroups(bucketGroups);
        if (initialGlobalDepth < 0 || initialGlobalDepth > maxGlobalDepth)
        {
            throw new IllegalArgumentException("initial global depth " + initialGlobalDepth + " is outside 0.."
                + maxGlobalDepth + " (the maximum global depth)");
        }
        buffer.boundsCheck(offset, length);
        buffer.setMemory(offset, length, (byte)0);
        buffer.putByte(offset + MAX_GLOBAL_DEPTH_OFFSET, (byte)maxGlobalDepth);
        buffer.putInt(offset + BUCKET_GROUPS_OFFSET, bucketGroups);
        buffer.putLong(offset + ROOT_WORD_OFFSET, rootWord(initialGlobalDepth, false, 0));
    }

    /** Root word of the root at {@code offset}. */
    public static long rootWord(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + ROOT_WORD_OFFSET);
    }

    /** Maximum global depth of the root at {@code offset}. */
    public static int maxGlobalDepth(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + MAX_GLOBAL_DEPTH_OFFSET) & 0xFF;
    }

    /** Bucket groups per subtable of the index whose root is at {@code offset}. */
    public static int bucketGroups(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + BUCKET_GROUPS_OFFSET);
    }

    /** Directory entry {@code i} of the root at {@code offset}. */
    public static long entry(final DirectBuffer buffer, final int offset, final int i)
    {
        return buffer.getLong(offset + entryOffset(i));
    }

    /** Writes directory entry {@code i} of the root at {@code offset}. */
    public static void putEntry(final MutableDirectBuffer buffer, final int offset, final int i, final long entry)
    {
        buffer.putLong(offset + entryOffset(i), entry);
    }

    private static void checkMaxGlobalDepth(final int maxGlobalDepth)
    {
        if (maxGlobalDepth < 0 || maxGlobalDepth > MAX_GLOBAL_DEPTH)
        {
            throw new IllegalArgumentException("maximum global depth " + maxGlobalDepth + " is outside 0.."
                + MAX_GLOBAL_DEPTH);
        }
    }

    private static void checkDepth(final int depth, final String what)
    {
        if (depth < 0 || depth > MAX_GLOBAL_DEPTH)
        {
            throw new IllegalArgumentException(what + " " + depth + " is outside 0.." + MAX_GLOBAL_DEPTH);
        }
    }
}
