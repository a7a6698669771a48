package io.dmkv.computenode.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.fuzz.FuzzRotation;

/**
 * The compute-node proxy RPCs (SEARCH, MUTATE, QUERY) as a proxy parses a peer's request and a
 * caller parses the proxy's reply: a malformed one is an {@link RpcException} (BAD_REQUEST for a
 * request, FAILED for a reply) that says why; a well-formed request encodes back to the same
 * bytes.
 *
 * <p>Input: {@code method:u8} (mod 3: SEARCH, MUTATE, QUERY; 3 and above mod 4: a reply) then the bytes.
 */
@ExtendWith(FuzzRotation.class)
class ProxyRpcFuzzTest
{
    private static final int[] METHODS = {ProxyRpc.SEARCH, ProxyRpc.MUTATE, ProxyRpc.QUERY};

    @FuzzTest
    void messages(final byte[] input)
    {
        if (input.length == 0)
        {
            return;
        }
        final ByteBuffer body = ByteBuffer.wrap(Arrays.copyOfRange(input, 1, input.length));
        final int which = (input[0] & 0xFF) % 4;
        if (which == 3)
        {
            reply(body);
            return;
        }
        final int method = METHODS[which];
        final ProxyRpc.Request r;
        try
        {
            r = ProxyRpc.parse(method, body);
        }
        catch (final RpcException malformed)
        {
            assertEquals(RpcStatus.BAD_REQUEST, malformed.status());
            assertTrue(malformed.getMessage().contains("malformed proxy request"), malformed.getMessage());
            return;
        }
        final ByteBuffer again = switch (method)
        {
            case ProxyRpc.SEARCH -> ProxyRpc.search(r.epoch(), r.hash(), r.key());
            case ProxyRpc.MUTATE -> ProxyRpc.mutate(r.epoch(), r.hash(), r.mode(), r.slot(), r.address(), r.key());
            default -> ProxyRpc.query(r.epoch(), r.hash(), r.address(), r.key());
        };
        assertArrayEquals(bytes(body), bytes(again), "a request does not encode back to its bytes");
    }

    private static void reply(final ByteBuffer body)
    {
        final ProxyRpc.Reply r;
        try
        {
            r = ProxyRpc.parseReply(body);
        }
        catch (final RpcException malformed)
        {
            assertEquals(RpcStatus.FAILED, malformed.status());
            assertTrue(malformed.getMessage().startsWith("proxy reply"), malformed.getMessage());
            return;
        }
        assertArrayEquals(bytes(body), bytes(ProxyRpc.reply(r)), "a reply does not encode back to its bytes");
    }

    private static byte[] bytes(final ByteBuffer b)
    {
        final byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
