package io.dmkv.bench.cli;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Keys and self-checking values of the demo. A value says which key and which write it belongs
 * to, and the rest of it is a pattern derived from both, so a reader can tell a value that was
 * written whole for this key from a stale, torn, misplaced or corrupted one:
 *
 * <pre>
 *   0                8                16                                      length
 *   +----------------+----------------+---------------------------------------+
 *   | key index (i64)| ticket (i64)   | pattern: mix(key, ticket, i) ...      |
 *   +----------------+----------------+---------------------------------------+
 *   little-endian; ticket 0 is the value the load wrote, tickets 1.. are updates
 * </pre>
 */
final class DemoValue
{
    /** Bytes of the header (key index and ticket). */
    static final int HEADER_LENGTH = 16;
    /** Length of every demo key: {@code "key:"} and ten digits. */
    static final int KEY_LENGTH = 14;

    private DemoValue()
    {
    }

    /** The key of index {@code index}: {@code key:0000000042}. */
    static byte[] key(final long index)
    {
        return String.format(Locale.ROOT, "key:%010d", index).getBytes(StandardCharsets.US_ASCII);
    }

    /** A value of {@code length} bytes (at least {@link #HEADER_LENGTH}) for write {@code ticket} of key {@code index}. */
    static byte[] encode(final long index, final long ticket, final int length)
    {
        final byte[] v = new byte[length];
        final UnsafeBuffer b = new UnsafeBuffer(v);
        b.putLong(0, index, ByteOrder.LITTLE_ENDIAN);
        b.putLong(8, ticket, ByteOrder.LITTLE_ENDIAN);
        long word = 0;
        for (int at = HEADER_LENGTH; at < length; at++)
        {
            if ((at & 7) == 0)
            {
                word = pattern(index, ticket, at);
            }
            v[at] = (byte)(word >>> ((at & 7) << 3));
        }
        return v;
    }

    /**
     * The ticket of {@code value} if it is a whole value of {@code length} bytes written for key
     * {@code index}; otherwise throws with what is wrong.
     *
     * @throws IllegalStateException naming the key and the first difference.
     */
    static long check(final long index, final byte[] value, final int length)
    {
        if (value == null)
        {
            throw new IllegalStateException("key " + index + " has no value");
        }
        if (value.length != length)
        {
            throw new IllegalStateException("key " + index + " holds " + value.length + " bytes, expected " + length);
        }
        final UnsafeBuffer b = new UnsafeBuffer(value);
        final long owner = b.getLong(0, ByteOrder.LITTLE_ENDIAN);
        if (owner != index)
        {
            throw new IllegalStateException("key " + index + " holds the value of key " + owner);
        }
        final long ticket = b.getLong(8, ByteOrder.LITTLE_ENDIAN);
        long word = 0;
        for (int at = HEADER_LENGTH; at < length; at++)
        {
            if ((at & 7) == 0)
            {
                word = pattern(index, ticket, at);
            }
            if (value[at] != (byte)(word >>> ((at & 7) << 3)))
            {
                throw new IllegalStateException("key " + index + " write " + ticket + " differs at byte " + at
                    + " (torn or corrupted value)");
            }
        }
        return ticket;
    }

    /** The pattern word of bytes {@code at .. at + 7} ({@code at} a multiple of 8). */
    private static long pattern(final long index, final long ticket, final int at)
    {
        long h = (index * 0x9E3779B97F4A7C15L) ^ (ticket * 0xC2B2AE3D27D4EB4FL) ^ ((at >>> 3) * 0x165667B19E3779F9L);
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return h;
    }
}
