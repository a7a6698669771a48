package io.dmkv.core.address;

/**
 * Encoding of a global address: a byte in dmkv's 48-bit address space, which is cut into
 * regions of at most 1 GiB. A region is replicated on several memory nodes (see
 * {@link RegionMap}); a global address names the same byte on every replica, so slots and log
 * pointers never hold a memory-node id and survive a node failure unchanged.
 *
 * <pre>
 *   63            48 47                      30 29                                  0
 *   +--------------+--------------------------+-------------------------------------+
 *   |  zero (16)   |     region id (18)       |        offset in region (30)        |
 *   +--------------+--------------------------+-------------------------------------+
 * </pre>
 *
 * <p>Limits that follow: 2^18 = 262,144 regions of at most 2^30 bytes, 2^48 bytes = 256 TiB of
 * addressable (replicated) memory. Offsets fit an {@code int}, which is what Agrona and DiSNI
 * index with.
 *
 * <p>KV objects are {@value #OBJECT_ALIGNMENT}-byte aligned, so bits 0..7 of an object address are
 * zero and its information is the 40-bit unit address in bits 8..47 ({@link #units(long)}).
 *
 * <p>Address 0 ({@link #NULL}) is never an object: offset 0 of every region holds the region
 * header (see {@code RegionLayout}), so no object has offset 0, and region 0 offset 0 is address
 * 0. An all-zero slot or log pointer therefore means "nothing".
 */
public final class GlobalAddress
{
    /** Width of a global address. */
    public static final int ADDRESS_BITS = 48;
    /** Width of the offset inside a region. */
    public static final int OFFSET_BITS = 30;
    /** Width of the region id. */
    public static final int REGION_ID_BITS = ADDRESS_BITS - OFFSET_BITS;
    /** Largest region: 1 GiB. */
    public static final long MAX_REGION_SIZE = 1L << OFFSET_BITS;
    /** Number of distinct region ids: 262,144. */
    public static final int MAX_REGIONS = 1 << REGION_ID_BITS;
    /** Bytes the address space can name: 256 TiB. */
    public static final long MAX_MEMORY = 1L << ADDRESS_BITS;
    /** Mask of the 48 address bits. */
    public static final long ADDRESS_MASK = MAX_MEMORY - 1;
    /** Mask of the offset bits. */
    public static final long OFFSET_MASK = MAX_REGION_SIZE - 1;
    /** The address that names nothing. */
    public static final long NULL = 0L;
    /** log2 of {@link #OBJECT_ALIGNMENT}. */
    public static final int OBJECT_ALIGNMENT_SHIFT = 8;
    /** Every KV object starts at a multiple of 256 bytes. */
    public static final int OBJECT_ALIGNMENT = 1 << OBJECT_ALIGNMENT_SHIFT;
    /** Width of an object address counted in {@link #OBJECT_ALIGNMENT} units. */
    public static final int UNIT_ADDRESS_BITS = ADDRESS_BITS - OBJECT_ALIGNMENT_SHIFT;

    private GlobalAddress()
    {
    }

    /**
     * Packs a region id and an offset inside it.
     *
     * @throws IllegalArgumentException if the region id is outside 0..262,143 or the offset
     *                                  outside 0..2^30-1.
     */
    public static long pack(final int regionId, final int offset)
    {
        if (regionId < 0 || regionId >= MAX_REGIONS)
        {
            throw new IllegalArgumentException("region id " + regionId + " is outside 0.." + (MAX_REGIONS - 1));
        }
        if (offset < 0 || offset > OFFSET_MASK)
        {
            throw new IllegalArgumentException("offset " + offset + " is outside 0.." + OFFSET_MASK
                + " (regions are at most 1 GiB)");
        }
        return ((long)regionId << OFFSET_BITS) | offset;
    }

    /** Region id of a packed address. */
    public static int regionId(final long address)
    {
        return (int)((address & ADDRESS_MASK) >>> OFFSET_BITS);
    }

    /** Offset inside its region of a packed address. */
    public static int offset(final long address)
    {
        return (int)(address & OFFSET_MASK);
    }

    /** True if {@code address} uses only the low 48 bits. */
    public static boolean isInRange(final long address)
    {
        return (address & ~ADDRESS_MASK) == 0;
    }

    /**
     * True if {@code address} can name a KV object: inside the 48-bit space, 256-byte aligned and
     * not at offset 0 of its region (where the region header lives), hence never {@link #NULL}.
     */
    public static boolean isObjectAddress(final long address)
    {
        return isInRange(address) && (address & (OBJECT_ALIGNMENT - 1)) == 0 && offset(address) != 0;
    }

    /**
     * Returns {@code address} if {@link #isObjectAddress(long)}, else throws.
     *
     * @param what names the address in the message, e.g. "next pointer".
     */
    public static long requireObjectAddress(final long address, final String what)
    {
        if (!isObjectAddress(address))
        {
            throw new IllegalArgumentException(what + " " + toString(address) + " is not an object address: it must be"
                + " non-zero, below 2^48, " + OBJECT_ALIGNMENT + "-byte aligned and not at offset 0 of a region");
        }
        return address;
    }

    /** The address in {@link #OBJECT_ALIGNMENT} units (bits 8..47 moved down): 40 significant bits. */
    public static long units(final long address)
    {
        return (address & ADDRESS_MASK) >>> OBJECT_ALIGNMENT_SHIFT;
    }

    /** Inverse of {@link #units(long)}. */
    public static long fromUnits(final long units)
    {
        if (units < 0 || units >= (1L << UNIT_ADDRESS_BITS))
        {
            throw new IllegalArgumentException("unit address " + units + " does not fit " + UNIT_ADDRESS_BITS + " bits");
        }
        return units << OBJECT_ALIGNMENT_SHIFT;
    }

    /**
     * {@code address + delta}, refusing to leave the region: objects and fields never straddle
     * two regions, so crossing a boundary is always a bug.
     */
    public static long add(final long address, final long delta)
    {
        final long offset = offset(address) + delta;
        if (offset < 0 || offset > OFFSET_MASK)
        {
            throw new IllegalArgumentException(toString(address) + " + " + delta + " leaves region "
                + regionId(address));
        }
        return (address & ~OFFSET_MASK) | offset;
    }

    /** Human-readable form for messages and logs: {@code "r3+0x1f00"}, or {@code "null"}. */
    public static String toString(final long address)
    {
        if (address == NULL)
        {
            return "null";
        }
        if (!isInRange(address))
        {
            return "0x" + Long.toHexString(address) + " (beyond 48 bits)";
        }
        return "r" + regionId(address) + "+0x" + Integer.toHexString(offset(address));
    }
}
