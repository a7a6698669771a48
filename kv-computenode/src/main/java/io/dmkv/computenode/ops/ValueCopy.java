package io.dmkv.computenode.ops;

import java.nio.ByteBuffer;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A thread's blocking search into a buffer of its own: the value is copied from the read buffer
 * straight into the caller's {@link ByteBuffer}, so a warm search allocates nothing. Like
 * {@link Waiter}, one per thread, reused.
 */
public final class ValueCopy implements OpCompletion<byte[]>, ValueSink
{
    private final Waiter<byte[]> waiter = new Waiter<>();
    private final UnsafeBuffer wrapper = new UnsafeBuffer(0, 0);
    private ByteBuffer destination;
    private int length;

    /** Starts a search whose value goes into {@code dst} from its position. */
    public ValueCopy start(final ByteBuffer dst)
    {
        destination = dst;
        length = -1;
        return this;
    }

    @Override
    public void value(final DirectBuffer buffer, final int offset, final int valueLength)
    {
        length = valueLength;
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
        // The waiter is told only that the search ended (its length says whether a value came): a
        // reference stored into the long-lived waiter would cost a fence (G1's write barrier).
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
