package io.dmkv.core.layout;

/**
 * The object sizes clients allocate from their blocks: 18 classes, each a multiple of the
 * 256-byte object alignment, in 256-byte steps up to 1.5 KiB and growing by 1.2x to 1.5x above,
 * so an object longer than 512 bytes wastes less than a third of its class:
 *
 * <pre>
 *   class :  0    1    2    3     4     5    6    7     8    9   10   11   12   13   14   15   16     17
 *   units :  1    2    3    4     5     6    8   10    12   16   24   32   48   64   96  128  192    254
 *   bytes : 256  512  768  1Ki 1.25Ki 1.5Ki 2Ki 2.5Ki 3Ki 4Ki  6Ki  8Ki 12Ki 16Ki 24Ki 32Ki 48Ki 65,024
 * </pre>
 * The last class is the largest object a slot's length code describes ({@link Slot}). The steps
 * matter for FUSEE's reference workload of 1 KiB KV pairs: such an object uses 1,064 bytes
 * (header, key, value, log entry), which class 4 holds in 1,280 bytes, 1.25x the pair; layout
 * version 1 had 16 classes, no 1.25 KiB one, and spent 1,536. Every class size is a slot length
 * ({@link Slot#lengthCode(int)} rounds no class up), which is what lets a freer learn the class
 * from a slot value alone.
 *
 * <p>The class index is one byte in the object header, the block header and the block allocation
 * table; {@link ClientLogHeads} keeps one log list per class.
 */
public final class SizeClasses
{
    /** Number of size classes. */
    public static final int COUNT = 18;
    /** Bytes per unit (the object alignment). */
    public static final int UNIT = Slot.ALIGNMENT;
    /** Largest object: 65,024 bytes. */
    public static final int MAX_OBJECT_SIZE = Slot.MAX_OBJECT_LENGTH;

    private static final int[] UNITS = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 254};

    private SizeClasses()
    {
    }

    /** Object size of class {@code sizeClass} in 256-byte units. */
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
