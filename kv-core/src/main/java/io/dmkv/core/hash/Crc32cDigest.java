package io.dmkv.core.hash;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * CRC32C (Castagnoli, as {@link CRC32C} computes it, hardware-accelerated on x86 and ARM) over
 * ranges of any {@link DirectBuffer}, without allocating once warm. {@code CRC32C} reads arrays
 * and ByteBuffers: a buffer over an array is read in place; a buffer over a direct ByteBuffer
 * (client read buffers, memory-node regions) is read in place through a view of that ByteBuffer
 * kept from one call to the next; only a buffer over a raw address is copied through a small
 * scratch array.
 *
 * <p>Not thread-safe: keep one per thread (or per in-flight operation) and reuse it.
 */
public final class Crc32cDigest
{
    private static final int SCRATCH_LENGTH = 1024;

    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[SCRATCH_LENGTH];
    private final UnsafeBuffer scratchBuffer = new UnsafeBuffer(scratch);
    /** The direct ByteBuffer last read, and a view of it whose position and limit this class moves. */
    private ByteBuffer source;
    private ByteBuffer view;

    /** Starts a new checksum. */
    public Crc32cDigest reset()
    {
        crc.reset();
        return this;
    }

    /** Adds {@code length} bytes of {@code buffer} from {@code index}. */
    public Crc32cDigest update(final DirectBuffer buffer, final int index, final int length)
    {
        buffer.boundsCheck(index, length);
        final byte[] array = buffer.byteArray();
        if (array != null)
        {
            crc.update(array, buffer.wrapAdjustment() + index, length);
            return this;
        }
        final ByteBuffer bb = buffer.byteBuffer();
        if (bb != null && bb.isDirect())
        {
            if (bb != source)
            {
                source = bb;
                view = bb.duplicate();
            }
            final int from = buffer.wrapAdjustment() + index;
            view.limit(from + length).position(from);
            crc.update(view);
            return this;
        }
        int done = 0;
        while (done < length)
        {
            final int chunk = Math.min(SCRATCH_LENGTH, length - done);
            buffer.getBytes(index + done, scratch, 0, chunk);
            crc.update(scratch, 0, chunk);
            done += chunk;
        }
        return this;
    }

    /** Adds {@code length} bytes of {@code bytes} from {@code offset}. */
    public Crc32cDigest update(final byte[] bytes, final int offset, final int length)
    {
        crc.update(bytes, offset, length);
        return this;
    }

    /** Adds one byte. */
    public Crc32cDigest updateByte(final int b)
    {
        crc.update(b);
        return this;
    }

    /** Adds the 8 bytes of {@code value} in native order, i.e. as {@code putLong} stores them. */
    public Crc32cDigest updateLong(final long value)
    {
        scratchBuffer.putLong(0, value);
        crc.update(scratch, 0, Long.BYTES);
        return this;
    }

    /** Adds bytes {@code from} .. 7 of {@code value} in native order (as {@code putLong} stores them). */
    public Crc32cDigest updateLong(final long value, final int from)
    {
        scratchBuffer.putLong(0, value);
        crc.update(scratch, from, Long.BYTES - from);
        return this;
    }

    /** The checksum of everything added since the last {@link #reset()}. */
    public int value()
    {
        return (int)crc.getValue();
    }
}
