package io.dmkv.rdma.transport.tcp;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeAccess;

import io.netty.buffer.ByteBuf;

/**
 * Copies between a Netty {@link ByteBuf} (a frame) and an Agrona buffer (a verb's operand or
 * result), one bulk copy whether either side is on the heap or off it: what the frames' encoders
 * and decoders ({@link TcpFrames}) move a WRITE's and a READ's bytes with.
 */
final class ByteBufCopies
{
    private static final long ARRAY_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);

    private ByteBufCopies()
    {
    }

    /** Appends {@code length} bytes of {@code src} to {@code out}. */
    static void copyIn(final ByteBuf out, final DirectBuffer src, final int srcOffset, final int length)
    {
        out.ensureWritable(length);
        final int w = out.writerIndex();
        if (out.hasMemoryAddress())
        {
            UnsafeAccess.UNSAFE.copyMemory(src.byteArray(), src.addressOffset() + srcOffset, null,
                out.memoryAddress() + w, length);
        }
        else if (out.hasArray())
        {
            UnsafeAccess.UNSAFE.copyMemory(src.byteArray(), src.addressOffset() + srcOffset, out.array(),
                ARRAY_BASE + out.arrayOffset() + w, length);
        }
        else
        {
            for (int i = 0; i < length; i++)
            {
                out.setByte(w + i, src.getByte(srcOffset + i));
            }
        }
        out.writerIndex(w + length);
    }

    /** Copies {@code length} bytes at {@code index} of {@code in} into {@code dst}. */
    static void copyOut(final ByteBuf in, final int index, final MutableDirectBuffer dst, final int dstOffset,
        final int length)
    {
        if (in.hasMemoryAddress())
        {
            UnsafeAccess.UNSAFE.copyMemory(null, in.memoryAddress() + index, dst.byteArray(),
                dst.addressOffset() + dstOffset, length);
        }
        else if (in.hasArray())
        {
            UnsafeAccess.UNSAFE.copyMemory(in.array(), ARRAY_BASE + in.arrayOffset() + index, dst.byteArray(),
                dst.addressOffset() + dstOffset, length);
        }
        else
        {
            for (int i = 0; i < length; i++)
            {
                dst.putByte(dstOffset + i, in.getByte(index + i));
            }
        }
    }
}
