package io.dmkv.rdma.transport.tcp;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeAccess;

import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.netty.buffer.ByteBuf;

/**
 * Frame formats of the tcp transport. Every frame is {@code length:u32 | type:u8 | body}, the
 * length counting the bytes after itself; integers are big-endian.
 *
 * <pre>
 * HELLO          magic:u32 protocol:u16 layout:u16 tokenLen:u16 token
 * HELLO_OK       nameLen:u16 name layout:u16 shmLen:u16 shm rdmaPort:u32 regions:u32
 *                  { id:u32 key:u64 length:u64 rdmaAddress:u64 rdmaKey:u32 }*
 * HELLO_REFUSED  msgLen:u16 msg                       (then the server closes)
 * BATCH          requestId:u64 count:u16 { op:u8 region:u32 key:u64 offset:u64 operands }*
 *                  READ: length:u32   WRITE: length:u32 bytes   CAS: expected:u64 desired:u64   FAA: delta:u64
 * BATCH_RESP     requestId:u64 executed:u16 { READ: bytes | CAS, FAA: old:u64 | WRITE: nothing }*
 *                  status:u8 [ verb:u16 reason:u8 msgLen:u16 msg ]   (status 1: verb refused)
 * RPC_REQ        requestId:u64 method:u32 payload
 * RPC_RESP       requestId:u64 status:u8 payload | message
 * ERROR          msgLen:u16 msg                       (fatal; the sender closes)
 * ECHO           body echoed back as ECHO_RESP without any verb work (the benchmarks' baseline)
 * </pre>
 * A memory node executes a batch's verbs in order and stops at the first refused one.
 */
public final class TcpFrames
{
    public static final byte HELLO = 1;
    public static final byte HELLO_OK = 2;
    public static final byte HELLO_REFUSED = 3;
    public static final byte BATCH = 4;
    public static final byte BATCH_RESP = 5;
    public static final byte RPC_REQ = 6;
    public static final byte RPC_RESP = 7;
    public static final byte ERROR = 8;
    public static final byte ECHO = 9;
    public static final byte ECHO_RESP = 10;

    public static final int LENGTH_FIELD = 4;
    /** Default bound of one frame: 16 MiB of payload plus headers. */
    public static final int DEFAULT_MAX_FRAME = (16 << 20) + (64 << 10);
    public static final int MAX_VERBS_PER_FRAME = 65_535;
    public static final int VERB_HEADER = 1 + 4 + 8 + 8;
    public static final int BATCH_HEADER = 1 + 8 + 2;
    public static final int BATCH_RESP_HEADER = 1 + 8 + 2;
    /** Longest refusal message in a BATCH_RESP; longer ones are cut. */
    public static final int MAX_REFUSAL_MESSAGE = 1024;
    public static final int BATCH_RESP_TRAILER_MAX = 1 + 2 + 1 + 2 + MAX_REFUSAL_MESSAGE;

    public static final byte STATUS_OK = 0;
    public static final byte STATUS_REFUSED = 1;

    private static final long ARRAY_BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(byte[].class);

    private TcpFrames()
    {
    }

    /** Bytes of the BATCH frame (after the length field) for the verbs of {@code part}. */
    public static int requestLength(final VerbBatch batch, final int part)
    {
        long n = BATCH_HEADER;
        for (int i = 0, size = batch.size(); i < size; i++)
        {
            if (batch.partOf(i) == part)
            {
                n += VERB_HEADER + operandLength(batch.op(i), batch.length(i));
            }
        }
        return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int)n;
    }

    /** Bytes of the BATCH_RESP frame (after the length field) when every verb of {@code part} runs. */
    public static long responseLength(final VerbBatch batch, final int part)
    {
        long n = BATCH_RESP_HEADER + 1;
        for (int i = 0, size = batch.size(); i < size; i++)
        {
            if (batch.partOf(i) == part)
            {
                n += resultLength(batch.op(i), batch.length(i));
            }
        }
        return n;
    }

    static int operandLength(final int op, final int length)
    {
        switch (op)
        {
            case Verb.READ: return 4;
            case Verb.WRITE: return 4 + length;
            case Verb.CAS: return 16;
            default: return 8;
        }
    }

    static int resultLength(final int op, final int length)
    {
        switch (op)
        {
            case Verb.READ: return length;
            case Verb.WRITE: return 0;
            default: return 8;
        }
    }

    /** Writes a whole BATCH frame (length field included) for the verbs of {@code part}. */
    public static int encodeBatch(final ByteBuf out, final byte type, final long requestId, final VerbBatch batch,
        final int part, final int bodyLength)
    {
        out.writeInt(bodyLength);
        out.writeByte(type);
        out.writeLong(requestId);
        final int countAt = out.writerIndex();
        out.writeShort(0);
        int count = 0;
        for (int i = 0, size = batch.size(); i < size; i++)
        {
            if (batch.partOf(i) != part)
            {
                continue;
            }
            count++;
            final byte op = batch.op(i);
            out.writeByte(op);
            out.writeInt(batch.region(i).id());
            out.writeLong(batch.region(i).key());
            out.writeLong(batch.offset(i));
            switch (op)
            {
                case Verb.READ:
                    out.writeInt(batch.length(i));
                    break;
                case Verb.WRITE:
                    out.writeInt(batch.length(i));
                    copyIn(out, batch.buffer(i), batch.bufferOffset(i), batch.length(i));
                    break;
                case Verb.CAS:
                    out.writeLong(batch.operand(i));
                    out.writeLong(batch.swap(i));
                    break;
                default:
                    out.writeLong(batch.operand(i));
                    break;
            }
        }
        out.setShort(countAt, count);
        return count;
    }

    /** Appends {@code length} bytes of {@code src} to {@code out}. */
    public static void copyIn(final ByteBuf out, final DirectBuffer src, final int srcOffset, final int length)
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
    public static void copyOut(final ByteBuf in, final int index, final MutableDirectBuffer dst, final int dstOffset,
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

    public static void writeString(final ByteBuf out, final String s)
    {
        writeString(out, s, 0xFFFF);
    }

    /** Writes at most {@code maxBytes} bytes of {@code s} (cut at a byte boundary if longer). */
    public static void writeString(final ByteBuf out, final String s, final int maxBytes)
    {
        final byte[] b = s.getBytes(StandardCharsets.UTF_8);
        final int n = Math.min(b.length, Math.min(maxBytes, 0xFFFF));
        out.writeShort(n);
        out.writeBytes(b, 0, n);
    }

    public static String readString(final ByteBuf in)
    {
        final int n = in.readUnsignedShort();
        if (n > in.readableBytes())
        {
            throw new IndexOutOfBoundsException("string of " + n + " bytes overruns the frame");
        }
        final String s = in.toString(in.readerIndex(), n, StandardCharsets.UTF_8);
        in.skipBytes(n);
        return s;
    }

    /** A whole frame holding only a message (ERROR, HELLO_REFUSED). */
    public static ByteBuf messageFrame(final ByteBuf out, final byte type, final String message)
    {
        final int at = out.writerIndex();
        out.writeInt(0);
        out.writeByte(type);
        writeString(out, message);
        out.setInt(at, out.writerIndex() - at - LENGTH_FIELD);
        return out;
    }
}
