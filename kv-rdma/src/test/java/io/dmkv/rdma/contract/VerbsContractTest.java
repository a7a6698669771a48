// Over 500 lines: the one contract every transport (local, shared-file local, tcp, rdma) passes
// unchanged; splitting it would let a transport skip part of it.
package io.dmkv.rdma.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * The contract every transport keeps. Subclasses only say how to build memory nodes and reach
 * them; every assertion here holds unchanged for local, tcp and rdma.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class VerbsContractTest
{
    static final int ECHO_METHOD = 7;
    static final int FAILING_METHOD = 8;

    protected TransportFixture fixture;
    protected VerbsTransport transport;
    protected VerbsClient client;

    /** Two memory nodes of at least 4 MiB each, split into regions of 1 MiB (and a smaller tail). */
    protected abstract TransportFixture createFixture();

    @BeforeEach
    void start()
    {
        fixture = createFixture();
        for (final var s : fixture.services())
        {
            s.handle(ECHO_METHOD, request -> ByteBuffer.allocate(request.remaining() + 1).put((byte)'!').put(request).flip());
            s.handle(FAILING_METHOD, request ->
            {
                throw new IllegalStateException("handler exploded");
            });
        }
        transport = fixture.newTransport();
        client = fixture.connect(transport, ClientOptions.builder().requestTimeout(Duration.ofSeconds(30)).build());
    }

    @AfterEach
    void stop()
    {
        if (client != null)
        {
            client.close();
        }
        if (transport != null)
        {
            transport.close();
        }
        if (fixture != null)
        {
            fixture.close();
        }
    }

    RemoteRegion region(final int node, final int id)
    {
        return client.channel(node).region(id);
    }

    @Test
    void helloDescribesEveryRegionOfEveryNode()
    {
        assertEquals(2, client.nodeCount());
        for (int n = 0; n < 2; n++)
        {
            final var expected = fixture.services().get(n).regions();
            final List<RemoteRegion> regions = client.channel(n).regions();
            assertEquals(expected.count(), regions.size());
            for (int i = 0; i < regions.size(); i++)
            {
                assertEquals(expected.regions().get(i).key(), regions.get(i).key());
                assertEquals(expected.regions().get(i).length(), regions.get(i).length());
            }
            assertEquals(fixture.services().get(n).name(), client.channel(n).node().name());
        }
    }

    @Test
    void writeThenReadRoundTripsAtManySizesAndOffsets()
    {
        final RemoteRegion r = region(0, 0);
        final Random random = new Random(42);
        final int[] sizes = {1, 7, 8, 63, 64, 65, 255, 4096, 65_539, 512 * 1024};
        for (final int size : sizes)
        {
            final long[] offsets = {0, 1, 13, 4095, r.length() - size};
            for (final long offset : offsets)
            {
                final byte[] data = new byte[size];
                random.nextBytes(data);
                final VerbBatch w = new VerbBatch();
                w.write(r, offset, new UnsafeBuffer(data), 0, size);
                client.execute(w);
                final byte[] back = new byte[size + 2];
                final VerbBatch rd = new VerbBatch();
                rd.read(r, offset, new UnsafeBuffer(back), 1, size);
                client.execute(rd);
                final byte[] got = new byte[size];
                System.arraycopy(back, 1, got, 0, size);
                assertArrayEquals(data, got, "size " + size + " at offset " + offset);
                assertEquals(0, back[0], "READ wrote before its destination offset");
                assertEquals(0, back[size + 1], "READ wrote past its length");
            }
        }
    }

    @Test
    void readIntoOffHeapBufferSeesWrittenBytes()
    {
        final RemoteRegion r = region(1, 1);
        final UnsafeBuffer src = new UnsafeBuffer(ByteBuffer.allocateDirect(1000));
        for (int i = 0; i < 1000; i++)
        {
            src.putByte(i, (byte)(i * 7));
        }
        final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(1000));
        final VerbBatch b = new VerbBatch();
        b.write(r, 100, src, 0, 1000);
        b.read(r, 100, dst, 0, 1000);
        client.execute(b);
        for (int i = 0; i < 1000; i++)
        {
            assertEquals(src.getByte(i), dst.getByte(i));
        }
    }

    @Test
    void aLendableReadFindsTheWrittenBytesWhereverTheTransportLeftThem()
    {
        final RemoteRegion r = region(0, 0);
        final byte[] data = new byte[1500];
        new Random(7).nextBytes(data);
        final VerbBatch w = new VerbBatch();
        w.write(r, 2048, new UnsafeBuffer(data), 0, data.length);
        client.execute(w);
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[1600]);
        final VerbBatch b = new VerbBatch();
        final int plain = b.read(r, 2048, dst, 0, 8);
        final int lendable = b.readLendable(r, 2048, dst, 100, data.length);
        client.execute(b);
        assertFalse(b.isLent(plain), "a plain READ is always copied");
        assertEquals(data[0], dst.getByte(0));
        final byte[] got = new byte[data.length];
        b.source(lendable).getBytes(b.sourceOffset(lendable), got);
        assertArrayEquals(data, got);
        if (b.isLent(lendable))
        {
            assertEquals(0, dst.getByte(100), "a lent READ copies nothing into its destination");
        }
        else
        {
            assertSame(dst, b.source(lendable));
            assertEquals(100, b.sourceOffset(lendable));
        }
        assertEquals(2, b.reads());
        assertEquals(8 + data.length, b.bytesIn(), "a lendable READ counts as the READ it is");
        b.reset();
        final int again = b.read(r, 2048, dst, 200, 16);
        client.execute(b);
        assertFalse(b.isLent(again), "a reset batch forgets what was lent");
        assertSame(dst, b.source(again));
        assertEquals(data[0], dst.getByte(200));
    }

    @Test
    void casSucceedsWhenExpectedMatchesAndReturnsOldValue()
    {
        final RemoteRegion r = region(0, 0);
        final VerbBatch b = new VerbBatch();
        final int i = b.cas(r, 64, 0, 0x1234_5678_9ABC_DEF0L);
        client.execute(b);
        assertEquals(0, b.result(i));
        assertTrue(b.casSucceeded(i));
        assertEquals(0x1234_5678_9ABC_DEF0L, readLong(r, 64));
    }

    @Test
    void casFailsWhenExpectedDiffersAndReturnsCurrentValue()
    {
        final RemoteRegion r = region(0, 0);
        writeLong(r, 128, 77);
        final VerbBatch b = new VerbBatch();
        final int i = b.cas(r, 128, 5, 99);
        client.execute(b);
        assertEquals(77, b.result(i));
        assertFalse(b.casSucceeded(i));
        assertEquals(77, readLong(r, 128));
    }

    @Test
    void faaAddsAndReturnsOldValue()
    {
        final RemoteRegion r = region(1, 0);
        writeLong(r, 8, 40);
        final VerbBatch b = new VerbBatch();
        final int first = b.faa(r, 8, 2);
        final int second = b.faa(r, 8, -50);
        client.execute(b);
        assertEquals(40, b.result(first));
        assertEquals(42, b.result(second));
        assertEquals(-8, readLong(r, 8));
    }

    @Test
    void concurrentFaaFromManyThreadsGivesTheExactSum() throws Exception
    {
        final RemoteRegion r = region(0, 1);
        final int threads = 8;
        final int perThread = 1500;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<Long>> sums = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int seed = t;
                sums.add(pool.submit(() ->
                {
                    final Random random = new Random(seed);
                    final VerbBatch b = new VerbBatch();
                    long added = 0;
                    for (int i = 0; i < perThread; i++)
                    {
                        final long delta = 1 + random.nextInt(1000);
                        b.reset().faa(r, 512, delta);
                        client.execute(b);
                        added += delta;
                    }
                    return added;
                }));
            }
            long expected = 0;
            for (final Future<Long> f : sums)
            {
                expected += f.get();
            }
            assertEquals(expected, readLong(r, 512));
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentCasIncrementLoopsGiveTheExactCount() throws Exception
    {
        final RemoteRegion r = region(1, 0);
        final int threads = 8;
        final int perThread = 400;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<Integer>> retries = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                retries.add(pool.submit(() ->
                {
                    final VerbBatch b = new VerbBatch();
                    int failed = 0;
                    long seen = readLong(r, 1024);
                    for (int i = 0; i < perThread; i++)
                    {
                        while (true)
                        {
                            final int at = b.reset().cas(r, 1024, seen, seen + 1);
                            client.execute(b);
                            if (b.casSucceeded(at))
                            {
                                seen = seen + 1;
                                break;
                            }
                            seen = b.result(at);
                            failed++;
                        }
                    }
                    return failed;
                }));
            }
            for (final Future<Integer> f : retries)
            {
                f.get();
            }
            assertEquals((long)threads * perThread, readLong(r, 1024));
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void manyAsyncBatchesInFlightAllComplete() throws Exception
    {
        final RemoteRegion r = region(0, 0);
        final List<CompletableFuture<VerbBatch>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++)
        {
            final VerbBatch b = new VerbBatch();
            b.faa(r, 2048, 3);
            futures.add(client.executeAsync(b));
        }
        long previousSum = 0;
        final boolean[] seen = new boolean[500];
        for (final CompletableFuture<VerbBatch> f : futures)
        {
            final long old = f.get(60, TimeUnit.SECONDS).result(0);
            assertEquals(0, old % 3);
            seen[(int)(old / 3)] = true;
            previousSum += old;
        }
        for (int i = 0; i < 500; i++)
        {
            assertTrue(seen[i], "every FAA saw a distinct old value; missing " + i * 3);
        }
        assertEquals(1500, readLong(r, 2048));
        assertEquals(3L * 499 * 500 / 2, previousSum);
    }

    @Test
    void asyncCompletionNeverRunsOnANetworkThread() throws Exception
    {
        final VerbBatch b = new VerbBatch();
        b.faa(region(0, 0), 0, 1);
        final AtomicReference<String> thread = new AtomicReference<>();
        client.executeAsync(b).thenRun(() -> thread.set(Thread.currentThread().getName())).get(30, TimeUnit.SECONDS);
        final String name = thread.get();
        assertTrue(name.equals(Thread.currentThread().getName()) || name.startsWith("dmkv-verbs-completion"),
            "completion ran on " + name);
    }

    @Test
    void writeThenReadPostedBackToBackOnOneConnectionSeesTheWrite() throws Exception
    {
        final RemoteRegion r = region(0, 2);
        final Random random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            final byte[] data = new byte[256];
            random.nextBytes(data);
            final VerbBatch w = new VerbBatch();
            w.write(r, 4096, new UnsafeBuffer(data), 0, data.length);
            final CompletableFuture<VerbBatch> written = client.executeAsync(w);
            final byte[] back = new byte[256];
            final VerbBatch rd = new VerbBatch();
            rd.read(r, 4096, new UnsafeBuffer(back), 0, back.length);
            client.execute(rd);
            assertArrayEquals(data, back, "round " + round);
            written.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void readerPollingTheLastByteOfALargeWriteNeverSeesItBeforeTheRest() throws Exception
    {
        final RemoteRegion r = region(1, 1);
        final int size = 256 * 1024;
        final int rounds = 40;
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        final VerbsClient readerClient = fixture.connect(transport, ClientOptions.defaults());
        try
        {
            final Future<?> writer = pool.submit(() ->
            {
                final byte[] data = new byte[size];
                final VerbBatch w = new VerbBatch();
                for (int k = 1; k <= rounds; k++)
                {
                    java.util.Arrays.fill(data, (byte)k);
                    w.reset().write(r, 0, new UnsafeBuffer(data), 0, size);
                    client.execute(w);
                }
            });
            final Future<Integer> reader = pool.submit(() ->
            {
                final UnsafeBuffer last = new UnsafeBuffer(new byte[1]);
                final UnsafeBuffer all = new UnsafeBuffer(new byte[size]);
                final VerbBatch poll = new VerbBatch();
                final VerbBatch full = new VerbBatch();
                int checks = 0;
                int seen = 0;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (seen < rounds && System.nanoTime() < deadline)
                {
                    poll.reset().read(r, size - 1, last, 0, 1);
                    readerClient.execute(poll);
                    final int k = last.getByte(0);
                    if (k > seen)
                    {
                        full.reset().read(r, 0, all, 0, size);
                        readerClient.execute(full);
                        for (int i = 0; i < size; i++)
                        {
                            final int b = all.getByte(i);
                            if (b < k)
                            {
                                throw new AssertionError("byte " + i + " is " + b + " though the last byte was " + k);
                            }
                        }
                        checks++;
                        seen = k;
                    }
                }
                return checks;
            });
            writer.get(90, TimeUnit.SECONDS);
            assertTrue(reader.get(90, TimeUnit.SECONDS) > 0, "the reader checked at least one completed write");
        }
        finally
        {
            pool.shutdownNow();
            readerClient.close();
        }
    }

    @Test
    void mixedBatchAcrossTwoMemoryNodesIsOneRoundTrip()
    {
        final RemoteRegion a = region(0, 0);
        final RemoteRegion b = region(1, 0);
        writeLong(a, 256, 10);
        final byte[] payload = "hello, node 1".getBytes(StandardCharsets.US_ASCII);
        final byte[] back = new byte[payload.length];
        final VerbCounters.Snapshot before = client.counters();
        final VerbCounters.Snapshot before0 = client.channel(0).counters().snapshot();
        final VerbCounters.Snapshot before1 = client.channel(1).counters().snapshot();
        final VerbBatch batch = new VerbBatch();
        batch.write(b, 300, new UnsafeBuffer(payload), 0, payload.length);
        final int cas = batch.cas(a, 256, 10, 11);
        final int faa = batch.faa(b, 320, 5);
        batch.read(b, 300, new UnsafeBuffer(back), 0, back.length);
        client.execute(batch);
        final VerbCounters.Snapshot delta = client.counters().minus(before);
        assertEquals(1, delta.roundTrips());
        assertEquals(4, delta.verbs());
        assertEquals(1, delta.writes());
        assertEquals(1, delta.reads());
        assertEquals(1, delta.cas());
        assertEquals(1, delta.faa());
        assertEquals(2, batch.partCount());
        final VerbCounters.Snapshot node0 = client.channel(0).counters().snapshot().minus(before0);
        final VerbCounters.Snapshot node1 = client.channel(1).counters().snapshot().minus(before1);
        assertEquals(1, node0.roundTrips(), "one frame to node 0");
        assertEquals(1, node1.roundTrips(), "one frame to node 1");
        assertEquals(1, node0.verbs());
        assertEquals(3, node1.verbs());
        assertEquals(payload.length + 8, node1.bytesOut(), "WRITE payload plus the FAA operand");
        assertTrue(batch.casSucceeded(cas));
        assertEquals(0, batch.result(faa));
        assertArrayEquals(payload, back);
        assertEquals(11, readLong(a, 256));
    }

    @Test
    void countersOfRandomBatchesToOneOrTwoNodesAddUpToTheVerbsPosted()
    {
        final Random random = new Random(7);
        final UnsafeBuffer scratch = new UnsafeBuffer(new byte[64 * 1024]);
        final VerbBatch batch = new VerbBatch();
        for (int round = 0; round < 60; round++)
        {
            // Expected per node: reads, writes, cas, faa, bytes out, bytes in (the test's own tally).
            final long[][] want = new long[2][6];
            batch.reset();
            final int nodes = round % 3 == 0 ? 2 : 1;
            final int verbs = 1 + random.nextInt(12);
            for (int v = 0; v < verbs; v++)
            {
                final int node = nodes == 2 ? random.nextInt(2) : round % 2;
                final RemoteRegion r = region(node, 0);
                final long slot = 8L * random.nextInt(1024);
                final int length = 1 + random.nextInt(4000);
                switch (random.nextInt(4))
                {
                    case 0:
                        batch.read(r, 64 * 1024 + slot, scratch, 0, length);
                        want[node][0]++;
                        want[node][5] += length;
                        break;
                    case 1:
                        batch.write(r, 64 * 1024 + slot, scratch, 0, length);
                        want[node][1]++;
                        want[node][4] += length;
                        break;
                    case 2:
                        batch.cas(r, slot, random.nextLong(), random.nextLong());
                        want[node][2]++;
                        want[node][4] += 16;
                        want[node][5] += 8;
                        break;
                    default:
                        batch.faa(r, slot, 1);
                        want[node][3]++;
                        want[node][4] += 8;
                        want[node][5] += 8;
                        break;
                }
            }
            final ThreadCounters thread = ThreadCounters.current();
            final long threadVerbs = thread.verbs;
            final long threadOut = thread.bytesOut;
            final long threadIn = thread.bytesIn;
            final long threadTrips = thread.roundTrips;
            final VerbCounters.Snapshot before = client.counters();
            final VerbCounters.Snapshot[] nodeBefore = {client.channel(0).counters().snapshot(),
                client.channel(1).counters().snapshot()};
            client.execute(batch);
            final VerbCounters.Snapshot all = client.counters().minus(before);
            long out = 0;
            long in = 0;
            for (int n = 0; n < 2; n++)
            {
                final VerbCounters.Snapshot d = client.channel(n).counters().snapshot().minus(nodeBefore[n]);
                final String what = "round " + round + ", node " + n;
                assertEquals(want[n][0], d.reads(), what);
                assertEquals(want[n][1], d.writes(), what);
                assertEquals(want[n][2], d.cas(), what);
                assertEquals(want[n][3], d.faa(), what);
                assertEquals(want[n][4], d.bytesOut(), what);
                assertEquals(want[n][5], d.bytesIn(), what);
                out += want[n][4];
                in += want[n][5];
            }
            assertEquals(1, all.roundTrips(), "round " + round);
            assertEquals(verbs, all.verbs(), "round " + round);
            assertEquals(want[0][0] + want[1][0], all.reads(), "round " + round);
            assertEquals(want[0][2] + want[1][2], all.cas(), "round " + round);
            assertEquals(out, all.bytesOut(), "round " + round);
            assertEquals(in, all.bytesIn(), "round " + round);
            assertEquals(1, thread.roundTrips - threadTrips, "round " + round);
            assertEquals(verbs, thread.verbs - threadVerbs, "round " + round);
            assertEquals(out, thread.bytesOut - threadOut, "round " + round);
            assertEquals(in, thread.bytesIn - threadIn, "round " + round);
        }
    }

    @Test
    void unknownRegionKeyIsRefusedAndTheNodeKeepsServing()
    {
        final RemoteRegion real = region(0, 0);
        final RemoteRegion forged = new RemoteRegion(real.channel(),
            new RegionInfo(real.id(), real.key() ^ 0x5555, real.length(), 0, 0));
        final VerbBatch b = new VerbBatch();
        b.write(real, 0, new UnsafeBuffer(new byte[] {1, 2, 3}), 0, 3);
        b.write(forged, 8, new UnsafeBuffer(new byte[] {9}), 0, 1);
        b.write(real, 16, new UnsafeBuffer(new byte[] {4, 5, 6}), 0, 3);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
        assertEquals(1, e.verbIndex());
        assertTrue(e.getMessage().contains("unknown region"), e.getMessage());
        assertEquals(0x030201, readLong(real, 0) & 0xFFFFFF, "the verb before the refused one was applied");
        assertEquals(0, readLong(real, 16), "the verb after the refused one was not applied");
        assertStillServing();
    }

    @Test
    void unknownRegionIdIsRefused()
    {
        final RemoteRegion real = region(1, 0);
        final RemoteRegion forged = new RemoteRegion(real.channel(), new RegionInfo(999, real.key(), 64, 0, 0));
        final VerbBatch b = new VerbBatch();
        b.faa(forged, 0, 1);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
        assertStillServing();
    }

    @Test
    void outOfBoundsAccessIsRefusedByTheMemoryNode()
    {
        final RemoteRegion real = region(0, 0);
        final RemoteRegion lying = new RemoteRegion(real.channel(),
            new RegionInfo(real.id(), real.key(), real.length() * 4, 0, 0));
        final VerbBatch b = new VerbBatch();
        b.read(lying, real.length() - 4, new UnsafeBuffer(new byte[64]), 0, 64);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.OUT_OF_BOUNDS, e.reason());
        final VerbBatch c = new VerbBatch();
        c.cas(lying, real.length(), 0, 1);
        assertEquals(RemoteAccessException.Reason.OUT_OF_BOUNDS,
            assertThrows(RemoteAccessException.class, () -> client.execute(c)).reason());
        assertStillServing();
    }

    @Test
    void badAccessesAreRejectedBeforeAnyByteMoves()
    {
        final RemoteRegion r = region(0, 0);
        final VerbBatch b = new VerbBatch();
        assertEquals(RemoteAccessException.Reason.MISALIGNED,
            assertThrows(RemoteAccessException.class, () -> b.cas(r, 4, 0, 1)).reason());
        assertEquals(RemoteAccessException.Reason.MISALIGNED,
            assertThrows(RemoteAccessException.class, () -> b.faa(r, 9, 1)).reason());
        assertEquals(RemoteAccessException.Reason.OUT_OF_BOUNDS,
            assertThrows(RemoteAccessException.class, () -> b.read(r, r.length(), new UnsafeBuffer(new byte[1]), 0, 1)).reason());
        assertEquals(RemoteAccessException.Reason.OUT_OF_BOUNDS,
            assertThrows(RemoteAccessException.class, () -> b.write(r, -1, new UnsafeBuffer(new byte[1]), 0, 1)).reason());
        assertEquals(RemoteAccessException.Reason.BAD_LENGTH,
            assertThrows(RemoteAccessException.class, () -> b.read(r, 0, new UnsafeBuffer(new byte[1]), 0, 0)).reason());
        assertThrows(IllegalArgumentException.class, () -> b.read(r, 0, new UnsafeBuffer(new byte[4]), 2, 4));
        assertEquals(0, b.size());
        assertThrows(IllegalStateException.class, () -> client.execute(b));
        assertStillServing();
    }

    @Test
    void layoutVersionMismatchIsRefusedWithAClearError()
    {
        final HandshakeException e = assertThrows(HandshakeException.class,
            () -> fixture.connect(transport, ClientOptions.builder().layoutVersion(99).build()));
        assertTrue(e.getMessage().contains("layout version mismatch"), e.getMessage());
        assertStillServing();
    }

    @Test
    void rpcReachesTheMemoryNodeHandler()
    {
        final ByteBuffer response = client.rpc(1, ECHO_METHOD, ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("!ping", StandardCharsets.US_ASCII.decode(response).toString());
        assertTrue(client.counters().rpcs() >= 1);
    }

    @Test
    void rpcToAnUnknownMethodOrAFailingHandlerRaisesRpcException()
    {
        final RpcException unknown = assertThrows(RpcException.class, () -> client.rpc(0, 4242, ByteBuffer.allocate(0)));
        assertEquals(RpcStatus.UNKNOWN_METHOD, unknown.status());
        final RpcException failed = assertThrows(RpcException.class, () -> client.rpc(0, FAILING_METHOD, ByteBuffer.allocate(3)));
        assertEquals(RpcStatus.FAILED, failed.status());
        assertTrue(failed.getMessage().contains("handler exploded"), failed.getMessage());
        assertStillServing();
    }

    @Test
    void asyncRpcCompletesOffTheNetworkThreads() throws Exception
    {
        final AtomicReference<String> thread = new AtomicReference<>();
        client.rpcAsync(0, ECHO_METHOD, ByteBuffer.allocate(2))
            .thenAccept(r -> thread.set(Thread.currentThread().getName())).get(30, TimeUnit.SECONDS);
        assertFalse(thread.get().contains("tcp-client"), "ran on " + thread.get());
    }

    @Test
    void closedClientRefusesNewBatches()
    {
        client.close();
        final VerbBatch b = new VerbBatch();
        b.faa(region(0, 0), 0, 1);
        assertThrows(ConnectionException.class, () -> client.execute(b));
    }

    @Test
    void failedAsyncBatchCompletesExceptionally()
    {
        final RemoteRegion real = region(0, 0);
        final RemoteRegion forged = new RemoteRegion(real.channel(), new RegionInfo(real.id(), 1, real.length(), 0, 0));
        final VerbBatch b = new VerbBatch();
        b.faa(forged, 0, 1);
        final ExecutionException e = assertThrows(ExecutionException.class,
            () -> client.executeAsync(b).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RemoteAccessException, e.getCause().toString());
    }

    @Test
    void aBatchCanBeReusedAfterCompletion()
    {
        final RemoteRegion r = region(0, 0);
        final VerbBatch b = new VerbBatch();
        for (int i = 0; i < 50; i++)
        {
            b.reset();
            final int at = b.faa(r, 4000, 1);
            client.execute(b);
            assertEquals(i, b.result(at));
        }
    }

    /** Another client, and this one, can still do verbs on every node. */
    protected void assertStillServing()
    {
        try (VerbsClient other = fixture.connect(transport, ClientOptions.defaults()))
        {
            for (int n = 0; n < 2; n++)
            {
                final VerbBatch b = new VerbBatch();
                b.faa(other.channel(n).region(0), 3000, 1);
                other.execute(b);
                final VerbBatch c = new VerbBatch();
                final int at = c.faa(region(n, 0), 3000, 1);
                client.execute(c);
                assertEquals(b.result(0) + 1, c.result(at));
            }
        }
    }

    protected long readLong(final RemoteRegion r, final long offset)
    {
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        b.read(r, offset, buf, 0, 8);
        client.execute(b);
        return buf.getLong(0);
    }

    protected void writeLong(final RemoteRegion r, final long offset, final long value)
    {
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
        buf.putLong(0, value);
        final VerbBatch b = new VerbBatch();
        b.write(r, offset, buf, 0, 8);
        client.execute(b);
    }
}
