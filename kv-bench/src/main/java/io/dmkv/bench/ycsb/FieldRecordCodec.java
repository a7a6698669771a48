package io.dmkv.bench.ycsb;

import java.nio.charset.StandardCharsets;
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
        if (fields.size() > MAX_U16)
        {
            throw new IllegalArgumentException("a record holds at most " + MAX_U16 + " fields, got " + fields.size());
        }
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
        if (length > KvObject.MAX_VALUE_LENGTH)
        {
            throw new IllegalArgumentException("the record takes " + length + " bytes, more than a dmkv value holds ("
                + KvObject.MAX_VALUE_LENGTH + "): use fewer or shorter fields");
        }
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
        putU16(record, at, bytes.length);
        System.arraycopy(bytes, 0, record, at + LENGTH_BYTES, bytes.length);
        return at + LENGTH_BYTES + bytes.length;
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
