package io.dmkv.bench.ycsb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import io.dmkv.core.layout.KvObject;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;

/**
 * A YCSB record (field name to bytes) as one dmkv value: a field count, then length-prefixed
 * name/value pairs. Lengths are u16 little-endian, as in dmkv's own layouts; names are UTF-8.
 *
 * <pre>
 *   0               2               4                 4+n             6+n               6+n+v
 *   +---------------+---------------+-----------------+---------------+-----------------+---
 *   | field count   | name length n | name (n bytes)  | value length v| value (v bytes) | next field ...
 *   | (u16)         | (u16)         |                 | (u16)         |                 |
 *   +---------------+---------------+-----------------+---------------+-----------------+---
 * </pre>
 *
 * YCSB's default record (10 fields named field0..field9 of 100 bytes) takes 1,102 bytes. The whole
 * record must fit a dmkv value ({@value KvObject#MAX_VALUE_LENGTH} bytes).
 */
public final class FieldRecordCodec
{
    /** Offset of the field count. */
    public static final int COUNT_OFFSET = 0;
    /** Bytes of the field count, and of each length prefix. */
    public static final int LENGTH_BYTES = 2;
    /** Offset of the first field's name length. */
    public static final int FIRST_FIELD_OFFSET = COUNT_OFFSET + LENGTH_BYTES;
    /** Most fields, and longest name or value, a record can hold. */
    public static final int MAX_U16 = 0xFFFF;

    private FieldRecordCodec()
    {
    }

    /**
     * YCSB's values as byte arrays, in the map's order. Reads each iterator to its end, as YCSB
     * expects a binding to.
     */
    public static Map<String, byte[]> toBytes(final Map<String, ByteIterator> values)
    {
        final Map<String, byte[]> bytes = new LinkedHashMap<>(values.size() * 2);
        for (final Map.Entry<String, ByteIterator> e : values.entrySet())
        {
            bytes.put(e.getKey(), e.getValue().toArray());
        }
        return bytes;
    }

    /**
     * The record holding {@code fields}.
     *
     * @throws IllegalArgumentException if it would not fit a dmkv value (too many fields, a name
     *                                  or value over 65,535 bytes, or more than
     *                                  {@value KvObject#MAX_VALUE_LENGTH} bytes in all).
     */
    public static byte[] encode(final Map<String, byte[]> fields)
    {
        final byte[][] names = new byte[fields.size()][];
        long length = FIRST_FIELD_OFFSET;
        int i = 0;
        for (final Map.Entry<String, byte[]> e : fields.entrySet())
        {
            names[i] = e.getKey().getBytes(StandardCharsets.UTF_8);
            checkU16("name", e.getKey(), names[i].length);
            checkU16("value of", e.getKey(), e.getValue().length);
            length += 2L * LENGTH_BYTES + names[i].length + e.getValue().length;
            i++;
        }
        checkRecord(fields.size(), length);
        final byte[] record = new byte[(int)length];
        putU16(record, COUNT_OFFSET, fields.size());
        int at = FIRST_FIELD_OFFSET;
        i = 0;
        for (final byte[] value : fields.values())
        {
            at = putChunk(record, at, names[i++]);
            at = putChunk(record, at, value);
        }
        return record;
    }

    /**
     * Puts the fields of {@code record} named in {@code wanted} (all if null) into {@code out}.
     * The values share {@code record}'s bytes.
     *
     * @throws IllegalArgumentException if {@code record} is not a well-formed record.
     */
    public static void decode(final byte[] record, final Set<String> wanted, final Map<String, ByteIterator> out)
    {
        final Cursor c = new Cursor(record);
        for (int i = 0; i < c.count; i++)
        {
            final String name = c.name();
            final int valueLength = c.length();
            final int at = c.take(valueLength);
            if (wanted == null || wanted.contains(name))
            {
                out.put(name, new ByteArrayByteIterator(record, at, valueLength));
            }
        }
        c.end();
    }

    /**
     * Every field of {@code record}, in order, as copies.
     *
     * @throws IllegalArgumentException if {@code record} is not a well-formed record.
     */
    public static Map<String, byte[]> decodeAll(final byte[] record)
    {
        final Cursor c = new Cursor(record);
        final Map<String, byte[]> fields = new LinkedHashMap<>(c.count * 2);
        for (int i = 0; i < c.count; i++)
        {
            final String name = c.name();
            final int valueLength = c.length();
            final byte[] value = new byte[valueLength];
            System.arraycopy(record, c.take(valueLength), value, 0, valueLength);
            fields.put(name, value);
        }
        c.end();
        return fields;
    }

    /**
     * {@code record} with the fields of {@code fresh} set: a field of that name keeps its place
     * and takes the new value, a name the record lacks is added at its end (in {@code fresh}'s
     * order). For a record whose names are distinct (as {@link #encode} makes them) that is the
     * record {@code encode} makes of {@link #decodeAll} with {@code fresh} put in, built straight
     * from the bytes, with no field copied out first; a name that occurs twice is set in both places.
     *
     * @throws IllegalArgumentException if {@code record} is not a well-formed record, or the
     *                                  result would not fit a dmkv value (as {@link #encode}).
     */
    public static byte[] merge(final byte[] record, final Map<String, byte[]> fresh)
    {
        final byte[][] names = new byte[fresh.size()][];
        final byte[][] values = new byte[fresh.size()][];
        int j = 0;
        for (final Map.Entry<String, byte[]> e : fresh.entrySet())
        {
            names[j] = e.getKey().getBytes(StandardCharsets.UTF_8);
            values[j] = e.getValue();
            checkU16("name", e.getKey(), names[j].length);
            checkU16("value of", e.getKey(), values[j].length);
            j++;
        }
        final boolean[] present = new boolean[names.length];
        final Cursor c = new Cursor(record);
        long length = FIRST_FIELD_OFFSET;
        for (int i = 0; i < c.count; i++)
        {
            final int nameLength = c.length();
            final int nameAt = c.take(nameLength);
            final int valueLength = c.length();
            c.take(valueLength);
            final int k = indexOf(names, record, nameAt, nameLength);
            if (k >= 0)
            {
                present[k] = true;
            }
            length += 2L * LENGTH_BYTES + nameLength + (k >= 0 ? values[k].length : valueLength);
        }
        c.end();
        int count = c.count;
        for (int k = 0; k < names.length; k++)
        {
            if (!present[k])
            {
                count++;
                length += 2L * LENGTH_BYTES + names[k].length + values[k].length;
            }
        }
        checkRecord(count, length);
        final byte[] merged = new byte[(int)length];
        putU16(merged, COUNT_OFFSET, count);
        int at = FIRST_FIELD_OFFSET;
        final Cursor again = new Cursor(record);
        for (int i = 0; i < again.count; i++)
        {
            final int nameLength = again.length();
            final int nameAt = again.take(nameLength);
            final int valueLength = again.length();
            final int valueAt = again.take(valueLength);
            final int k = indexOf(names, record, nameAt, nameLength);
            at = putChunk(merged, at, record, nameAt, nameLength);
            at = k >= 0 ? putChunk(merged, at, values[k]) : putChunk(merged, at, record, valueAt, valueLength);
        }
        for (int k = 0; k < names.length; k++)
        {
            if (!present[k])
            {
                at = putChunk(merged, at, names[k]);
                at = putChunk(merged, at, values[k]);
            }
        }
        return merged;
    }

    /** Index of the name in {@code names} equal to {@code record[at, at + length)}, or -1. */
    private static int indexOf(final byte[][] names, final byte[] record, final int at, final int length)
    {
        for (int k = 0; k < names.length; k++)
        {
            if (Arrays.equals(names[k], 0, names[k].length, record, at, at + length))
            {
                return k;
            }
        }
        return -1;
    }

    private static void checkRecord(final int count, final long length)
    {
        if (count > MAX_U16)
        {
            throw new IllegalArgumentException("a record holds at most " + MAX_U16 + " fields, got " + count);
        }
        if (length > KvObject.MAX_VALUE_LENGTH)
        {
            throw new IllegalArgumentException("the record takes " + length + " bytes, more than a dmkv value holds ("
                + KvObject.MAX_VALUE_LENGTH + "): use fewer or shorter fields");
        }
    }

    private static void checkU16(final String what, final String field, final int length)
    {
        if (length > MAX_U16)
        {
            throw new IllegalArgumentException("the " + what + " field '" + abbreviate(field) + "' takes " + length
                + " bytes, more than " + MAX_U16);
        }
    }

    private static String abbreviate(final String s)
    {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static int putChunk(final byte[] record, final int at, final byte[] bytes)
    {
        return putChunk(record, at, bytes, 0, bytes.length);
    }

    /** Writes {@code length} bytes of {@code from} at {@code offset} as a length-prefixed chunk; returns where the next starts. */
    private static int putChunk(final byte[] record, final int at, final byte[] from, final int offset, final int length)
    {
        putU16(record, at, length);
        System.arraycopy(from, offset, record, at + LENGTH_BYTES, length);
        return at + LENGTH_BYTES + length;
    }

    private static void putU16(final byte[] b, final int at, final int v)
    {
        b[at] = (byte)v;
        b[at + 1] = (byte)(v >>> 8);
    }

    /** Walks a record, checking every length against what is left. */
    private static final class Cursor
    {
        private final byte[] record;
        private final int count;
        private int at;

        Cursor(final byte[] record)
        {
            this.record = record;
            this.at = COUNT_OFFSET;
            this.count = length();
        }

        int length()
        {
            if (at + LENGTH_BYTES > record.length)
            {
                throw corrupt("a length at byte " + at + " runs past the end");
            }
            final int v = (record[at] & 0xFF) | (record[at + 1] & 0xFF) << 8;
            at += LENGTH_BYTES;
            return v;
        }

        String name()
        {
            final int n = length();
            return new String(record, take(n), n, StandardCharsets.UTF_8);
        }

        /** Skips the next {@code n} bytes, which must be there; returns where they start. */
        int take(final int n)
        {
            if (at + n > record.length)
            {
                throw corrupt(n + " bytes at byte " + at + " run past the end");
            }
            at += n;
            return at - n;
        }

        void end()
        {
            if (at != record.length)
            {
                throw corrupt((record.length - at) + " bytes follow the last field");
            }
        }

        private IllegalArgumentException corrupt(final String why)
        {
            return new IllegalArgumentException("not a YCSB field record (" + record.length + " bytes): " + why);
        }
    }
}
