package io.dmkv.core.hash;

import net.openhft.hashing.LongHashFunction;
import org.agrona.DirectBuffer;

/**
 * How a key finds its place in the index. A key is hashed once, with XXH64 seed 0 (as FUSEE
 * does), and every decision is a function of that 64-bit hash:
 *
 * <pre>
 *   63                                      32 31          16 15    p p-1   0
 *   +-----------------------------------------+--------------+------+-------+
 *   |                (unused)                 | fingerprint  | subtable     |
 *   |                                         | source       | suffix       |
 *   +-----------------------------------------+--------------+------+-------+
 *                                                             partition = low p bits
 *   bucket choices: the two 32-bit halves of fmix64(hash)
 * </pre>
 *
 * <ul>
 *   <li><b>Subtable</b>: the low {@code depth} bits ({@code depth} &le; {@value #MAX_DEPTH}), the
 *       hash <i>suffix</i> of extendible hashing. Low bits make directory doubling a copy of the
 *       directory into its upper half, and a split of a subtable of local depth d with suffix s
 *       yields suffixes s and s | 1 &lt;&lt; d.</li>
 *   <li><b>Fingerprint</b>: bits 16..31 mapped onto 1..255 by multiply-shift, so it is never 0
 *       (a slot's fingerprint is non-zero exactly when the slot is occupied) and the 255 values
 *       are equally likely to within 0.4%.</li>
 *   <li><b>Two combined buckets</b> (RACE needs two independent hash functions): the low and high
 *       32-bit halves of {@code fmix64(hash)}, MurmurHash3's 64-bit finaliser, each reduced
 *       onto the subtable's main buckets by multiply-shift. fmix64 is a bijection with full
 *       avalanche, so the choices behave as independent of each other and of the bit fields
 *       above, for the price of five arithmetic instructions instead of a second pass over the
 *       key with another seed. They depend on neither the subtable bits nor the depth, so a key
 *       keeps its bucket positions when its subtable splits.</li>
 *   <li><b>Partition</b> (FlexKV proxying): the low p bits, the subtable suffix at depth p. A
 *       FlexKV index starts at global depth p, so a partition is a set of whole subtables, and a
 *       split (which adds a suffix bit above) only refines it: a proxy owns its partition's part of
 *       the memory-node index outright (docs/flexkv.md).</li>
 * </ul>
 * All methods are static and allocation-free.
 */
public final class KeyHash
{
    /** Hash bits reserved for the subtable suffix: global and local depths never exceed this. */
    public static final int MAX_DEPTH = 16;
    /** First bit of the fingerprint source. */
    public static final int FINGERPRINT_SHIFT = 16;
    /** Most partition bits {@link #partition(long, int)} takes: the hash bits a slot keeps for splits. */
    public static final int MAX_PARTITION_BITS = 8;
    /** Most combined buckets per subtable the multiply-shift reduction serves without bias. */
    public static final int MAX_COMBINED_BUCKETS = 1 << 24;

    private static final LongHashFunction XXH64 = LongHashFunction.xx(0);

    private KeyHash()
    {
    }

    /** XXH64, seed 0, of a whole array. */
    public static long hash(final byte[] key)
    {
        return XXH64.hashBytes(key);
    }

    /** XXH64, seed 0, of {@code length} bytes of {@code key} from {@code offset}. */
    public static long hash(final byte[] key, final int offset, final int length)
    {
        return XXH64.hashBytes(key, offset, length);
    }

    /**
     * XXH64, seed 0, of {@code length} bytes of {@code buffer} from {@code index}, in place:
     * array-backed buffers are hashed from their array, all others (direct ByteBuffers,
     * memory-mapped or raw off-heap memory) from their address.
     */
    public static long hash(final DirectBuffer buffer, final int index, final int length)
    {
        buffer.boundsCheck(index, length);
        final byte[] array = buffer.byteArray();
        if (array != null)
        {
            return XXH64.hashBytes(array, buffer.wrapAdjustment() + index, length);
        }
        return XXH64.hashMemory(buffer.addressOffset() + index, length);
    }

    /** The 8-bit fingerprint, in 1..255: never 0, which no occupied slot carries. */
    public static int fingerprint(final long hash)
    {
        final int source = (int)(hash >>> FINGERPRINT_SHIFT) & 0xFFFF;
        return 1 + ((source * 255) >>> 16);
    }

    /** The low {@code depth} bits of the hash: the subtable's directory index at that depth. */
    public static int suffix(final long hash, final int depth)
    {
        checkDepth(depth);
        return (int)(hash & ((1L << depth) - 1));
    }

    /** Directory index of the key's subtable under global depth {@code globalDepth}. */
    public static int subtableIndex(final long hash, final int globalDepth)
    {
        return suffix(hash, globalDepth);
    }

    /** FlexKV partition: the low {@code bits} bits of the hash, its subtable suffix at depth {@code bits}. */
    public static int partition(final long hash, final int bits)
    {
        if (bits < 0 || bits > MAX_PARTITION_BITS)
        {
            throw new IllegalArgumentException("partition bits " + bits + " is outside 0.." + MAX_PARTITION_BITS);
        }
        return (int)(hash & ((1L << bits) - 1));
    }

    /**
     * First candidate combined bucket (an index of a main bucket, 0..combinedBuckets-1).
     *
     * @param combinedBuckets main buckets in the subtable, i.e. twice its bucket groups.
     */
    public static int combinedBucket1(final long hash, final int combinedBuckets)
    {
        checkCombinedBuckets(combinedBuckets);
        return reduce(fmix64(hash) & 0xFFFF_FFFFL, combinedBuckets);
    }

    /**
     * Second candidate combined bucket. Moved to the next bucket group when it falls in the same
     * group as the first, since two main buckets of one group share their overflow bucket and
     * would offer the key 21 distinct slots instead of 28.
     */
    public static int combinedBucket2(final long hash, final int combinedBuckets)
    {
        checkCombinedBuckets(combinedBuckets);
        final long mixed = fmix64(hash);
        final int first = reduce(mixed & 0xFFFF_FFFFL, combinedBuckets);
        final int second = reduce(mixed >>> 32, combinedBuckets);
        if ((second >>> 1) == (first >>> 1) && combinedBuckets > 2)
        {
            return (second + 2) % combinedBuckets;
        }
        return second;
    }

    /** MurmurHash3's 64-bit finaliser: a bijection on longs with full avalanche. */
    public static long fmix64(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }

    private static int reduce(final long value32, final int n)
    {
        return (int)((value32 * n) >>> 32);
    }

    private static void checkDepth(final int depth)
    {
        if (depth < 0 || depth > MAX_DEPTH)
        {
            throw new IllegalArgumentException("depth " + depth + " is outside 0.." + MAX_DEPTH);
        }
    }

    private static void checkCombinedBuckets(final int combinedBuckets)
    {
        if (combinedBuckets < 2 || combinedBuckets > MAX_COMBINED_BUCKETS || (combinedBuckets & 1) != 0)
        {
            throw new IllegalArgumentException("combined buckets per subtable " + combinedBuckets
                + " must be even and within 2.." + MAX_COMBINED_BUCKETS);
        }
    }
}
