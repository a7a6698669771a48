package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;

/**
 * The operation-log entry embedded in every KV object right after its value (see {@link KvObject}).
 * Each client keeps, per size class, a doubly linked list of its objects in allocation order;
 * recovery walks it to redo or complete a crashed client's operations.
 *
 * <pre>
 *   entry offset (object offset + header, key and value rounded up to 8 bytes):
 *   0                 8                 16        20        24                          30    31   32
 *   +-----------------+-----------------+---------+---------+---------------------------+-----+----+
 *   | next (u64)      | old value (u64) | old-val | object  | prev (48 bits)            | 0   | op |
 *   | global address  | of primary slot | CRC32C  | CRC32C  | global address            |     | +u |
 *   +-----------------+-----------------+---------+---------+---------------------------+-----+----+
 *                     |---- commit WRITE: 12 B ----|         |----------- tail word (u64) -----------|
 *
 *   last byte of the entry:   7   6                       0
 *                              +---+-----------------------+
 *                              | u |  op code (7 bits)     |   u = used bit
 *                              +---+-----------------------+
 * </pre>
 *
 * <ul>
 *   <li><b>next / prev</b>: global addresses of the next and previous object of the same client
 *       and size class (0 = none). prev shares the tail word with the op byte because a global
 *       address is 48 bits; the paper's entry packs the same way (22 bytes).</li>
 *   <li><b>used bit</b>: bit 7 of the last byte of the object's used bytes. The object is written in
 *       order with the used bit set (one WRITE, or several on one connection), and writes on a
 *       connection land in order, so a set used bit means every byte before it landed.</li>
 *   <li><b>old value / old-value CRC32C</b>: the primary slot's value the operation replaced,
 *       and the CRC32C of its 8 stored bytes, both written by the commit step as one 12-byte
 *       WRITE after the object. Recovery reads the pair: a checksum that matches means the commit
 *       landed; the object is first written with both zero, which never matches
 *       (CRC32C of eight zero bytes is not zero).</li>
 *   <li><b>object CRC32C</b>: written with the object; covers what the writer knows at that
 *       time and never changes afterwards (see {@link KvObject#checksum}), so a reader detects an
 *       object torn by a concurrent reuse.</li>
 *   <li><b>op code</b>: {@link #OP_INSERT}, {@link #OP_UPDATE} or {@link #OP_DELETE}.</li>
 * </ul>
 * Fields are native (little-endian) order. FUSEE's code writes a constant 0xFF where the
 * checksum belongs; this entry is 32 bytes instead of the paper's 22 because both checksums are
 * real CRC32Cs and the 8-byte fields stay 8-byte aligned.
 */
public final class LogEntry
{
    /** Bytes in an entry. */
    public static final int LENGTH = 32;
    /** Offset of the next pointer. */
    public static final int NEXT_OFFSET = 0;
    /** Offset of the old value of the primary slot. */
    public static final int OLD_VALUE_OFFSET = 8;
    /** Offset of the CRC32C of the old value. */
    public static final int OLD_VALUE_CRC_OFFSET = 16;
    /** Offset of the object's CRC32C. */
    public static final int OBJECT_CRC_OFFSET = 20;
    /** Offset of the tail word: prev pointer, reserved byte, op code and used bit. */
    public static final int TAIL_OFFSET = 24;
    /** Offset of the reserved byte (always 0). */
    public static final int RESERVED_OFFSET = 30;
    /** Offset of the op/used byte: the last byte of the entry and of the object's used bytes. */
    public static final int OP_USED_OFFSET = 31;
    /** Offset of the bytes the commit step writes (old value and its checksum). */
    public static final int COMMIT_OFFSET = OLD_VALUE_OFFSET;
    /** Bytes the commit step writes. */
    public static final int COMMIT_LENGTH = 12;

    /** The used bit of the op/used byte. */
    public static final int USED_BIT = 0x80;
    /** The op code bits of the op/used byte. */
    public static final int OP_MASK = 0x7F;
    /** Op code: insert of a new key. */
    public static final int OP_INSERT = 1;
    /** Op code: update of an existing key. */
    public static final int OP_UPDATE = 2;
    /** Op code: delete (the object holds the key only). */
    public static final int OP_DELETE = 3;

    private static final int TAIL_OP_SHIFT = 56;

    private LogEntry()
    {
    }

    /**
     * Offset of the entry of the object at {@code objectOffset} whose header, key and value take
     * {@code dataLength} bytes: right after them, 8-byte aligned ({@link KvObject#entryOffset}).
     */
    public static int entryOffsetAfter(final int objectOffset, final int dataLength)
    {
        return objectOffset + ((dataLength + 7) & ~7);
    }

    /**
     * Checks an op code.
     *
     * @throws IllegalArgumentException if it is not INSERT, UPDATE or DELETE.
     */
    public static int validateOp(final int op)
    {
        if (op != OP_INSERT && op != OP_UPDATE && op != OP_DELETE)
        {
            throw new IllegalArgumentException("op code " + op + " is not INSERT (1), UPDATE (2) or DELETE (3)");
        }
        return op;
    }

    /** Name of an op code, for messages. */
    public static String opName(final int op)
    {
        switch (op)
        {
            case OP_INSERT: return "INSERT";
            case OP_UPDATE: return "UPDATE";
            case OP_DELETE: return "DELETE";
            default: return "op#" + op;
        }
    }

    /** The op/used byte (as an int 0..255). */
    public static int opUsedByte(final int op, final boolean used)
    {
        return (validateOp(op) & OP_MASK) | (used ? USED_BIT : 0);
    }

    /**
     * The tail word: {@code prev} in bits 0..47, 0 in bits 48..55, the op/used byte in 56..63.
     *
     * @throws IllegalArgumentException if {@code prev} is neither 0 nor an object address, or
     *                                  the op code is invalid.
     */
    public static long tail(final long prev, final int op, final boolean used)
    {
        requirePointer(prev, "prev pointer");
        return ((long)opUsedByte(op, used) << TAIL_OP_SHIFT) | prev;
    }

    /** The prev pointer of a tail word. */
    public static long tailPrev(final long tail)
    {
        return tail & GlobalAddress.ADDRESS_MASK;
    }

    /** The op code of a tail word. */
    public static int tailOp(final long tail)
    {
        return (int)(tail >>> TAIL_OP_SHIFT) & OP_MASK;
    }

    /** The used bit of a tail word. */
    public static boolean tailUsed(final long tail)
    {
        return (tail >>> TAIL_OP_SHIFT & USED_BIT) != 0;
    }

    /**
     * Returns {@code pointer} if it is {@link GlobalAddress#NULL} or an object address.
     *
     * @throws IllegalArgumentException otherwise, naming {@code what}.
     */
    public static long requirePointer(final long pointer, final String what)
    {
        return pointer == GlobalAddress.NULL ? pointer : GlobalAddress.requireObjectAddress(pointer, what);
    }

    /** Next pointer of the entry at {@code entryOffset}. */
    public static long next(final DirectBuffer buffer, final int entryOffset)
    {
        return buffer.getLong(entryOffset + NEXT_OFFSET);
    }

    /** Prev pointer of the entry at {@code entryOffset}. */
    public static long prev(final DirectBuffer buffer, final int entryOffset)
    {
        return tailPrev(buffer.getLong(entryOffset + TAIL_OFFSET));
    }

    /** Old value of the primary slot recorded by the commit (0 before it). */
    public static long oldValue(final DirectBuffer buffer, final int entryOffset)
    {
        return buffer.getLong(entryOffset + OLD_VALUE_OFFSET);
    }

    /** Stored CRC32C of the old value. */
    public static int oldValueCrc(final DirectBuffer buffer, final int entryOffset)
    {
        return buffer.getInt(entryOffset + OLD_VALUE_CRC_OFFSET);
    }

    /** Stored CRC32C of the object. */
    public static int objectCrc(final DirectBuffer buffer, final int entryOffset)
    {
        return buffer.getInt(entryOffset + OBJECT_CRC_OFFSET);
    }

    /** Op code of the entry. */
    public static int op(final DirectBuffer buffer, final int entryOffset)
    {
        return buffer.getByte(entryOffset + OP_USED_OFFSET) & OP_MASK;
    }

    /** True if the entry's used bit is set: the whole object landed. */
    public static boolean isUsed(final DirectBuffer buffer, final int entryOffset)
    {
        return (buffer.getByte(entryOffset + OP_USED_OFFSET) & USED_BIT) != 0;
    }

    /**
     * Writes the commit (old value and its CRC32C) into the entry at {@code entryOffset}; the
     * client then WRITEs {@link #COMMIT_LENGTH} bytes from {@code entryOffset + COMMIT_OFFSET}.
     */
    public static void commit(final MutableDirectBuffer buffer, final int entryOffset, final long oldValue,
        final Crc32cDigest digest)
    {
        buffer.putLong(entryOffset + OLD_VALUE_OFFSET, oldValue);
        buffer.putInt(entryOffset + OLD_VALUE_CRC_OFFSET, oldValueCrc(oldValue, digest));
    }

    /** True if the entry's old value and its checksum agree: the commit landed whole. */
    public static boolean isCommitted(final DirectBuffer buffer, final int entryOffset, final Crc32cDigest digest)
    {
        final int expected = digest.reset().update(buffer, entryOffset + OLD_VALUE_OFFSET, Long.BYTES).value();
        return expected == oldValueCrc(buffer, entryOffset);
    }

    /** CRC32C of an old value's 8 bytes as stored (native order). */
    public static int oldValueCrc(final long oldValue, final Crc32cDigest digest)
    {
        return digest.reset().updateLong(oldValue).value();
    }
}
