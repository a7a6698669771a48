package io.dmkv.computenode.ops;

import org.agrona.DirectBuffer;

/**
 * A search completion that takes the value where the search read it, instead of a new array: a
 * SEARCH whose completion is a sink hands it the value's bytes in the read buffer (valid only
 * during the call) and then completes with {@link #DELIVERED}, or with null when the key has no
 * value. A completion that wraps another (a retry layer) is not a sink, and gets an array.
 */
public interface ValueSink
{
    /** Completion value of a search that handed its value to the sink. */
    byte[] DELIVERED = new byte[0];

    /** The value found: {@code length} bytes at {@code offset} of {@code buffer}; copy them now. */
    void value(DirectBuffer buffer, int offset, int length);
}
