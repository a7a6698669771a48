package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;

/**
 * A compute node's link to one proxy, driven frame by frame through a channel whose answers the
 * test gives: a response waits for the invalidation batches sent before it, but never for
 * batches numbered in an incarnation of the link that a failure already ended.
 */
class ProxyLinkTest
{
    private static final long SLOT = 0x0102_0304_0506_0708L;

    private final Channel channel = new Channel();
    private final ProxyLink link = new ProxyLink("127.0.0.1:1", () -> channel, new ValueCache(System::nanoTime, 1 << 20),
        System::nanoTime, "cn-test".getBytes(StandardCharsets.UTF_8), 11, 2, 50, new ProxyClient.Counters());

    @Test
    void aResponseToAFrameSentBeforeTheLinkLostTheProxyIsDeliveredThoughNothingElseFollows()
    {
        final CompletableFuture<ProxyLink.Reply> first = link.submit(search(1));
        final CompletableFuture<ProxyLink.Reply> second = link.submit(search(2));
        final Frame a = channel.requests().get(0);
        final Frame b = channel.requests().get(1);
        assertEquals(11, a.request().nonce());

        // The second frame's connection fails: the link starts a new incarnation, numbering from 0.
        b.future().completeExceptionally(new ConnectionException("connection reset"));
        assertTrue(second.isCompletedExceptionally());

        // The proxy had sent 3 invalidation batches to the first incarnation when it answered the first frame.
        a.future().complete(BatchFrame.response(0, 3, 0, new long[0], found()));

        // Nothing more goes to this proxy (its only caller waits for this answer): the answer must arrive anyway.
        assertTrue(first.isDone(), "the first frame's request was answered");
        assertEquals(ProxyRpc.FOUND, first.join().answer().status());
        assertEquals(SLOT, first.join().answer().slot());
    }

    @Test
    void aBatchNumberedByAnEndedIncarnationDoesNotCountAsTheNewOnesBatch()
    {
        final CompletableFuture<ProxyLink.Reply> old = link.submit(search(1));
        link.submit(search(2));
        channel.requests().get(1).future().completeExceptionally(new ConnectionException("connection reset"));
        // The first incarnation's batch 2 arrives after the link started numbering anew.
        channel.requests().get(0).future().complete(BatchFrame.response(0, 2, 2, new long[] {7}, found()));
        assertTrue(old.isDone());

        final CompletableFuture<ProxyLink.Reply> c = link.submit(search(3));
        final CompletableFuture<ProxyLink.Reply> d = link.submit(search(4));
        final Frame fc = channel.requests().get(2);
        final Frame fd = channel.requests().get(3);
        assertNotEquals(11, fc.request().nonce(), "the new incarnation has a nonce of its own");
        fc.future().complete(BatchFrame.response(0, 1, 1, new long[] {8}, found()));
        assertTrue(c.isDone());
        // The new incarnation's batch 2 has not arrived: a response sent after it waits for it.
        fd.future().complete(BatchFrame.response(0, 2, 0, new long[0], found()));
        assertFalse(d.isDone(), "held until the new incarnation's batch 2 is applied");

        final CompletableFuture<ProxyLink.Reply> e = link.submit(search(5));
        channel.requests().get(4).future().complete(BatchFrame.response(0, 2, 2, new long[] {9}, found()));
        assertTrue(e.isDone());
        assertTrue(d.isDone(), "released once batch 2 is applied");
    }

    private static BatchFrame.Sub search(final int key)
    {
        return new BatchFrame.Sub(ProxyRpc.SEARCH, ProxyRpc.search(1, key, new byte[] {(byte)key}));
    }

    private static BatchFrame.Answer[] found()
    {
        return new BatchFrame.Answer[] {new BatchFrame.Answer(ProxyRpc.FOUND, SLOT, false)};
    }

    private record Frame(BatchFrame.Request request, CompletableFuture<ByteBuffer> future)
    {
    }

    /** A connection to the proxy whose every RPC waits for the test to answer it. */
    private static final class Channel implements VerbsChannel
    {
        private final List<Frame> frames = new ArrayList<>();

        /** The frames that carry requests (not acknowledgements or polls), in the order sent. */
        List<Frame> requests()
        {
            return frames.stream().filter(f -> !f.request().subs().isEmpty()).toList();
        }

        @Override
        public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
        {
            assertEquals(BatchFrame.BATCH, method);
            final Frame f = new Frame(BatchFrame.parseRequest(request.duplicate()), new CompletableFuture<>());
            frames.add(f);
            return f.future();
        }

        @Override
        public MemoryNodeInfo node()
        {
            return null;
        }

        @Override
        public List<RemoteRegion> regions()
        {
            return List.of();
        }

        @Override
        public void submit(final VerbBatch batch, final int part)
        {
            throw new UnsupportedOperationException("a proxy link sends RPCs only");
        }

        @Override
        public VerbCounters counters()
        {
            return new VerbCounters();
        }

        @Override
        public boolean isOpen()
        {
            return true;
        }

        @Override
        public void close()
        {
        }
    }
}
