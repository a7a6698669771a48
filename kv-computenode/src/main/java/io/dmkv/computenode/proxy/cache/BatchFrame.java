package io.dmkv.computenode.proxy.cache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;

/**
 * The BATCH RPC (docs/flexkv.md §11): several SEARCH and MUTATE requests of one compute node to
 * one proxy in one frame, answered by one frame that also carries the invalidations the proxy
 * has for that compute node. With no request and {@link #POLL}, the frame waits at the proxy
 * until it has invalidations for the caller, or {@code park} ms passed.
 *
 * <pre>
 * request:  flags u8 | nonce u64 | acked u64 | park ms u32 | name length u8 | name
 *           | count u16 | count x (method u8 | body length u16 | body)     body: ProxyRpc's SEARCH or MUTATE,
 *           or for VALUED_MUTATE: mutate length u16 | ProxyRpc's MUTATE | the written value
 * response: lease ns u64 | needed u64 | seq u64 | hashes u32 | hashes x u64
 *           | count u16 | count x (status u8 | answer flags u8 | slot u64 [| value length u32 | value])
 * </pre>
 * Answer flags: 1 leased, 2 the key's value follows (only to a request frame with {@link #VALUES}:
 * a FOUND answer whose value the proxy holds in its level-1 memory for that slot, so the caller
 * needs no READ).
 * {@code nonce} tells a restarted compute node of the same name from its predecessor;
 * {@code acked} is the highest invalidation batch it applied (with every one before it);
 * {@code seq} numbers the invalidations in this response (0: none), and {@code needed} is the
 * highest batch the proxy sent before this response: the caller completes the response's requests
 * only once it applied every batch up to it. A SEARCH sent as {@link #CACHED_SEARCH} asks for a
 * lease: a FOUND answer with {@code leased} 1 may be cached for {@code lease ns} from the moment
 * the request was sent, less the caller's drift margin. A MUTATE sent as {@link #VALUED_MUTATE}
 * carries the value the writer wrote, which the proxy's level 1 keeps for the new slot (so later
 * lookups of the key are answered with it instead of costing a READ). Little-endian throughout.
 */
public final class BatchFrame
{
    /** The RPC method number on the proxy port. */
    public static final int BATCH = 72;
    /** A sub-request's method: a SEARCH that asks for a cache lease. */
    public static final int CACHED_SEARCH = 0x43;
    /** A sub-request's method: a MUTATE followed by the value written. */
    public static final int VALUED_MUTATE = 0x4D;
    /** A sub-reply status: the request failed at the proxy (a write's outcome is then unknown). */
    public static final byte FAILED = 0x7F;
    /** Request flag: wait for invalidations. */
    public static final int POLL = 1;
    /** Request flag: FOUND answers may carry the key's value. */
    public static final int VALUES = 2;
    /** Value bytes one response carries at most (past it, answers go without their values). */
    public static final int MAX_VALUE_BYTES = 256 << 10;
    private static final int LEASED = 1;
    private static final int HAS_VALUE = 2;

    private static final int HEADER = 1 + 8 + 8 + 4 + 1;
    private static final int RESPONSE_HEADER = 8 + 8 + 8 + 4;
    private static final int SUB_REPLY = 1 + 1 + 8;
    private static final long[] NO_HASHES = new long[0];

    private BatchFrame()
    {
    }

    /** One request of a frame: a method and its ProxyRpc body. */
    public record Sub(int method, ByteBuffer body)
    {
    }

    /** A VALUED_MUTATE body taken apart: the ProxyRpc MUTATE body and the value written. */
    public record Valued(ByteBuffer mutate, byte[] value)
    {
    }

    /**
     * A MUTATE as the sub-request that also carries {@code value}, or as a plain MUTATE when the
     * two do not fit a sub-request's 16-bit length.
     */
    public static Sub mutate(final ByteBuffer mutate, final byte[] value)
    {
        final int length = 2 + mutate.remaining() + (value == null ? 0 : value.length);
        if (value == null || length > 0xFFFF)
        {
            return new Sub(ProxyRpc.MUTATE, mutate);
        }
        final ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short)mutate.remaining()).put(mutate.duplicate()).put(value);
        return new Sub(VALUED_MUTATE, b.flip());
    }

    /** Takes a VALUED_MUTATE body apart; a malformed one is refused with BAD_REQUEST. */
    public static Valued valued(final ByteBuffer body)
    {
        final ByteBuffer b = body.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        need(b, 2);
        final int length = b.getShort() & 0xFFFF;
        need(b, length);
        final ByteBuffer mutate = b.slice(b.position(), length).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + length);
        final byte[] value = new byte[b.remaining()];
        b.get(value);
        return new Valued(mutate, value);
    }

    /** A parsed request frame. */
    public record Request(int flags, long nonce, long acked, int parkMs, String caller, List<Sub> subs)
    {
        public boolean poll()
        {
            return (flags & POLL) != 0;
        }

        /** The caller takes values in FOUND answers. */
        public boolean values()
        {
            return (flags & VALUES) != 0;
        }
    }

    /** One answer of a frame; {@code value}: the key's value, or null (the caller READs it). */
    public record Answer(byte status, long slot, boolean leased, byte[] value)
    {
        public Answer(final byte status, final long slot, final boolean leased)
        {
            this(status, slot, leased, null);
        }
    }

    /** A parsed response frame. */
    public record Response(long leaseNs, long needed, long seq, long[] hashes, Answer[] answers)
    {
    }

    public static ByteBuffer request(final int flags, final long nonce, final long acked, final int parkMs,
        final byte[] caller, final List<Sub> subs)
    {
        int length = HEADER + caller.length + 2;
        for (final Sub s : subs)
        {
            length += 3 + s.body().remaining();
        }
        final ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte)flags).putLong(nonce).putLong(acked).putInt(parkMs).put((byte)caller.length).put(caller)
            .putShort((short)subs.size());
        for (final Sub s : subs)
        {
            b.put((byte)s.method()).putShort((short)s.body().remaining()).put(s.body().duplicate());
        }
        return b.flip();
    }

    /** Parses a request frame; a malformed one is refused with BAD_REQUEST. */
    public static Request parseRequest(final ByteBuffer in)
    {
        final ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        need(b, HEADER);
        final int flags = b.get();
        final long nonce = b.getLong();
        final long acked = b.getLong();
        final int parkMs = b.getInt();
        final int nameLength = b.get() & 0xFF;
        need(b, nameLength + 2);
        final byte[] name = new byte[nameLength];
        b.get(name);
        final int count = b.getShort() & 0xFFFF;
        // Each request takes at least 3 bytes: a count the frame cannot hold allocates nothing.
        need(b, 3 * count);
        final Sub[] subs = new Sub[count];
        for (int i = 0; i < count; i++)
        {
            need(b, 3);
            final int method = b.get() & 0xFF;
            if (method != ProxyRpc.SEARCH && method != ProxyRpc.MUTATE && method != CACHED_SEARCH
                && method != VALUED_MUTATE)
            {
                throw bad("unknown method " + method + " in a batch");
            }
            final int length = b.getShort() & 0xFFFF;
            need(b, length);
            final ByteBuffer body = b.slice(b.position(), length).order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + length);
            subs[i] = new Sub(method, body);
        }
        if (b.hasRemaining())
        {
            throw bad(b.remaining() + " bytes after the last request");
        }
        if (parkMs < 0)
        {
            throw bad("negative park time " + parkMs);
        }
        return new Request(flags, nonce, acked, parkMs, new String(name, StandardCharsets.UTF_8), List.of(subs));
    }

    public static ByteBuffer response(final long leaseNs, final long needed, final long seq, final long[] hashes,
        final Answer[] answers)
    {
        int values = 0;
        for (final Answer a : answers)
        {
            values += a.value() == null ? 0 : 4 + a.value().length;
        }
        final ByteBuffer b = ByteBuffer.allocate(RESPONSE_HEADER + 8 * hashes.length + 2 + SUB_REPLY * answers.length
            + values).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(leaseNs).putLong(needed).putLong(seq).putInt(hashes.length);
        for (final long h : hashes)
        {
            b.putLong(h);
        }
        b.putShort((short)answers.length);
        for (final Answer a : answers)
        {
            b.put(a.status()).put((byte)((a.leased() ? LEASED : 0) | (a.value() != null ? HAS_VALUE : 0)))
                .putLong(a.slot());
            if (a.value() != null)
            {
                b.putInt(a.value().length).put(a.value());
            }
        }
        return b.flip();
    }

    /** Parses a response; a malformed one is a protocol error of the proxy. */
    public static Response parseResponse(final ByteBuffer in, final int expected)
    {
        final ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < RESPONSE_HEADER)
        {
            throw failed("batch reply of " + b.remaining() + " bytes");
        }
        final long lease = b.getLong();
        final long needed = b.getLong();
        final long seq = b.getLong();
        final int n = b.getInt();
        if (n < 0 || b.remaining() < 8L * n + 2)
        {
            throw failed("batch reply announces " + n + " invalidations in " + b.remaining() + " bytes");
        }
        final long[] hashes = n == 0 ? NO_HASHES : new long[n];
        for (int i = 0; i < n; i++)
        {
            hashes[i] = b.getLong();
        }
        final int count = b.getShort() & 0xFFFF;
        if (count != expected || b.remaining() < SUB_REPLY * count)
        {
            throw failed("batch reply of " + count + " answers for " + expected + " requests");
        }
        final Answer[] answers = new Answer[count];
        for (int i = 0; i < count; i++)
        {
            if (b.remaining() < SUB_REPLY)
            {
                throw failed("batch reply ends in answer " + i + " of " + count);
            }
            final byte status = b.get();
            final int flags = b.get();
            final long slot = b.getLong();
            byte[] value = null;
            if ((flags & HAS_VALUE) != 0)
            {
                final int length = b.remaining() < 4 ? -1 : b.getInt();
                if (length < 0 || length > b.remaining())
                {
                    throw failed("batch reply's value of answer " + i + " does not fit the frame");
                }
                value = new byte[length];
                b.get(value);
            }
            answers[i] = new Answer(status, slot, (flags & LEASED) != 0, value);
        }
        if (b.hasRemaining())
        {
            throw failed(b.remaining() + " bytes after the last answer");
        }
        return new Response(lease, needed, seq, hashes, answers);
    }

    private static void need(final ByteBuffer b, final int bytes)
    {
        if (b.remaining() < bytes)
        {
            throw bad("frame ends after " + b.position() + " bytes, " + bytes + " more expected");
        }
    }

    private static RpcException bad(final String why)
    {
        return new RpcException(RpcStatus.BAD_REQUEST, "malformed proxy batch: " + why);
    }

    private static RpcException failed(final String why)
    {
        return new RpcException(RpcStatus.FAILED, "malformed proxy batch reply: " + why);
    }
}
