package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.RpcException;

/** The batch frame's codec: round trips, and malformed frames refused. */
class BatchFrameTest
{
    @Test
    void requestsAndResponsesRoundTrip()
    {
        final byte[] key = "key".getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = BatchFrame.request(BatchFrame.POLL, 99, 7, 150, "cn-3".getBytes(StandardCharsets.UTF_8),
            List.of(new BatchFrame.Sub(BatchFrame.CACHED_SEARCH, ProxyRpc.search(4, 0xABC, key)),
                new BatchFrame.Sub(ProxyRpc.MUTATE, ProxyRpc.mutate(4, 0xABC, Mode.UPDATE, 11, 12, key))));
        final BatchFrame.Request q = BatchFrame.parseRequest(frame);
        assertTrue(q.poll());
        assertEquals(99, q.nonce());
        assertEquals(7, q.acked());
        assertEquals(150, q.parkMs());
        assertEquals("cn-3", q.caller());
        assertEquals(2, q.subs().size());
        assertEquals(BatchFrame.CACHED_SEARCH, q.subs().get(0).method());
        assertArrayEquals(key, ProxyRpc.parse(ProxyRpc.SEARCH, q.subs().get(0).body()).key());
        assertEquals(11, ProxyRpc.parse(ProxyRpc.MUTATE, q.subs().get(1).body()).slot());

        final BatchFrame.Response r = BatchFrame.parseResponse(BatchFrame.response(200, 5, 4, new long[] {1, 2},
            new BatchFrame.Answer[] {new BatchFrame.Answer(ProxyRpc.FOUND, 77, true),
                new BatchFrame.Answer(ProxyRpc.APPLIED, 78, false)}), 2);
        assertEquals(200, r.leaseNs());
        assertEquals(5, r.needed());
        assertEquals(4, r.seq());
        assertArrayEquals(new long[] {1, 2}, r.hashes());
        assertEquals(new BatchFrame.Answer(ProxyRpc.FOUND, 77, true), r.answers()[0]);
        assertEquals(new BatchFrame.Answer(ProxyRpc.APPLIED, 78, false), r.answers()[1]);
    }

    @Test
    void anAnswerCarriesItsValueOnlyForACallerThatTakesValues()
    {
        assertTrue(BatchFrame.parseRequest(BatchFrame.request(BatchFrame.VALUES, 1, 0, 0, new byte[] {'a'},
            List.of())).values());
        assertTrue(!BatchFrame.parseRequest(BatchFrame.request(BatchFrame.POLL, 1, 0, 0, new byte[] {'a'},
            List.of())).values());
        final byte[] value = "the value".getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = BatchFrame.response(200, 0, 0, new long[0], new BatchFrame.Answer[] {
            new BatchFrame.Answer(ProxyRpc.FOUND, 77, true, value), new BatchFrame.Answer(ProxyRpc.NOT_FOUND, 0, false),
            new BatchFrame.Answer(ProxyRpc.FOUND, 79, false, new byte[0])});
        final BatchFrame.Response r = BatchFrame.parseResponse(frame, 3);
        assertArrayEquals(value, r.answers()[0].value());
        assertTrue(r.answers()[0].leased());
        assertEquals(77, r.answers()[0].slot());
        assertEquals(null, r.answers()[1].value());
        assertArrayEquals(new byte[0], r.answers()[2].value());
        for (int cut = 0; cut < frame.remaining(); cut++)
        {
            final ByteBuffer shorter = frame.duplicate().limit(cut);
            assertThrows(RpcException.class, () -> BatchFrame.parseResponse(shorter, 3), "cut at " + cut);
        }
        final ByteBuffer longer = ByteBuffer.allocate(frame.remaining() + 1).put(frame.duplicate()).put((byte)0).flip();
        assertThrows(RpcException.class, () -> BatchFrame.parseResponse(longer, 3), "a byte past the last answer");
    }

    @Test
    void malformedFramesAreRefused()
    {
        final ByteBuffer ok = BatchFrame.request(0, 1, 0, 0, new byte[] {'a'},
            List.of(new BatchFrame.Sub(ProxyRpc.SEARCH, ProxyRpc.search(1, 2, new byte[] {3}))));
        for (int cut = 0; cut < ok.remaining(); cut++)
        {
            final ByteBuffer shorter = ok.duplicate().limit(cut);
            assertThrows(RpcException.class, () -> BatchFrame.parseRequest(shorter), "cut at " + cut);
        }
        final ByteBuffer badMethod = ok.duplicate();
        badMethod.put(1 + 8 + 8 + 4 + 1 + 1 + 2, (byte)9);
        assertThrows(RpcException.class, () -> BatchFrame.parseRequest(badMethod));
        assertThrows(RpcException.class, () -> BatchFrame.parseResponse(BatchFrame.response(0, 0, 0, new long[0],
            new BatchFrame.Answer[0]), 1), "answers for another number of requests");
    }
}
