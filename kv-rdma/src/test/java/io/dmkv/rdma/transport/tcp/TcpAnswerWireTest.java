package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * RPC answers of one server connection leaving from two places at once: the event loop within a
 * read burst (an inline handler that answers at once) and other threads that complete an inline
 * handler's answer (written directly to the socket when it is free, handed to the loop when not),
 * some of them larger than the socket takes in one write, while batches of verbs on the same
 * connection are answered by the loop. Checked: every answer arrives
 * whole and belongs to its request, and every FAA's old value is handed out exactly once.
 */
@Timeout(120)
class TcpAnswerWireTest
{
    private static final int ANSWER = 7;
    private static final int BIG = 6 << 20;

    @Test
    void answersFromOtherThreadsArriveWholeBesideTheLoopsAnswersAndVerbs() throws Exception
    {
        final MemoryNodeService service = new MemoryNodeService("mn-answers",
            RegionTable.allocate(2L << 20, 1L << 20), ProtocolVersion.DEFAULT_LAYOUT);
        final ExecutorService completers = Executors.newFixedThreadPool(3);
        // The request says how the answer completes and how large it is; the answer's bytes derive from its seed.
        service.handleInline(ANSWER, request ->
        {
            final int how = request.getInt(0);
            final long seed = request.getLong(4);
            final int bytes = request.getInt(12);
            if (how == 0)
            {
                return CompletableFuture.completedFuture(answer(seed, bytes));
            }
            final CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
            completers.execute(() ->
            {
                if (ThreadLocalRandom.current().nextInt(4) == 0)
                {
                    Thread.yield();
                }
                f.complete(answer(seed, bytes));
            });
            return f;
        });
        final TcpVerbsServer server = TcpVerbsServer.start(service, "127.0.0.1", 0);
        final int threads = 4;
        final int perThread = 300;
        final ExecutorService callers = Executors.newFixedThreadPool(threads);
        final BitSet handedOut = new BitSet();
        try (TcpVerbsTransport transport = new TcpVerbsTransport();
            VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()),
                ClientOptions.builder().requestTimeout(Duration.ofSeconds(60)).build()))
        {
            final RemoteRegion r = client.channel(0).region(0);
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                done.add(callers.submit(() ->
                {
                    final VerbBatch b = new VerbBatch();
                    final List<CompletableFuture<ByteBuffer>> calls = new ArrayList<>();
                    final List<long[]> asked = new ArrayList<>();
                    for (int i = 0; i < perThread; i++)
                    {
                        final long seed = ((long)thread << 32) | i;
                        final int bytes = i % 100 == 0 ? BIG : 8 * (1 + (i * 37) % 375);
                        final ByteBuffer q = ByteBuffer.allocate(16).putInt(i % 3 == 0 ? 0 : 1).putLong(seed)
                            .putInt(bytes).flip();
                        calls.add(client.rpcAsync(0, ANSWER, q));
                        asked.add(new long[] {seed, bytes});
                        if (calls.size() == 8)
                        {
                            check(calls, asked);
                        }
                        b.reset().faa(r, 0, 1);
                        client.execute(b);
                        synchronized (handedOut)
                        {
                            assertTrue(!handedOut.get((int)b.result(0)), "old value " + b.result(0) + " handed out once");
                            handedOut.set((int)b.result(0));
                        }
                    }
                    check(calls, asked);
                    return null;
                }));
            }
            for (final Future<?> f : done)
            {
                f.get(100, TimeUnit.SECONDS);
            }
            synchronized (handedOut)
            {
                assertEquals(threads * perThread, handedOut.cardinality());
            }
            final VerbBatch check = new VerbBatch();
            final UnsafeBuffer counter = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
            check.read(r, 0, counter, 0, 8);
            client.execute(check);
            assertEquals(threads * perThread, counter.getLong(0));
            if ("epoll".equals(TcpIo.name()))
            {
                assertTrue(server.answersDirect() > 0, "answers completed off the loop were written by their threads");
            }
        }
        finally
        {
            callers.shutdownNow();
            completers.shutdownNow();
            server.close();
            service.close();
        }
    }

    private static void check(final List<CompletableFuture<ByteBuffer>> calls, final List<long[]> asked)
        throws Exception
    {
        for (int i = 0; i < calls.size(); i++)
        {
            final ByteBuffer got = calls.get(i).get(60, TimeUnit.SECONDS);
            final long seed = asked.get(i)[0];
            final int bytes = (int)asked.get(i)[1];
            assertEquals(bytes, got.remaining(), "length of the answer to " + Long.toHexString(seed));
            final ByteBuffer want = answer(seed, bytes);
            for (int at = 0; at < bytes; at += 8)
            {
                if (got.getLong(got.position() + at) != want.getLong(at))
                {
                    assertEquals(want.getLong(at), got.getLong(got.position() + at),
                        "bytes " + at + ".. of the answer to " + Long.toHexString(seed));
                }
            }
        }
        calls.clear();
        asked.clear();
    }

    /** {@code bytes} (a multiple of 8) of longs that say which answer they belong to and where. */
    private static ByteBuffer answer(final long seed, final int bytes)
    {
        final ByteBuffer b = ByteBuffer.allocate(bytes);
        for (int at = 0; at < bytes; at += 8)
        {
            b.putLong(at, seed * 31 + at);
        }
        return b;
    }
}
