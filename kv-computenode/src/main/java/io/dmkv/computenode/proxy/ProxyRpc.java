package io.dmkv.computenode.proxy;

import java.nio.ByteBuffer;

import io.dmkv.computenode.ops.Mode;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;

/**
 * The CN-to-CN proxy RPCs (docs/flexkv.md §3): one request names one key of one partition, with
 * the partition-map epoch the caller routed by. The proxy port is a memory-node service with no
 * regions, so these travel over the same versioned hello and frames as memory-node RPCs.
 *
 * <pre>
 * SEARCH  request: epoch u64 | hash u64 | key length u16 | key
 *         reply:   status u8 | slot u64                      (FOUND: the slot; the caller READs the object)
 * MUTATE  request: epoch u64 | hash u64 | mode u8 | new slot u64 | log entry u64 | key length u16 | key
 *         reply:   status u8 | replaced slot u64              (APPLIED, EXISTS, NOT_FOUND)
 * QUERY   request: epoch u64 | hash u64 | object u64 | key length u16 | key
 *         reply:   status u8 | slot u64                      (FOUND when a slot of the key points at the object)
 * </pre>
 * Any reply may be {@link #REDIRECT} (this proxy does not serve the partition at that epoch, or
 * not yet) or {@link #FULL} (the partition cannot split further). Little-endian throughout.
 */
public final class ProxyRpc
{
    /** RPC method numbers on the proxy port. */
    public static final int SEARCH = 64;
    public static final int MUTATE = 65;
    public static final int QUERY = 66;

    /** Reply statuses. */
    public static final byte FOUND = 1;
    public static final byte NOT_FOUND = 2;
    public static final byte APPLIED = 3;
    public static final byte EXISTS = 4;
    public static final byte REDIRECT = 5;
    public static final byte FULL = 6;

    /** Fixed bytes of each request before the key. */
    public static final int SEARCH_HEADER = 8 + 8 + 2;
    public static final int MUTATE_HEADER = 8 + 8 + 1 + 8 + 8 + 2;
    public static final int QUERY_HEADER = 8 + 8 + 8 + 2;
    /** Bytes of every reply. */
    public static final int REPLY_LENGTH = 1 + 8;

    private ProxyRpc()
    {
    }

    /** A parsed request (any of the three methods). */
    public record Request(long epoch, long hash, Mode mode, long slot, long address, byte[] key)
    {
    }

    /** A reply: status and a slot value. */
    public record Reply(byte status, long slot)
    {
        public static Reply of(final byte status, final long slot)
        {
            return new Reply(status, slot);
        }
    }

    public static ByteBuffer search(final long epoch, final long hash, final byte[] key)
    {
        final ByteBuffer b = ByteBuffer.allocate(SEARCH_HEADER + key.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(epoch).putLong(hash).putShort((short)key.length).put(key);
        return b.flip();
    }

    public static ByteBuffer mutate(final long epoch, final long hash, final Mode mode, final long slot,
        final long entry, final byte[] key)
    {
        final ByteBuffer b = ByteBuffer.allocate(MUTATE_HEADER + key.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(epoch).putLong(hash).put((byte)mode.ordinal()).putLong(slot).putLong(entry)
            .putShort((short)key.length).put(key);
        return b.flip();
    }

    public static ByteBuffer query(final long epoch, final long hash, final long object, final byte[] key)
    {
        final ByteBuffer b = ByteBuffer.allocate(QUERY_HEADER + key.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(epoch).putLong(hash).putLong(object).putShort((short)key.length).put(key);
        return b.flip();
    }

    /**
     * Parses a request of {@code method}.
     *
     * @throws RpcException (BAD_REQUEST) for a malformed one: short, a key length that does not
     *                      match, an unknown mode.
     */
    public static Request parse(final int method, final ByteBuffer in)
    {
        final ByteBuffer b = in.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        final int header = method == SEARCH ? SEARCH_HEADER : method == MUTATE ? MUTATE_HEADER : QUERY_HEADER;
        if (b.remaining() < header)
        {
            throw bad("request of " + b.remaining() + " bytes is shorter than its " + header + "-byte header");
        }
        final long epoch = b.getLong();
        final long hash = b.getLong();
        Mode mode = null;
        long slot = 0;
        long address = 0;
        if (method == MUTATE)
        {
            final int m = b.get();
            if (m < 0 || m >= Mode.values().length)
            {
                throw bad("unknown mutation mode " + m);
            }
            mode = Mode.values()[m];
            slot = b.getLong();
            address = b.getLong();
        }
        else if (method == QUERY)
        {
            address = b.getLong();
        }
        final int keyLength = b.getShort() & 0xFFFF;
        if (keyLength == 0 || keyLength != b.remaining())
        {
            throw bad("key length " + keyLength + " does not match the " + b.remaining() + " bytes that follow");
        }
        final byte[] key = new byte[keyLength];
        b.get(key);
        return new Request(epoch, hash, mode, slot, address, key);
    }

    public static ByteBuffer reply(final Reply r)
    {
        final ByteBuffer b = ByteBuffer.allocate(REPLY_LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(r.status()).putLong(r.slot());
        return b.flip();
    }

    /** Parses a reply; a malformed one is a protocol error of the proxy. */
    public static Reply parseReply(final ByteBuffer in)
    {
        final ByteBuffer b = in.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() != REPLY_LENGTH)
        {
            throw new RpcException(RpcStatus.FAILED, "proxy reply of " + b.remaining() + " bytes, expected "
                + REPLY_LENGTH);
        }
        final byte status = b.get();
        if (status < FOUND || status > FULL)
        {
            throw new RpcException(RpcStatus.FAILED, "proxy reply with unknown status " + status);
        }
        return new Reply(status, b.getLong());
    }

    private static RpcException bad(final String why)
    {
        return new RpcException(RpcStatus.BAD_REQUEST, "malformed proxy request: " + why);
    }
}
