package io.dmkv.rdma.transport.tcp;

import java.util.List;

import io.dmkv.rdma.ProtocolVersion;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;

/**
 * Checks the frame headers a peer sends during the hello, before the frame decoder buffers
 * anything: their length, their type and, where the frame carries one, the magic. On the memory
 * node it bounds every frame before the hello is accepted to {@link TcpFrames#MAX_HELLO_FRAME}
 * (an unauthenticated peer cannot make the node buffer more) and stays until the hello is done.
 * On the client it checks the first frame only, so that a client that reached something other
 * than a memory node (a web server, another service) says so instead of "oversized frame".
 * Bytes of accepted frames pass through unchanged.
 */
final class HelloGuard extends ByteToMessageDecoder
{
    static final String NAME = "hello-guard";
    private static final int HEADER = TcpFrames.LENGTH_FIELD + 1;

    private final int maxLength;
    private final byte[] types;
    private final boolean firstOnly;
    /** Bytes of the current frame still to pass through. */
    private long passing;
    private boolean failed;

    /**
     * @param maxLength  longest frame accepted (after the length field).
     * @param firstOnly  whether to step aside after the first frame's header.
     * @param types      frame types accepted; HELLO, HELLO_OK, HELLO_CHALLENGE and HELLO_REFUSED
     *                   must also carry the magic.
     */
    HelloGuard(final int maxLength, final boolean firstOnly, final byte... types)
    {
        this.maxLength = maxLength;
        this.firstOnly = firstOnly;
        this.types = types.clone();
    }

    /** The guard of a memory node: hello frames only, small ones, until the hello is done. */
    static HelloGuard server()
    {
        return new HelloGuard(TcpFrames.MAX_HELLO_FRAME, false, TcpFrames.HELLO, TcpFrames.HELLO_PROOF);
    }

    /** The guard of a client: the node's first answer must be a hello answer or an error. */
    static HelloGuard client(final int maxFrame)
    {
        return new HelloGuard(maxFrame, true, TcpFrames.HELLO_OK, TcpFrames.HELLO_CHALLENGE, TcpFrames.HELLO_REFUSED,
            TcpFrames.ERROR);
    }

    @Override
    protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
    {
        while (in.isReadable())
        {
            if (failed)
            {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (passing > 0)
            {
                final int n = (int)Math.min(passing, in.readableBytes());
                out.add(in.readRetainedSlice(n));
                passing -= n;
                continue;
            }
            final String problem = check(in);
            if (problem == null)
            {
                return;
            }
            if (problem.isEmpty())
            {
                passing = TcpFrames.LENGTH_FIELD + (long)in.getInt(in.readerIndex());
                if (firstOnly)
                {
                    out.add(in.readRetainedSlice(in.readableBytes()));
                    ctx.pipeline().remove(this);
                    return;
                }
                continue;
            }
            failed = true;
            final String seen = describe(in);
            in.skipBytes(in.readableBytes());
            throw new NotDmkvPeerException(problem + "; it sent " + seen);
        }
    }

    /** "" when the header at the reader index is acceptable, null when more bytes are needed, else why not. */
    private String check(final ByteBuf in)
    {
        if (in.readableBytes() < HEADER)
        {
            return null;
        }
        final int at = in.readerIndex();
        final long length = in.getUnsignedInt(at);
        final byte type = in.getByte(at + TcpFrames.LENGTH_FIELD);
        if (length < 1 || length > maxLength)
        {
            return "a frame of " + length + " bytes where a hello frame of at most " + maxLength + " was due";
        }
        boolean known = false;
        for (final byte t : types)
        {
            known |= t == type;
        }
        if (!known)
        {
            return "frame type " + type + " where a hello frame was due";
        }
        if (type == TcpFrames.ERROR || type == TcpFrames.HELLO_PROOF)
        {
            return "";
        }
        if (length < 1 + 4)
        {
            return "a hello frame too short for its magic";
        }
        if (in.readableBytes() < HEADER + 4)
        {
            return null;
        }
        final int magic = in.getInt(at + HEADER);
        return magic == ProtocolVersion.MAGIC ? "" : "a hello without the dmkv magic (0x" + Integer.toHexString(magic)
            + ")";
    }

    /** The first bytes, as text where printable (an HTTP status line, an SSH banner), else in hex. */
    private static String describe(final ByteBuf in)
    {
        final int n = Math.min(24, in.readableBytes());
        final StringBuilder text = new StringBuilder();
        final StringBuilder hex = new StringBuilder();
        boolean printable = true;
        for (int i = 0; i < n; i++)
        {
            final int b = in.getUnsignedByte(in.readerIndex() + i);
            printable &= b >= 0x20 && b < 0x7F || b == '\r' || b == '\n';
            text.append(b == '\r' || b == '\n' ? ' ' : (char)b);
            hex.append(String.format("%02x", b));
        }
        return printable ? "\"" + text.toString().trim() + "\"" : "0x" + hex;
    }

    /** The peer's first bytes are not a dmkv hello. */
    static final class NotDmkvPeerException extends DecoderException
    {
        private static final long serialVersionUID = 1L;

        NotDmkvPeerException(final String message)
        {
            super(message);
        }
    }
}
