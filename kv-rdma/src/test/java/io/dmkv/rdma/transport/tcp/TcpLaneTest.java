package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/** Blocking callers do their round trips on lanes of their own, beside posts through the event loop. */
@Timeout(60)
class TcpLaneTest
{
    private MemoryNodeService service;
    private TcpVerbsServer server;
    private TcpVerbsTransport transport;

    @BeforeEach
    void start()
    {
        service = new MemoryNodeService("mn-lanes", RegionTable.allocate(1 << 16, 1 << 16), ProtocolVersion.DEFAULT_LAYOUT);
        server = TcpVerbsServer.start(service, "127.0.0.1", 0);
        transport = new TcpVerbsTransport();
    }

    @AfterEach
    void stop()
    {
        transport.close();
        server.close();
        service.close();
    }

    @Test
    void blockingCallersUseOneLaneEachAndAsyncPostsTheEventLoopWithEveryFaaSeenOnce() throws Exception
    {
        final int threads = 4;
        final int perThread = 400;
        final int async = 400;
        try (VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults()))
        {
            final RemoteRegion r = client.channel(0).region(0);
            final ConcurrentLinkedQueue<Long> seen = new ConcurrentLinkedQueue<>();
            final List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final Thread th = new Thread(() ->
                {
                    final VerbBatch b = new VerbBatch();
                    for (int i = 0; i < perThread; i++)
                    {
                        b.reset().faa(r, 4096, 1);
                        client.execute(b);
                        seen.add(b.result(0));
                    }
                }, "blocking-" + t);
                callers.add(th);
                th.start();
            }
            final List<CompletableFuture<VerbBatch>> posted = new ArrayList<>();
            for (int i = 0; i < async; i++)
            {
                final VerbBatch b = new VerbBatch();
                b.faa(r, 4096, 1);
                posted.add(client.executeAsync(b));
            }
            for (final CompletableFuture<VerbBatch> f : posted)
            {
                seen.add(f.get(30, TimeUnit.SECONDS).result(0));
            }
            for (final Thread th : callers)
            {
                th.join();
            }
            final int total = threads * perThread + async;
            final BitSet olds = new BitSet();
            for (final long v : seen)
            {
                assertTrue(v >= 0 && v < total && !olds.get((int)v), "old value " + v + " seen twice or out of range");
                olds.set((int)v);
            }
            assertEquals(total, olds.cardinality());
            final int lanes = ((TcpVerbsChannel)client.channel(0)).laneCount();
            assertTrue(lanes >= 1 && lanes <= threads, lanes + " lanes for " + threads + " blocking threads");
            final VerbBatch last = new VerbBatch();
            last.faa(r, 4096, 0);
            client.execute(last);
            assertEquals(total, last.result(0));
        }
        assertEquals(0, server.protocolErrors());
    }

    /**
     * A lane starts with small buffers: a WRITE and a READ far larger than both make them grow,
     * arrive whole, and the grown buffers carry the round trips after them.
     */
    @Test
    void framesLargerThanALanesBuffersGrowThemAndArriveWhole()
    {
        try (VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults()))
        {
            final RemoteRegion r = client.channel(0).region(0);
            final VerbBatch b = new VerbBatch();
            b.faa(r, 0, 1);
            client.execute(b);
            for (final int length : new int[] {20_000, 100, 40_000})
            {
                final UnsafeBuffer src = new UnsafeBuffer(new byte[length]);
                for (int i = 0; i < length; i++)
                {
                    src.putByte(i, (byte)(i * 31 + length));
                }
                b.reset().write(r, 8192, src, 0, length);
                client.execute(b);
                final UnsafeBuffer back = new UnsafeBuffer(new byte[length]);
                b.reset().read(r, 8192, back, 0, length);
                client.execute(b);
                for (int i = 0; i < length; i++)
                {
                    assertEquals(src.getByte(i), back.getByte(i), "byte " + i + " of " + length);
                }
            }
            assertEquals(1, ((TcpVerbsChannel)client.channel(0)).laneCount(), "the calls took the caller's lane");
        }
        assertEquals(0, server.protocolErrors());
    }

    /**
     * RPCs on lanes from several threads, each answered on its caller's thread from the lane's own
     * buffer; a refusal is an RpcException and the lane carries the next call.
     */
    @Test
    void rpcsOnLanesAreAnsweredOnTheCallingThreadAndARefusalKeepsTheLane() throws Exception
    {
        service.handle(90, request -> java.nio.ByteBuffer.allocate(8).putLong(0, request.getLong(request.position()) * 3));
        service.handle(91, request ->
        {
            throw new io.dmkv.rdma.RpcException(io.dmkv.rdma.RpcStatus.BAD_REQUEST, "no such thing");
        });
        try (VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults()))
        {
            final TcpVerbsChannel channel = (TcpVerbsChannel)client.channel(0);
            final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            final List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < 4; t++)
            {
                final int id = t;
                callers.add(new Thread(() ->
                {
                    try
                    {
                        final io.dmkv.rdma.InlineLane lane = channel.inlineLane();
                        final java.nio.ByteBuffer request = java.nio.ByteBuffer.allocate(8);
                        for (long i = 0; i < 200; i++)
                        {
                            final long n = id * 1000L + i;
                            final java.nio.ByteBuffer answer = lane.rpc(90, request.putLong(0, n));
                            assertEquals(8, answer.remaining());
                            assertEquals(3 * n, answer.getLong(answer.position()), "thread " + id);
                            if (i % 50 == 0)
                            {
                                final io.dmkv.rdma.RpcException refused = org.junit.jupiter.api.Assertions.assertThrows(
                                    io.dmkv.rdma.RpcException.class, () -> lane.rpc(91, request));
                                assertEquals(io.dmkv.rdma.RpcStatus.BAD_REQUEST, refused.status());
                                assertTrue(refused.getMessage().contains("no such thing"), refused.getMessage());
                            }
                        }
                    }
                    catch (final Throwable e)
                    {
                        errors.add(e);
                    }
                }, "rpc-" + t));
            }
            callers.forEach(Thread::start);
            for (final Thread th : callers)
            {
                th.join();
            }
            assertTrue(errors.isEmpty(), "calls failed: " + errors);
            assertEquals(4, channel.laneCount(), "one lane per calling thread");
            assertEquals(4 * (200 + 4), client.counters().rpcs(), "each call counted once");
        }
        assertEquals(0, server.protocolErrors());
    }

    @Test
    void closingTheClientClosesItsLanes()
    {
        final VerbsClient client = VerbsClient.connect(transport, List.of(server.endpoint()), ClientOptions.defaults());
        final VerbBatch b = new VerbBatch();
        b.read(client.channel(0).region(0), 0, new org.agrona.concurrent.UnsafeBuffer(new byte[8]), 0, 8);
        client.execute(b);
        final TcpVerbsChannel channel = (TcpVerbsChannel)client.channel(0);
        assertEquals(1, channel.laneCount());
        client.close();
        assertEquals(0, channel.laneCount());
    }
}
