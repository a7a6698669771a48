package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The start of every block: the coarse unit (1-64 MiB in production, a few KiB in tests) a
 * memory node hands a client, which the client carves into objects of one size class.
 *
 * <pre>
 *   0               4               6       7       8               12              16              20
 *   +---------------+---------------+-------+-------+---------------+---------------+---------------+
 *   | magic "DMBK"  | owner client  | size  | 0     | object size   | object count  | generation    |
 *   | (u32)         | id (u16)      | class |       | (u32, bytes)  | (u32)         | (u32)         |
 *   +---------------+---------------+-------+-------+---------------+---------------+---------------+
 *   20              24
 *   +---------------+
 *   | high-water    |
 *   | mark (u32)    |
 *   +---------------+
 *   24 .. 64: reserved (0)
 *   64: free bitmap, ceil(object count / 64) words of 8 bytes
 *   first object offset = round up (64 + 8 * words) to 256; object i at first + i * object size
 * </pre>
 *
 * <p><b>Free bitmap</b>: bit {@code i & 63} of word {@code i >>> 6} is object i; 1 means freed.
 * Whoever frees object i (exactly one party: the writer whose CAS replaced it, or recovery)
 * sets its bit with one FAA of {@link #freeDelta(int) 1L &lt;&lt; (i &amp; 63)}. FAA, unlike a
 * read-modify-write, needs no retry against concurrent frees of neighbours, but adding to a bit
 * that is already set would carry into the next bit, hence the exactly-once rule. The owner reads
 * its bitmaps in the background, reuses the freed objects and clears their bits with
 * {@link #reclaimDelta(int)}. FUSEE's code computes the mask with 32-bit {@code 1 << n}, which
 * for n &ge; 32 frees the wrong object; the mask here is a {@code long} shift, bit 63 included.
 *
 * <p><b>High-water mark</b>: how many objects, from object 0 up, the owner had handed out when
 * it last handed the block over. Objects at or above it were never written, so a client that
 * adopts the block takes them as free without any bit set for them; objects below it are free
 * exactly when their bitmap bit is. {@link #format} zeroes it, and it is written only on
 * handover, so while the block is owned it is stale.
 *
 * <p>The generation is the block allocation table's generation when the block was claimed, so
 * a header left over from an earlier owner is recognisable. Fields are native (little-endian)
 * order; the first object offset is 256-byte aligned and blocks are 4 KiB aligned, so objects are
 * 256-byte aligned as slots require.
 */
public final class BlockHeader
{
    /** Magic of a formatted block: the bytes "DMBK". */
    public static final int MAGIC = 0x4B42_4D44;
    /** Offset of the magic (u32). */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the owner client id (u16). */
    public static final int OWNER_OFFSET = 4;
    /** Offset of the size class (u8). */
    public static final int SIZE_CLASS_OFFSET = 6;
    /** Offset of the object size in bytes (u32). */
    public static final int OBJECT_SIZE_OFFSET = 8;
    /** Offset of the object count (u32). */
    public static final int OBJECT_COUNT_OFFSET = 12;
    /** Offset of the generation (u32). */
    public static final int GENERATION_OFFSET = 16;
    /** Offset of the high-water mark (u32): objects handed out so far, written on handover. */
    public static final int HIGH_WATER_MARK_OFFSET = 20;
    /** Bytes before the free bitmap. */
    public static final int HEADER_LENGTH = 64;
    /** Offset of the first bitmap word. */
    public static final int BITMAP_OFFSET = HEADER_LENGTH;
    /** Bytes per bitmap word (the FAA operand). */
    public static final int BITMAP_WORD_LENGTH = 8;
    /** Objects per bitmap word. */
    public static final int OBJECTS_PER_WORD = 64;
    /** Alignment of the first object. */
    public static final int OBJECT_ALIGNMENT = Slot.ALIGNMENT;
    /** Smallest block: one 4 KiB page. */
    public static final int MIN_BLOCK_SIZE = 4096;
    /** Largest block: 64 MiB (FUSEE uses 16-64 MiB). */
    public static final int MAX_BLOCK_SIZE = 64 << 20;
    /** Default block size: 16 MiB. */
    public static final int DEFAULT_BLOCK_SIZE = 16 << 20;

    private BlockHeader()
    {
    }

    /**
     * Checks a block size.
     *
     * @throws IllegalArgumentException unless it is a power of two in 4 KiB..64 MiB.
     */
    public static int validateBlockSize(final int blockSize)
    {
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1)
        {
            throw new IllegalArgumentException("block size " + blockSize + " must be a power of two from "
                + MIN_BLOCK_SIZE + " (4 KiB) to " + MAX_BLOCK_SIZE + " (64 MiB)");
        }
        return blockSize;
    }

    /** Bitmap words for {@code objectCount} objects. */
    public static int bitmapWords(final int objectCount)
    {
        checkCount(objectCount);
        return (objectCount + OBJECTS_PER_WORD - 1) / OBJECTS_PER_WORD;
    }

    /** Offset of the first object in a block of {@code objectCount} objects. */
    public static int firstObjectOffset(final int objectCount)
    {
        final int end = BITMAP_OFFSET + bitmapWords(objectCount) * BITMAP_WORD_LENGTH;
        return (end + OBJECT_ALIGNMENT - 1) & -OBJECT_ALIGNMENT;
    }

    /**
     * Most objects of {@code objectSize} bytes that fit a block of {@code blockSize} bytes after
     * the header and the bitmap they need (0 if not even one does).
     */
    public static int objectsPerBlock(final int blockSize, final int objectSize)
    {
        validateBlockSize(blockSize);
        if (objectSize < OBJECT_ALIGNMENT || objectSize % OBJECT_ALIGNMENT != 0)
        {
            throw new IllegalArgumentException("object size " + objectSize + " must be a positive multiple of "
                + OBJECT_ALIGNMENT);
        }
        int n = (blockSize - HEADER_LENGTH) / objectSize;
        while (n > 0 && (long)firstObjectOffset(n) + (long)n * objectSize > blockSize)
        {
            n--;
        }
        return n;
    }

    /** Offset from the block's start of the bitmap word holding object {@code objectIndex}. */
    public static int wordOffsetFor(final int objectIndex)
    {
        checkIndex(objectIndex);
        return BITMAP_OFFSET + (objectIndex >>> 6) * BITMAP_WORD_LENGTH;
    }

    /** Bit of object {@code objectIndex} in its bitmap word (0..63). */
    public static int bitFor(final int objectIndex)
    {
        checkIndex(objectIndex);
        return objectIndex & (OBJECTS_PER_WORD - 1);
    }

    /** The FAA operand that frees object {@code objectIndex}: {@code 1L << bit}, a 64-bit shift. */
    public static long freeDelta(final int objectIndex)
    {
        return 1L << bitFor(objectIndex);
    }

    /** The FAA operand with which the owner clears the bit of a freed object it reuses. */
    public static long reclaimDelta(final int objectIndex)
    {
        return -freeDelta(objectIndex);
    }

    /** True if object {@code objectIndex}'s bit is set in {@code word}. */
    public static boolean isFreed(final long word, final int objectIndex)
    {
        return (word & freeDelta(objectIndex)) != 0;
    }

    /** Offset from the block's start of object {@code objectIndex} in a block of {@code objectCount} objects. */
    public static int objectOffset(final int objectCount, final int objectSize, final int objectIndex)
    {
        if (objectIndex < 0 || objectIndex >= objectCount)
        {
            throw new IllegalArgumentException("object " + objectIndex + " is outside 0.." + (objectCount - 1));
        }
        return firstObjectOffset(objectCount) + objectIndex * objectSize;
    }

    /**
     * Index of the object starting at {@code offsetInBlock}: how a client that frees an object by
     * its address finds its bit.
     *
     * @throws IllegalArgumentException if no object starts there.
     */
    public static int objectIndex(final int objectCount, final int objectSize, final int offsetInBlock)
    {
        final int first = firstObjectOffset(objectCount);
        final int rel = offsetInBlock - first;
        if (rel < 0 || rel % objectSize != 0 || rel / objectSize >= objectCount)
        {
            throw new IllegalArgumentException("no object of " + objectSize + " bytes starts at offset "
                + offsetInBlock + " of a block of " + objectCount + " objects");
        }
        return rel / objectSize;
    }

    /**
     * Writes the header (high-water mark 0) and an all-zero bitmap at {@code offset} for a block of
     * {@code blockSize} bytes claimed by {@code owner} for {@code sizeClass}; returns the
     * object count. Objects are left as they are.
     */
    public static int format(final MutableDirectBuffer buffer, final int offset, final int blockSize,
        final int owner, final int sizeClass, final int generation)
    {
        BlockAllocationTable.validateClientId(owner);
        final int objectSize = SizeClasses.objectSize(sizeClass);
        final int count = objectsPerBlock(blockSize, objectSize);
        if (count == 0)
        {
            throw new IllegalArgumentException("a block of " + blockSize + " bytes cannot hold one object of size class "
                + sizeClass + " (" + objectSize + " bytes)");
        }
        final int first = firstObjectOffset(count);
        buffer.boundsCheck(offset, first);
        buffer.setMemory(offset, first, (byte)0);
        buffer.putShort(offset + OWNER_OFFSET, (short)owner);
        buffer.putByte(offset + SIZE_CLASS_OFFSET, (byte)sizeClass);
        buffer.putInt(offset + OBJECT_SIZE_OFFSET, objectSize);
        buffer.putInt(offset + OBJECT_COUNT_OFFSET, count);
        buffer.putInt(offset + GENERATION_OFFSET, generation);
        buffer.putInt(offset + MAGIC_OFFSET, MAGIC);
        return count;
    }

    /** True if the block at {@code offset} carries the magic. */
    public static boolean hasMagic(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + MAGIC_OFFSET) == MAGIC;
    }

    /** Owner client id of the block at {@code offset}. */
    public static int owner(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + OWNER_OFFSET) & 0xFFFF;
    }

    /** Size class of the block at {@code offset}. */
    public static int sizeClass(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + SIZE_CLASS_OFFSET) & 0xFF;
    }

    /** Object size of the block at {@code offset}. */
    public static int objectSize(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + OBJECT_SIZE_OFFSET);
    }

    /** Object count of the block at {@code offset}. */
    public static int objectCount(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + OBJECT_COUNT_OFFSET);
    }

    /** Generation of the block at {@code offset}. */
    public static int generation(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + GENERATION_OFFSET);
    }

    /** High-water mark of the block at {@code offset}: objects 0..mark-1 were handed out at the last handover. */
    public static int highWaterMark(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + HIGH_WATER_MARK_OFFSET);
    }

    /**
     * Writes the high-water mark of the block at {@code offset}.
     *
     * @throws IllegalArgumentException if it is negative or above the block's object count.
     */
    public static void putHighWaterMark(final MutableDirectBuffer buffer, final int offset, final int mark)
    {
        final int count = objectCount(buffer, offset);
        if (mark < 0 || mark > count)
        {
            throw new IllegalArgumentException("high-water mark " + mark + " is outside 0.." + count
                + " (the block's object count)");
        }
        buffer.putInt(offset + HIGH_WATER_MARK_OFFSET, mark);
    }

    private static void checkIndex(final int objectIndex)
    {
        if (objectIndex < 0)
        {
            throw new IllegalArgumentException("object index " + objectIndex + " is negative");
        }
    }

    private static void checkCount(final int objectCount)
    {
        if (objectCount < 0)
        {
            throw new IllegalArgumentException("object count " + objectCount + " is negative");
        }
    }
}
