package io.dmkv.computenode.ops;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A thread's blocking search into a buffer of its own: the value is copied from the read buffer
 * straight into the caller's {@link ByteBuffer}, so a warm search allocates nothing. Like
 * {@link Waiter}, one per thread, reused.
 *
 * <p>A search for a new array ({@link #capture}, {@link #take}) copies the value into this copy's
 * own buffer first, and the caller makes the array from it once the operation has finished: the
 * new array is the one write of a search to memory that is not in the processor's cache, and made
 * inside the operation it is followed at once by atomic instructions and the garbage collector's
 * store barriers (a reference to a new object stored into an old one), each of which waits until
 * every line of it is written.
 */
public final class ValueCopy implements OpCompletion<byte[]>, ValueSink
{
    private final Waiter<byte[]> waiter = new Waiter<>();
    private final UnsafeBuffer wrapper = new UnsafeBuffer(0, 0);
    /** The value of a {@link #capture}d search; grows to the longest value this thread read. */
    private ByteBuffer captured = ByteBuffer.allocate(1024);
    private ByteBuffer destination;
    private int length;

    /** Starts a search whose value goes into {@code dst} from its position. */
    public ValueCopy start(final ByteBuffer dst)
    {
        destination = dst;
        length = -1;
        return this;
    }

    /** Starts a search whose value {@link #take} returns as a new array after {@link #await}. */
    public ValueCopy capture()
    {
        captured.clear();
        return start(captured);
    }

    /** After {@link #await} of a {@link #capture}d search: a copy of the value, or null if the key has none. */
    public byte[] take()
    {
        return length < 0 ? null : Arrays.copyOf(captured.array(), length);
    }

    @Override
    public void value(final DirectBuffer buffer, final int offset, final int valueLength)
    {
        length = valueLength;
        if (destination == captured && valueLength > captured.capacity())
        {
            captured = ByteBuffer.allocate(Math.max(valueLength, 2 * captured.capacity()));
            destination = captured;
        }
        final ByteBuffer dst = destination;
        if (valueLength <= dst.remaining())
        {
            buffer.getBytes(offset, dst, dst.position(), valueLength);
            dst.position(dst.position() + valueLength);
        }
    }

    @Override
    public void complete(final byte[] value, final Throwable failure)
    {
        if (value != null && value != DELIVERED)
        {
            wrapper.wrap(value);
            value(wrapper, 0, value.length);
            wrapper.wrap(0, 0);
        }
        // The waiter is told only that the search ended: its length says whether a value came.
        waiter.complete(null, failure);
    }

    /**
     * Waits as {@link Waiter#await} does; returns the value's length (copied only if it fit the
     * destination's remaining bytes), or -1 when the key has no value.
     */
    public int await(final long guardNs)
    {
        try
        {
            waiter.await(guardNs);
            return length;
        }
        finally
        {
            destination = null;
        }
    }
}
