package io.dmkv.core.layout;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.dmkv.core.hash.Crc32cDigest;

/**
 * A KV object as stored on memory nodes: header, key, value, and its embedded {@link LogEntry}
 * right after them. An object occupies one size class ({@link SizeClasses}), S bytes, starts
 * 256-byte aligned and is never changed in place except for its valid byte and the commit. Its
 * used length U ({@link #usedLength}) is what a writer WRITEs; a reader READs U rounded up to the
 * slot's length code ({@link Slot}), never the whole class.
 *
 * <pre>
 *   0       1       2               4                               8
 *   +-------+-------+---------------+-------------------------------+
 *   | valid | size  | key length    | value length (u32)            |
 *   | (u8)  | class | (u16)         |                               |
 *   +-------+-------+---------------+-------------------------------+
 *   8: key (key length bytes), then value (value length bytes)
 *   8 + k + v .. E: padding to 8 bytes (zero when encoded; not checked), E = align8(8 + k + v)
 *   E .. U = E + 32: log entry (see LogEntry), whose last byte holds the used bit
 *   U .. S: unused (never written, never checked)
 * </pre>
 *
 * <ul>
 *   <li><b>valid</b>: 1 when written. Layout version 1 had the replacing writer clear it with a
 *       1-byte WRITE per replica; nobody relies on it now (every reader checks the slot that
 *       points at an object in the same batch or before, docs/memory.md), so it stays 1.</li>
 *   <li><b>size class</b>: lets a reader or a recovery walk check that the length it READ
 *       belongs to the object's class.</li>
 * </ul>
 *
 * <p>The object CRC32C (in the log entry) covers bytes 1 .. 8+k+v (size class, lengths, key and
 * value), the next pointer and the tail word (prev pointer, op code, used bit): everything the
 * writer knows when it writes the object. It leaves out the valid byte and the commit (old value
 * and its checksum), which change later, and the padding, which a writer may skip sending.
 *
 * <p>Limits: keys are at most {@value #MAX_KEY_LENGTH} bytes; values at most
 * {@value #MAX_VALUE_LENGTH} bytes, which is what is left of the largest object (65,280 bytes)
 * after the {@value #OVERHEAD}-byte overhead and a maximal key, so every legal key can carry every
 * legal value. Multi-byte fields are native (little-endian) order. Methods work in place on any
 * {@link DirectBuffer} and allocate nothing unless they say so.
 */
public final class KvObject
{
    /** Offset of the valid byte. */
    public static final int VALID_OFFSET = 0;
    /** Offset of the size class byte. */
    public static final int SIZE_CLASS_OFFSET = 1;
    /** Offset of the key length (u16). */
    public static final int KEY_LENGTH_OFFSET = 2;
    /** Offset of the value length (u32). */
    public static final int VALUE_LENGTH_OFFSET = 4;
    /** Bytes in the header. */
    public static final int HEADER_LENGTH = 8;
    /** Offset of the key. */
    public static final int KEY_OFFSET = HEADER_LENGTH;
    /** Bytes of every object that are neither key nor value. */
    public static final int OVERHEAD = HEADER_LENGTH + LogEntry.LENGTH;
    /** Valid byte of a current object. */
    public static final byte VALID = 1;
    /** Valid byte of a superseded (or never written) object. */
    public static final byte INVALID = 0;
    /** Longest key: 1 KiB. */
    public static final int MAX_KEY_LENGTH = 1024;
    /** Longest value: 65,024 - 40 - 1,024 = 63,960 bytes. */
    public static final int MAX_VALUE_LENGTH = SizeClasses.MAX_OBJECT_SIZE - OVERHEAD - MAX_KEY_LENGTH;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private KvObject()
    {
    }

    /**
     * Bytes an object with these lengths needs (header, key, value, log entry).
     *
     * @throws IllegalArgumentException if a length is negative or above its maximum.
     */
    public static int requiredLength(final int keyLength, final int valueLength)
    {
        if (keyLength < 0 || keyLength > MAX_KEY_LENGTH)
        {
            throw new IllegalArgumentException("key length " + keyLength + " is outside 0.." + MAX_KEY_LENGTH
                + " bytes");
        }
        if (valueLength < 0 || valueLength > MAX_VALUE_LENGTH)
        {
            throw new IllegalArgumentException("value length " + valueLength + " is outside 0.." + MAX_VALUE_LENGTH
                + " bytes (the largest object is " + SizeClasses.MAX_OBJECT_SIZE + " bytes)");
        }
        return usedLength(keyLength, valueLength);
    }

    /** Bytes an object with these lengths uses: header, key, value, padding to 8, log entry. */
    public static int usedLength(final int keyLength, final int valueLength)
    {
        return LogEntry.entryOffsetAfter(0, dataLength(keyLength, valueLength)) + LogEntry.LENGTH;
    }

    /** Offset of the log entry of the object at {@code offset}, from its header's lengths. */
    public static int entryOffset(final DirectBuffer buffer, final int offset)
    {
        return LogEntry.entryOffsetAfter(offset, dataLength(keyLength(buffer, offset), valueLength(buffer, offset)));
    }

    /** Bytes from the object's start to the end of its value: the part before the padding. */
    public static int dataLength(final int keyLength, final int valueLength)
    {
        return HEADER_LENGTH + keyLength + valueLength;
    }

    /**
     * Writes a whole object of class {@code sizeClass} at {@code offset}: header (valid), key,
     * value, zero padding and log entry with the used bit set, no commit yet, and its checksum.
     *
     * @return the object's used length U: the bytes to WRITE.
     * @throws IllegalArgumentException if the lengths exceed the limits or the class is too small,
     *                                  the op code is not INSERT/UPDATE/DELETE, or a pointer is
     *                                  neither 0 nor an object address.
     */
    public static int encode(final MutableDirectBuffer dst, final int offset, final int sizeClass,
        final DirectBuffer key, final int keyOffset, final int keyLength,
        final DirectBuffer value, final int valueOffset, final int valueLength,
        final int op, final long next, final long prev, final Crc32cDigest digest)
    {
        final int size = begin(dst, offset, sizeClass, keyLength, valueLength, op, next, prev);
        dst.putBytes(offset + KEY_OFFSET, key, keyOffset, keyLength);
        dst.putBytes(offset + KEY_OFFSET + keyLength, value, valueOffset, valueLength);
        finish(dst, offset, keyLength, valueLength, op, next, prev, digest);
        return size;
    }

    /** {@link #encode(MutableDirectBuffer, int, int, DirectBuffer, int, int, DirectBuffer, int, int, int, long, long, Crc32cDigest)} from arrays. */
    public static int encode(final MutableDirectBuffer dst, final int offset, final int sizeClass, final byte[] key,
        final byte[] value, final int op, final long next, final long prev, final Crc32cDigest digest)
    {
        final int size = begin(dst, offset, sizeClass, key.length, value.length, op, next, prev);
        dst.putBytes(offset + KEY_OFFSET, key);
        dst.putBytes(offset + KEY_OFFSET + key.length, value);
        finish(dst, offset, key.length, value.length, op, next, prev, digest);
        return size;
    }

    /**
     * CRC32C of the object at {@code offset} over the bytes it protects (see the class comment).
     * The header's lengths must fit the bytes read; {@link #validate} checks that first.
     */
    public static int checksum(final DirectBuffer buffer, final int offset, final Crc32cDigest digest)
    {
        final int entry = entryOffset(buffer, offset);
        final int data = dataLength(keyLength(buffer, offset), valueLength(buffer, offset));
        return digest.reset()
            .update(buffer, offset + SIZE_CLASS_OFFSET, data - SIZE_CLASS_OFFSET)
            .update(buffer, entry + LogEntry.NEXT_OFFSET, Long.BYTES)
            .update(buffer, entry + LogEntry.TAIL_OFFSET, Long.BYTES)
            .value();
    }

    /**
     * Checks the object READ into {@code buffer} at {@code offset}, {@code readLength} bytes (the
     * slot's length, or a whole class): header lengths, used bit, class, op code, checksum, valid
     * byte, in that order. The class the header names must be the one {@code readLength} falls
     * in, so an object is never taken for one of another class.
     */
    public static ObjectStatus validate(final DirectBuffer buffer, final int offset, final int readLength,
        final Crc32cDigest digest)
    {
        buffer.boundsCheck(offset, readLength);
        if (readLength < OVERHEAD || readLength > SizeClasses.MAX_OBJECT_SIZE)
        {
            return ObjectStatus.BAD_HEADER;
        }
        final int keyLength = keyLength(buffer, offset);
        final long valueLength = buffer.getInt(offset + VALUE_LENGTH_OFFSET) & 0xFFFF_FFFFL;
        if (keyLength > MAX_KEY_LENGTH || valueLength > MAX_VALUE_LENGTH
            || usedLength(keyLength, (int)valueLength) > readLength)
        {
            return ObjectStatus.BAD_HEADER;
        }
        final int entry = LogEntry.entryOffsetAfter(offset, dataLength(keyLength, (int)valueLength));
        if (!LogEntry.isUsed(buffer, entry))
        {
            return ObjectStatus.NOT_USED;
        }
        final int op = LogEntry.op(buffer, entry);
        if (sizeClass(buffer, offset) != SizeClasses.classForLength(readLength)
            || (op != LogEntry.OP_INSERT && op != LogEntry.OP_UPDATE && op != LogEntry.OP_DELETE))
        {
            return ObjectStatus.BAD_HEADER;
        }
        if (checksum(buffer, offset, digest) != LogEntry.objectCrc(buffer, entry))
        {
            return ObjectStatus.BAD_CHECKSUM;
        }
        final byte valid = buffer.getByte(offset + VALID_OFFSET);
        if (valid == VALID)
        {
            return ObjectStatus.OK;
        }
        return valid == INVALID ? ObjectStatus.INVALID : ObjectStatus.BAD_HEADER;
    }

    /**
     * The value of the object at {@code offset}, {@code readLength} bytes (as {@link #validate}
     * takes them), in a new array: null unless the object passes every check of {@link #validate}
     * and holds {@code key}. Unlike {@link #validate}, this reads each byte it relies on once
     * (the header and log-entry words into locals, the value into the array) and takes the
     * checksum over exactly those and {@code key}, so it may run on memory that changes while it
     * reads (a memory node's own memory, lent by the {@code local} transport): an object reused
     * under it fails the checksum as a torn READ does.
     */
    public static byte[] valueIfHolds(final DirectBuffer buffer, final int offset, final int readLength,
        final byte[] key, final Crc32cDigest digest)
    {
        buffer.boundsCheck(offset, readLength);
        if (readLength < OVERHEAD || readLength > SizeClasses.MAX_OBJECT_SIZE)
        {
            return null;
        }
        // Little-endian (LayoutVersion): valid, size class, key length (u16), value length (u32).
        final long header = buffer.getLong(offset);
        final int keyLength = (int)(header >>> 16) & 0xFFFF;
        final long valueLength = header >>> 32;
        if (keyLength != key.length || valueLength > MAX_VALUE_LENGTH
            || usedLength(keyLength, (int)valueLength) > readLength
            || (byte)header != VALID || (int)(header >>> 8 & 0xFF) != SizeClasses.classForLength(readLength))
        {
            return null;
        }
        if (!keyEquals(buffer, offset, key))
        {
            return null;
        }
        // The value, then the log entry right after it: one pass from the first byte to the last, in the
        // order the bytes lie (a READ of region memory not in the processor's cache streams). The used
        // bit read last proves nothing alone; the checksum over all the bytes taken does.
        final byte[] value = new byte[(int)valueLength];
        buffer.getBytes(offset + KEY_OFFSET + keyLength, value);
        final int entry = LogEntry.entryOffsetAfter(offset, dataLength(keyLength, (int)valueLength));
        final long next = buffer.getLong(entry + LogEntry.NEXT_OFFSET);
        final int crc = LogEntry.objectCrc(buffer, entry);
        final long tail = buffer.getLong(entry + LogEntry.TAIL_OFFSET);
        final int op = LogEntry.tailOp(tail);
        if (!LogEntry.tailUsed(tail) || (op != LogEntry.OP_INSERT && op != LogEntry.OP_UPDATE && op != LogEntry.OP_DELETE))
        {
            return null;
        }
        // The bytes checksum() covers, as this call took them: the key compared equal, so it is key's.
        final int sum = digest.reset()
            .updateLong(header, SIZE_CLASS_OFFSET)
            .update(key, 0, keyLength)
            .update(value, 0, value.length)
            .updateLong(next)
            .updateLong(tail)
            .value();
        return sum == crc ? value : null;
    }

    /** True if the object's key is the {@code keyLength} bytes of {@code key} at {@code keyOffset}. */
    public static boolean keyEquals(final DirectBuffer buffer, final int offset, final DirectBuffer key,
        final int keyOffset, final int keyLength)
    {
        if (keyLength(buffer, offset) != keyLength)
        {
            return false;
        }
        final int start = offset + KEY_OFFSET;
        int i = 0;
        for (; i + Long.BYTES <= keyLength; i += Long.BYTES)
        {
            if (buffer.getLong(start + i) != key.getLong(keyOffset + i))
            {
                return false;
            }
        }
        for (; i < keyLength; i++)
        {
            if (buffer.getByte(start + i) != key.getByte(keyOffset + i))
            {
                return false;
            }
        }
        return true;
    }

    /** True if the object's key is {@code key}. */
    public static boolean keyEquals(final DirectBuffer buffer, final int offset, final byte[] key)
    {
        final int keyLength = key.length;
        if (keyLength(buffer, offset) != keyLength)
        {
            return false;
        }
        final int start = offset + KEY_OFFSET;
        int i = 0;
        for (; i + Long.BYTES <= keyLength; i += Long.BYTES)
        {
            if (buffer.getLong(start + i) != (long)LONGS.get(key, i))
            {
                return false;
            }
        }
        for (; i < keyLength; i++)
        {
            if (buffer.getByte(start + i) != key[i])
            {
                return false;
            }
        }
        return true;
    }

    /** True if the valid byte is {@link #VALID}. */
    public static boolean isValid(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + VALID_OFFSET) == VALID;
    }

    /** Clears the valid byte (a client does the same remotely with a 1-byte WRITE). */
    public static void invalidate(final MutableDirectBuffer buffer, final int offset)
    {
        buffer.putByte(offset + VALID_OFFSET, INVALID);
    }

    /** Size class recorded in the header. */
    public static int sizeClass(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + SIZE_CLASS_OFFSET) & 0xFF;
    }

    /** Key length recorded in the header. */
    public static int keyLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + KEY_LENGTH_OFFSET) & 0xFFFF;
    }

    /** Value length recorded in the header (only meaningful once {@link #validate} passed). */
    public static int valueLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + VALUE_LENGTH_OFFSET);
    }

    /** Offset of the key. */
    public static int keyOffset(final int offset)
    {
        return offset + KEY_OFFSET;
    }

    /** Offset of the value. */
    public static int valueOffset(final DirectBuffer buffer, final int offset)
    {
        return offset + KEY_OFFSET + keyLength(buffer, offset);
    }

    /** A copy of the key (allocates; for tools and tests, not the hot path). */
    public static byte[] keyBytes(final DirectBuffer buffer, final int offset)
    {
        final byte[] key = new byte[keyLength(buffer, offset)];
        buffer.getBytes(keyOffset(offset), key);
        return key;
    }

    /** A copy of the value (allocates; for tools and tests, not the hot path). */
    public static byte[] valueBytes(final DirectBuffer buffer, final int offset)
    {
        final byte[] value = new byte[valueLength(buffer, offset)];
        buffer.getBytes(valueOffset(buffer, offset), value);
        return value;
    }

    private static int begin(final MutableDirectBuffer dst, final int offset, final int sizeClass,
        final int keyLength, final int valueLength, final int op, final long next, final long prev)
    {
        final int required = requiredLength(keyLength, valueLength);
        final int size = SizeClasses.objectSize(sizeClass);
        if (required > size)
        {
            throw new IllegalArgumentException("a " + keyLength + "-byte key and a " + valueLength + "-byte value need "
                + required + " bytes (size class " + SizeClasses.classForLength(required) + "), but size class "
                + sizeClass + " holds " + size);
        }
        LogEntry.validateOp(op);
        LogEntry.requirePointer(next, "next pointer");
        LogEntry.requirePointer(prev, "prev pointer");
        dst.boundsCheck(offset, required);
        dst.putByte(offset + VALID_OFFSET, VALID);
        dst.putByte(offset + SIZE_CLASS_OFFSET, (byte)sizeClass);
        dst.putShort(offset + KEY_LENGTH_OFFSET, (short)keyLength);
        dst.putInt(offset + VALUE_LENGTH_OFFSET, valueLength);
        return required;
    }

    private static void finish(final MutableDirectBuffer dst, final int offset, final int keyLength,
        final int valueLength, final int op, final long next, final long prev, final Crc32cDigest digest)
    {
        final int dataEnd = offset + dataLength(keyLength, valueLength);
        final int entry = LogEntry.entryOffsetAfter(offset, dataLength(keyLength, valueLength));
        dst.setMemory(dataEnd, entry - dataEnd, (byte)0);
        dst.putLong(entry + LogEntry.NEXT_OFFSET, next);
        dst.putLong(entry + LogEntry.OLD_VALUE_OFFSET, 0L);
        dst.putInt(entry + LogEntry.OLD_VALUE_CRC_OFFSET, 0);
        dst.putLong(entry + LogEntry.TAIL_OFFSET, LogEntry.tail(prev, op, true));
        dst.putInt(entry + LogEntry.OBJECT_CRC_OFFSET, checksum(dst, offset, digest));
    }
}
