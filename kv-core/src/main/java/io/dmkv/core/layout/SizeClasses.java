package io.dmkv.core.layout;

/**
 * The object sizes clients allocate from their blocks: 16 classes, each a multiple of the
 * 256-byte slot length unit, growing by 1.5x or 1.33x rather than 2x, so an object longer than
 * 512 bytes wastes less than a third of its class:
 *
 * <pre>
 *   class  :  0    1    2    3     4     5     6     7     8     9    10    11    12    13    14     15
 *   units  :  1    2    3    4     6     8    12    16    24    32    48    64    96   128   192    255
 *   bytes  : 256  512  768  1Ki 1.5Ki  2Ki   3Ki   4Ki   6Ki   8Ki  12Ki  16Ki  24Ki  32Ki  48Ki  65,280
 * </pre>
 * The last class is the largest object a slot's 8-bit length can describe (255 units). The
 * finer steps matter for FUSEE's reference workload of 1 KiB values: with the 40-byte object
 * overhead such an object needs about 1,100 bytes, which fits class 4 (1.5 KiB) where
 * power-of-two classes would spend 2 KiB.
 *
 * <p>The class index fits 4 bits and is stored in the object header, the block header and the
 * block allocation table; {@link ClientLogHeads} keeps one log list per class.
 */
public final class SizeClasses
{
    /** Number of size classes. */
    public static final int COUNT = 16;
    /** Bytes per unit (the slot length unit). */
    public static final int UNIT = Slot.LENGTH_UNIT;
    /** Largest object: 65,280 bytes. */
    public static final int MAX_OBJECT_SIZE = Slot.MAX_OBJECT_LENGTH;

    private static final int[] UNITS = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 255};

    private SizeClasses()
    {
    }

    /** Object size of class {@code sizeClass} in 256-byte units: what a slot's length field holds. */
    public static int units(final int sizeClass)
    {
        checkClass(sizeClass);
        return UNITS[sizeClass];
    }

    /** Object size of class {@code sizeClass} in bytes. */
    public static int objectSize(final int sizeClass)
    {
        return units(sizeClass) * UNIT;
    }

    /** The smallest class whose objects hold {@code bytes} bytes. */
    public static int classForLength(final int bytes)
    {
        if (bytes < 0 || bytes > MAX_OBJECT_SIZE)
        {
            throw new IllegalArgumentException("an object of " + bytes + " bytes is outside 0.." + MAX_OBJECT_SIZE
                + " bytes");
        }
        for (int c = 0; c < COUNT; c++)
        {
            if (UNITS[c] * UNIT >= bytes)
            {
                return c;
            }
        }
        throw new IllegalStateException("unreachable: the last class holds " + MAX_OBJECT_SIZE + " bytes");
    }

    /**
     * The class of an object holding a key of {@code keyLength} bytes and a value of
     * {@code valueLength} bytes, with its header and embedded log entry.
     *
     * @throws IllegalArgumentException if the key exceeds {@link KvObject#MAX_KEY_LENGTH} or the
     *                                  value {@link KvObject#MAX_VALUE_LENGTH}, naming the limit.
     */
    public static int sizeClassFor(final int keyLength, final int valueLength)
    {
        return classForLength(KvObject.requiredLength(keyLength, valueLength));
    }

    /** The class whose objects are {@code units} long, or -1 if no class is. */
    public static int classOfUnits(final int units)
    {
        for (int c = 0; c < COUNT; c++)
        {
            if (UNITS[c] == units)
            {
                return c;
            }
        }
        return -1;
    }

    private static void checkClass(final int sizeClass)
    {
        if (sizeClass < 0 || sizeClass >= COUNT)
        {
            throw new IllegalArgumentException("size class " + sizeClass + " is outside 0.." + (COUNT - 1));
        }
    }
}
