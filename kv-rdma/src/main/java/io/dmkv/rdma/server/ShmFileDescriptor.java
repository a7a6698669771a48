package io.dmkv.rdma.server;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Layout of the header of a memory node's shared memory file ({@code scripts/memnode --shm-file}).
 * Regions follow the header, each at the file offset its entry gives, page aligned.
 *
 * <pre>
 *   0                   8           12          16
 *   +-------------------+-----------+-----------+------------------------------+
 *   | magic "DMKVSHM1"  | version   | regions   | reserved (to byte 64)        |
 *   +-------------------+-----------+-----------+------------------------------+
 *   64 + 32 * i: region entry i
 *   +-----------+-----------+-------------------+-------------------+-------------------+
 *   | id (u32)  | reserved  | key (u64)         | file offset (u64) | length (u64)      |
 *   +-----------+-----------+-------------------+-------------------+-------------------+
 * </pre>
 * All fields little-endian. The magic is written last, so a mapped header with the magic is whole.
 */
public final class ShmFileDescriptor
{
    public static final long MAGIC = 0x314D_4853_564B_4D44L; // "DMKVSHM1" read little-endian
    public static final int VERSION = 1;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 8;
    public static final int REGION_COUNT_OFFSET = 12;
    public static final int ENTRIES_OFFSET = 64;
    public static final int ENTRY_LENGTH = 32;
    public static final int ENTRY_ID_OFFSET = 0;
    public static final int ENTRY_KEY_OFFSET = 8;
    public static final int ENTRY_FILE_OFFSET_OFFSET = 16;
    public static final int ENTRY_LENGTH_OFFSET = 24;
    public static final int PAGE = 4096;

    private ShmFileDescriptor()
    {
    }

    /** Bytes before the first region: the header rounded up to a page. */
    public static long headerLength(final int regions)
    {
        final long raw = ENTRIES_OFFSET + (long)ENTRY_LENGTH * regions;
        return (raw + PAGE - 1) / PAGE * PAGE;
    }

    static void writeRegion(final MutableDirectBuffer h, final int index, final int id, final long key,
        final long fileOffset, final long length)
    {
        final int e = ENTRIES_OFFSET + index * ENTRY_LENGTH;
        h.putInt(e + ENTRY_ID_OFFSET, id, LE);
        h.putLong(e + ENTRY_KEY_OFFSET, key, LE);
        h.putLong(e + ENTRY_FILE_OFFSET_OFFSET, fileOffset, LE);
        h.putLong(e + ENTRY_LENGTH_OFFSET, length, LE);
    }

    /** Publishes a re-keyed region's new key to processes that attach to the file from now on. */
    static void writeKey(final MutableDirectBuffer h, final int index, final long key)
    {
        h.putLong(ENTRIES_OFFSET + index * ENTRY_LENGTH + ENTRY_KEY_OFFSET, key, LE);
    }

    static void writeHeader(final MutableDirectBuffer h, final int regions)
    {
        h.putInt(VERSION_OFFSET, VERSION, LE);
        h.putInt(REGION_COUNT_OFFSET, regions, LE);
        h.putLong(MAGIC_OFFSET, MAGIC, LE);
    }

    public static boolean hasMagic(final DirectBuffer h)
    {
        return h.capacity() >= ENTRIES_OFFSET && h.getLong(MAGIC_OFFSET, LE) == MAGIC;
    }

    public static int version(final DirectBuffer h)
    {
        return h.getInt(VERSION_OFFSET, LE);
    }

    public static int regionCount(final DirectBuffer h)
    {
        return h.getInt(REGION_COUNT_OFFSET, LE);
    }

    public static int entryId(final DirectBuffer h, final int i)
    {
        return h.getInt(ENTRIES_OFFSET + i * ENTRY_LENGTH + ENTRY_ID_OFFSET, LE);
    }

    public static long entryKey(final DirectBuffer h, final int i)
    {
        return h.getLong(ENTRIES_OFFSET + i * ENTRY_LENGTH + ENTRY_KEY_OFFSET, LE);
    }

    public static long entryFileOffset(final DirectBuffer h, final int i)
    {
        return h.getLong(ENTRIES_OFFSET + i * ENTRY_LENGTH + ENTRY_FILE_OFFSET_OFFSET, LE);
    }

    public static long entryLength(final DirectBuffer h, final int i)
    {
        return h.getLong(ENTRIES_OFFSET + i * ENTRY_LENGTH + ENTRY_LENGTH_OFFSET, LE);
    }
}
