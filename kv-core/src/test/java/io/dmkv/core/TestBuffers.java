package io.dmkv.core;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The three kinds of buffer layouts meet: array-backed (client staging), direct ByteBuffer, and
 * raw memory known only by address (memory-node regions, mapped files). Code that works in place
 * must give the same answer on all three.
 */
public final class TestBuffers
{
    /** Backing memory of raw buffers, kept reachable so it is not freed under a test. */
    private static final List<ByteBuffer> KEEP_ALIVE = Collections.synchronizedList(new ArrayList<>());

    private TestBuffers()
    {
    }

    /** One buffer of each kind, {@code capacity} bytes, all zero. */
    public static List<UnsafeBuffer> allKinds(final int capacity)
    {
        return List.of(heap(capacity), direct(capacity), raw(capacity));
    }

    /** Backed by a byte array, wrapped at a non-zero array offset so adjustments are exercised. */
    public static UnsafeBuffer heap(final int capacity)
    {
        return new UnsafeBuffer(new byte[capacity + 24], 24, capacity);
    }

    /** Backed by a direct ByteBuffer. */
    public static UnsafeBuffer direct(final int capacity)
    {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
    }

    /** Raw memory by address only: no array and no ByteBuffer behind the UnsafeBuffer. */
    public static UnsafeBuffer raw(final int capacity)
    {
        final ByteBuffer backing = ByteBuffer.allocateDirect(capacity);
        KEEP_ALIVE.add(backing);
        return new UnsafeBuffer(BufferUtil.address(backing), capacity);
    }

    /** Describes a buffer's kind for assertion messages. */
    public static String kind(final UnsafeBuffer buffer)
    {
        if (buffer.byteArray() != null)
        {
            return "heap";
        }
        return buffer.byteBuffer() != null ? "direct" : "raw";
    }
}
