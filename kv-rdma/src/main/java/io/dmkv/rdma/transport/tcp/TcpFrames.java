package io.dmkv.rdma.transport.tcp;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.security.Handshake;
import io.netty.buffer.ByteBuf;

/**
 * Frame formats of the tcp transport. Every frame is {@code length:u32 | type:u8 | body}, the
 * length counting the bytes after itself; integers are big-endian.
 *
 * <pre>
 * HELLO          magic:u32 protocol:u16 layout:u16 nonceLen:u16 nonce   (nonce: empty without a secret)
 * HELLO_CHALLENGE magic:u32 nonceLen:u16 nonce        (a node with a secret, to a HELLO)
 * HELLO_PROOF    proofLen:u16 proof                   (the client's answer to the challenge)
 * HELLO_OK       magic:u32 proofLen:u16 proof nameLen:u16 name layout:u16 shmLen:u16 shm rdmaPort:u32
 *                  regions:u32 { id:u32 key:u64 length:u64 rdmaAddress:u64 rdmaKey:u32 }*
 * HELLO_REFUSED  magic:u32 msgLen:u16 msg             (then the server closes)
 * BATCH          requestId:u64 count:u16 { op:u8 region:u32 key:u64 offset:u64 operands }*
 *                  READ: length:u32   WRITE: length:u32 bytes   CAS: expected:u64 desired:u64   FAA: delta:u64
 * BATCH_RESP     requestId:u64 executed:u16 { READ: bytes | CAS, FAA: old:u64 | WRITE: nothing }*
 *                  status:u8 [ verb:u16 reason:u8 msgLen:u16 msg ]   (status 1: verb refused)
 * RPC_REQ        requestId:u64 method:u32 payload
 * RPC_RESP       requestId:u64 status:u8 payload | message
 * ERROR          msgLen:u16 msg                       (fatal; the sender closes)
 * ECHO           body echoed back as ECHO_RESP without any verb work (the benchmarks' baseline)
 * </pre>
 * A memory node executes a batch's verbs in order and stops at the first refused one. The hello
 * frames (nonces and proofs: {@link io.dmkv.rdma.security.Handshake}) are bounded by
 * {@link #MAX_HELLO_FRAME}; the node's answers start with the magic, so a client that reached
 * something else says so ({@link HelloGuard}).
 *
 * <p>This class is the one place that writes and reads these bytes, on both ends: the client's
 * channel and the memory node's handler only call it.
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
    public static final byte HELLO_CHALLENGE = 11;
    public static final byte HELLO_PROOF = 12;

    public static final int LENGTH_FIELD = 4;
    /** Longest frame a client may send before its hello is accepted (HELLO, HELLO_PROOF). */
    public static final int MAX_HELLO_FRAME = 256;
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

    private TcpFrames()
    {
    }

    /** Verbs of {@code part} in {@code batch}: a frame carries at most {@link #MAX_VERBS_PER_FRAME}. */
    public static int verbCount(final VerbBatch batch, final int part)
    {
        int n = 0;
        for (int i = 0, size = batch.size(); i < size; i++)
        {
            if (batch.partOf(i) == part)
            {
                n++;
            }
        }
        return n;
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
        final int part)
    {
        final int start = beginFrame(out, type);
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
                    ByteBufCopies.copyIn(out, batch.buffer(i), batch.bufferOffset(i), batch.length(i));
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
        endFrame(out, start);
        return count;
    }

    /** Starts a frame of {@code type} at the writer index; returns where it starts, for {@link #endFrame}. */
    public static int beginFrame(final ByteBuf out, final byte type)
    {
        final int start = out.writerIndex();
        out.writeInt(0);
        out.writeByte(type);
        return start;
    }

    /** Sets the length field of the frame that starts at {@code start} to what was written since. */
    public static void endFrame(final ByteBuf out, final int start)
    {
        out.setInt(start, out.writerIndex() - start - LENGTH_FIELD);
    }

    /** A client's HELLO; {@code nonce} is empty when the client has no secret. */
    public static void encodeHello(final ByteBuf out, final int layoutVersion, final byte[] nonce)
    {
        final int start = beginFrame(out, HELLO);
        out.writeInt(ProtocolVersion.MAGIC);
        out.writeShort(ProtocolVersion.PROTOCOL);
        out.writeShort(layoutVersion);
        writeField(out, nonce);
        endFrame(out, start);
    }

    /** The body of a HELLO, as a memory node reads it (after the type byte). */
    public record Hello(int magic, int protocol, int layout, byte[] nonce)
    {
    }

    /**
     * Reads a HELLO body.
     *
     * @throws IllegalArgumentException when the nonce is longer than {@link Handshake#MAX_FIELD}.
     */
    public static Hello decodeHello(final ByteBuf in)
    {
        final int magic = in.readInt();
        final int protocol = in.readUnsignedShort();
        final int layout = in.readUnsignedShort();
        return new Hello(magic, protocol, layout, readField(in));
    }

    /** A node's HELLO_CHALLENGE (its nonce) or a client's HELLO_PROOF. */
    public static ByteBuf encodeHelloField(final ByteBuf out, final byte type, final byte[] field)
    {
        final int start = beginFrame(out, type);
        if (type != HELLO_PROOF)
        {
            out.writeInt(ProtocolVersion.MAGIC);
        }
        writeField(out, field);
        endFrame(out, start);
        return out;
    }

    /** Reads the field of a HELLO_PROOF, or of a HELLO_CHALLENGE after its magic. */
    public static byte[] readField(final ByteBuf in)
    {
        final int n = in.readUnsignedShort();
        if (n > Handshake.MAX_FIELD)
        {
            throw new IllegalArgumentException("a hello field of " + n + " bytes (at most " + Handshake.MAX_FIELD
                + ")");
        }
        final byte[] b = new byte[n];
        in.readBytes(b);
        return b;
    }

    private static void writeField(final ByteBuf out, final byte[] field)
    {
        out.writeShort(field.length);
        out.writeBytes(field);
    }

    /** A memory node's HELLO_OK: its proof (empty without a secret), who it is and its regions. */
    public static void encodeHelloOk(final ByteBuf out, final byte[] proof, final String name, final int layoutVersion,
        final String shmFile, final int rdmaPort, final List<RegionInfo> regions)
    {
        final int start = beginFrame(out, HELLO_OK);
        out.writeInt(ProtocolVersion.MAGIC);
        writeField(out, proof);
        writeString(out, name);
        out.writeShort(layoutVersion);
        writeString(out, shmFile);
        out.writeInt(rdmaPort);
        out.writeInt(regions.size());
        for (final RegionInfo r : regions)
        {
            out.writeInt(r.id());
            out.writeLong(r.key());
            out.writeLong(r.length());
            out.writeLong(r.rdmaAddress());
            out.writeInt(r.rdmaKey());
        }
        endFrame(out, start);
    }

    /**
     * Reads a HELLO_OK body after its magic and proof (the caller checked the proof first) from the
     * node the client reached at {@code endpoint}.
     */
    public static MemoryNodeInfo decodeHelloOk(final ByteBuf in, final String endpoint)
    {
        final String name = readString(in);
        final int layout = in.readUnsignedShort();
        final String shm = readString(in);
        final int rdmaPort = in.readInt();
        final int count = in.readInt();
        if (count < 0 || count > in.readableBytes() / 32)
        {
            throw new IndexOutOfBoundsException("region count " + count);
        }
        final List<RegionInfo> infos = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            infos.add(new RegionInfo(in.readInt(), in.readLong(), in.readLong(), in.readLong(), in.readInt()));
        }
        return new MemoryNodeInfo(name, endpoint, layout, infos, shm, rdmaPort);
    }

    /** Bytes of an RPC_REQ frame, length field included, for a request of {@code requestBytes}. */
    public static int rpcRequestLength(final int requestBytes)
    {
        return LENGTH_FIELD + 1 + 8 + 4 + requestBytes;
    }

    /** Why an RPC request of {@code requestBytes} cannot go in a frame of at most {@code maxFrame} bytes, or null. */
    static RpcException rpcTooLarge(final int requestBytes, final int maxFrame)
    {
        return requestBytes > maxFrame - 64 ? new RpcException(RpcStatus.BAD_REQUEST,
            "RPC request of " + requestBytes + " bytes exceeds the frame limit of " + maxFrame) : null;
    }

    public static void encodeRpcRequest(final ByteBuf out, final long requestId, final int method,
        final ByteBuffer request)
    {
        final int start = beginFrame(out, RPC_REQ);
        out.writeLong(requestId);
        out.writeInt(method);
        out.writeBytes(request.duplicate());
        endFrame(out, start);
    }

    /** An RPC_RESP carrying {@code payload} (status OK) or {@code message}. */
    public static void encodeRpcResponse(final ByteBuf out, final long requestId, final int status,
        final ByteBuffer payload, final String message)
    {
        final int start = beginFrame(out, RPC_RESP);
        out.writeLong(requestId);
        out.writeByte(status);
        if (payload != null)
        {
            out.writeBytes(payload.duplicate());
        }
        else
        {
            out.writeCharSequence(message == null ? "" : message, StandardCharsets.UTF_8);
        }
        endFrame(out, start);
    }

    /** Starts a BATCH_RESP; results follow, then {@link #endBatchResponse}. Returns the frame's start. */
    public static int beginBatchResponse(final ByteBuf out, final long requestId)
    {
        final int start = beginFrame(out, BATCH_RESP);
        out.writeLong(requestId);
        out.writeShort(0);
        return start;
    }

    /** Bytes of the BATCH_RESP that starts at {@code start}, as far as it is written. */
    public static int batchResponseBytes(final ByteBuf out, final int start)
    {
        return out.writerIndex() - start - LENGTH_FIELD;
    }

    /** Ends a BATCH_RESP: {@code executed} verbs ran; {@code refused} (or null) stopped the next one. */
    public static void endBatchResponse(final ByteBuf out, final int start, final int executed,
        final RemoteAccessException.Reason refused, final String message)
    {
        out.setShort(start + LENGTH_FIELD + 1 + 8, executed);
        if (refused == null)
        {
            out.writeByte(STATUS_OK);
        }
        else
        {
            out.writeByte(STATUS_REFUSED);
            out.writeShort(executed);
            out.writeByte(refused.ordinal());
            writeString(out, message, MAX_REFUSAL_MESSAGE);
        }
        endFrame(out, start);
    }

    /**
     * Reads the results of a BATCH_RESP body (after its request id) into the verbs of {@code part}
     * of {@code batch}: READ data into the destination buffers, atomics' old values. Returns the
     * refusal that stopped the batch, or null.
     *
     * @throws IndexOutOfBoundsException on a frame shorter than its results.
     */
    public static RemoteAccessException readBatchResults(final ByteBuf in, final VerbBatch batch, final int part)
    {
        final int executed = in.readUnsignedShort();
        int k = 0;
        int batchIndex = -1;
        for (int i = 0, n = batch.size(); i < n && k <= executed; i++)
        {
            if (batch.partOf(i) != part)
            {
                continue;
            }
            if (k == executed)
            {
                batchIndex = i;
                break;
            }
            switch (batch.op(i))
            {
                case Verb.READ:
                {
                    final int len = batch.length(i);
                    if (len > in.readableBytes())
                    {
                        throw new IndexOutOfBoundsException("READ result overruns the frame");
                    }
                    ByteBufCopies.copyOut(in, in.readerIndex(), batch.readBuffer(i), batch.bufferOffset(i), len);
                    in.skipBytes(len);
                    break;
                }
                case Verb.WRITE:
                    break;
                default:
                    batch.setResult(i, in.readLong());
                    break;
            }
            k++;
        }
        if (in.readByte() == STATUS_OK)
        {
            return null;
        }
        in.readUnsignedShort();
        final RemoteAccessException.Reason reason = RemoteAccessException.Reason.fromCode(in.readUnsignedByte());
        final String message = readString(in);
        return new RemoteAccessException(reason, batchIndex, message.isBlank()
            ? "the memory node refused verb " + batchIndex + " of the batch (" + reason + ") without saying why"
            : message);
    }

    /** An ECHO_RESP carrying the rest of {@code in}. */
    public static void encodeEchoResponse(final ByteBuf out, final ByteBuf in)
    {
        final int start = beginFrame(out, ECHO_RESP);
        out.writeBytes(in);
        endFrame(out, start);
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

    /** A whole frame holding only a message (ERROR, HELLO_REFUSED, which starts with the magic). */
    public static ByteBuf messageFrame(final ByteBuf out, final byte type, final String message)
    {
        final int start = beginFrame(out, type);
        if (type == HELLO_REFUSED)
        {
            out.writeInt(ProtocolVersion.MAGIC);
        }
        writeString(out, message);
        endFrame(out, start);
        return out;
    }
}
