package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.RegionTable;

/**
 * The rdma channel against a software RNIC ({@link SoftRnic}) that executes the raw work
 * requests the channel encodes. Everything above DiSNI runs as in production: encoding, chaining,
 * selective signaling, credits, staging, completion matching, timeouts and error handling.
 */
final class RdmaVerbsChannelTest
{
    private static final int REGION = 64 * 1024;

    private final AtomicLong now = new AtomicLong(1_000_000L);
    private final ClientOptions options = ClientOptions.builder().requestTimeout(Duration.ofSeconds(30))
        .clock(now::get).build();
    private final AtomicInteger releases = new AtomicInteger();
    private RegionTable memory;
    private SoftRnic rnic;
    private StubControlChannel control;
    private RdmaVerbsChannel channel;
    private VerbsClient client;
    private AgentRunner poller;

    @AfterEach
    void tearDown()
    {
        if (client != null)
        {
            client.close();
        }
        if (poller != null)
        {
            poller.close();
        }
        if (memory != null)
        {
            memory.close();
        }
    }

    @Test
    void writeThenReadRoundTripsThroughTheQueuePair()
    {
        open(RdmaOptions.defaults(), true);
        final UnsafeBuffer src = new UnsafeBuffer(new byte[300]);
        for (int i = 0; i < 300; i++)
        {
            src.putByte(i, (byte)(i * 7));
        }
        final VerbBatch writes = new VerbBatch();
        writes.write(region(1), 1000, src, 100, 200);
        client.execute(writes);

        final byte[] landed = new byte[200];
        memory.regions().get(1).buffer().getBytes(1000, landed);
        final byte[] expected = new byte[200];
        src.getBytes(100, expected);
        assertArrayEquals(expected, landed, "the WRITE landed in the memory node's region");

        final UnsafeBuffer dst = new UnsafeBuffer(new byte[256]);
        final VerbBatch reads = new VerbBatch();
        reads.read(region(1), 1000, dst, 56, 200);
        client.execute(reads);
        final byte[] read = new byte[200];
        dst.getBytes(56, read);
        assertArrayEquals(expected, read);
        assertEquals(0, dst.getByte(55), "READ wrote before its destination offset");
    }

    @Test
    void casSwapsOnlyWhenTheExpectedValueMatchesAndReturnsTheOldValue()
    {
        open(RdmaOptions.defaults(), true);
        memory.regions().get(0).buffer().putLong(4096, 5L);

        final VerbBatch hit = new VerbBatch();
        final int i = hit.cas(region(0), 4096, 5L, 9L);
        client.execute(hit);
        assertEquals(5L, hit.result(i));
        assertTrue(hit.casSucceeded(i));
        assertEquals(9L, memory.regions().get(0).buffer().getLong(4096));

        final VerbBatch miss = new VerbBatch();
        final int j = miss.cas(region(0), 4096, 5L, 11L);
        client.execute(miss);
        assertEquals(9L, miss.result(j));
        assertFalse(miss.casSucceeded(j));
        assertEquals(9L, memory.regions().get(0).buffer().getLong(4096));
    }

    @Test
    void faaAddsAndReturnsTheOldValueAcrossAllSixtyFourBits()
    {
        open(RdmaOptions.defaults(), true);
        memory.regions().get(0).buffer().putLong(8, Long.MAX_VALUE);

        final VerbBatch b = new VerbBatch();
        final int i = b.faa(region(0), 8, 1L);
        final int j = b.faa(region(0), 8, -2L);
        client.execute(b);
        assertEquals(Long.MAX_VALUE, b.result(i));
        assertEquals(Long.MIN_VALUE, b.result(j));
        assertEquals(Long.MAX_VALUE - 1, memory.regions().get(0).buffer().getLong(8));
    }

    @Test
    void atomicsCarryTheirOperandsAndRkeyInTheAtomicUnion()
    {
        open(RdmaOptions.defaults(), true);
        final VerbBatch b = new VerbBatch();
        b.cas(region(1), 64, 0x1111L, 0x2222L);
        b.faa(region(1), 72, 0x33L);
        client.execute(b);

        final List<SoftRnic.Wr> wrs = rnic.executed();
        assertEquals(2, wrs.size());
        final SoftRnic.Wr cas = wrs.get(0);
        final RegionInfo info = region(1).info();
        assertEquals(IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP, cas.opcode());
        assertEquals(info.rdmaAddress() + 64, cas.atomicRemoteAddr());
        assertEquals(0x1111L, cas.compareAdd());
        assertEquals(0x2222L, cas.swap());
        assertEquals(info.rdmaKey(), cas.atomicRkey());
        final SoftRnic.Wr faa = wrs.get(1);
        assertEquals(IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD, faa.opcode());
        assertEquals(0x33L, faa.compareAdd());
        assertEquals(info.rdmaKey(), faa.atomicRkey());
        assertEquals(8, faa.sgeLength());
    }

    @Test
    void aMixedBatchIsOneDoorbellWithOnlyItsLastRequestSignaled()
    {
        open(RdmaOptions.defaults(), true);
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[64]);
        final VerbBatch b = new VerbBatch();
        b.read(region(0), 0, buf, 0, 32);
        b.write(region(0), 128, buf, 32, 16);
        b.cas(region(0), 256, 0, 1);
        b.faa(region(0), 264, 1);
        client.execute(b);

        assertEquals(1, rnic.posts());
        assertEquals(1, rnic.signaledRequests());
        final List<SoftRnic.Wr> wrs = rnic.executed();
        assertEquals(List.of(IbvSendWrDescriptor.IBV_WR_RDMA_READ, IbvSendWrDescriptor.IBV_WR_RDMA_WRITE,
            IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP, IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD),
            wrs.stream().map(SoftRnic.Wr::opcode).toList());
        assertEquals(0, wrs.get(0).flags() & IbvSendWrDescriptor.IBV_SEND_SIGNALED);
        assertEquals(IbvSendWrDescriptor.IBV_SEND_SIGNALED, wrs.get(3).flags());
        assertEquals(List.of(wrs.get(0).wrId() + 1, wrs.get(0).wrId() + 2, wrs.get(0).wrId() + 3),
            wrs.subList(1, 4).stream().map(SoftRnic.Wr::wrId).toList(), "consecutive wr_ids");
    }

    @Test
    void aPartLongerThanOneDoorbellIsChainedAcrossPostsAndCompletesOnce()
    {
        open(RdmaOptions.defaults().withMaxWrPerPost(4), false);
        final VerbBatch b = new VerbBatch();
        for (int k = 0; k < 10; k++)
        {
            memory.regions().get(0).buffer().putLong(k * 8, 100 + k);
            b.faa(region(0), k * 8, 1);
        }
        final List<Throwable> outcomes = new ArrayList<>();
        client.post(b, record(outcomes));
        while (outcomes.isEmpty())
        {
            channel.pollCompletions();
        }
        assertEquals(1, outcomes.size());
        assertNull(outcomes.get(0));
        assertEquals(3, rnic.posts(), "10 requests at 4 per doorbell");
        for (int k = 0; k < 10; k++)
        {
            assertEquals(100 + k, b.result(k));
            assertEquals(101 + k, memory.regions().get(0).buffer().getLong(k * 8));
        }
        assertEquals(0, channel.outstandingWorkRequests());
    }

    @Test
    void partsWaitForSendQueueCreditsAndCompleteInSubmissionOrder()
    {
        open(RdmaOptions.defaults().withSendQueueDepth(4), false);
        rnic.hold(true);
        final List<String> order = Collections.synchronizedList(new ArrayList<>());
        final VerbBatch a = new VerbBatch();
        for (int k = 0; k < 4; k++)
        {
            a.faa(region(0), 0, 1);
        }
        final VerbBatch b = new VerbBatch();
        b.faa(region(0), 0, 10);
        b.faa(region(0), 0, 10);
        client.post(a, (batch, failure) -> order.add("a:" + failure));
        client.post(b, (batch, failure) -> order.add("b:" + failure));
        assertEquals(1, rnic.posts(), "b must wait: the send queue of 4 is full");
        assertEquals(4, channel.outstandingWorkRequests());

        rnic.execute();
        channel.pollCompletions();
        assertEquals(List.of("a:null"), order);
        assertEquals(2, rnic.posts(), "b posted once a's completion returned the credits");

        rnic.execute();
        channel.pollCompletions();
        assertEquals(List.of("a:null", "b:null"), order);
        assertEquals(24, memory.regions().get(0).buffer().getLong(0));
        assertEquals(4, b.result(0), "b ran after every verb of a");
    }

    @Test
    void aPartThatOutgrowsStagingIsPostedInPiecesAsStagingFrees()
    {
        open(RdmaOptions.defaults().withStagingBytes(4096), false);
        rnic.hold(true);
        final UnsafeBuffer pattern = new UnsafeBuffer(new byte[3000]);
        for (int i = 0; i < 3000; i++)
        {
            pattern.putByte(i, (byte)(i % 251));
        }
        memory.regions().get(0).buffer().putBytes(0, pattern, 0, 3000);
        memory.regions().get(1).buffer().putBytes(0, pattern, 0, 3000);
        final UnsafeBuffer d0 = new UnsafeBuffer(new byte[3000]);
        final UnsafeBuffer d1 = new UnsafeBuffer(new byte[3000]);
        final VerbBatch b = new VerbBatch();
        b.read(region(0), 0, d0, 0, 3000);
        b.read(region(1), 0, d1, 0, 3000);
        final List<Throwable> outcomes = new ArrayList<>();
        client.post(b, record(outcomes));
        assertEquals(1, rnic.posts(), "only one 3000-byte READ fits 4096 bytes of staging");

        rnic.execute();
        channel.pollCompletions();
        assertTrue(outcomes.isEmpty(), "the part is not done after its first piece");
        assertEquals(2, rnic.posts());

        rnic.execute();
        channel.pollCompletions();
        assertEquals(1, outcomes.size());
        assertNull(outcomes.get(0));
        assertEquals(pattern, d0);
        assertEquals(pattern, d1);
    }

    @Test
    void aVerbLongerThanStagingIsRefusedAfterTheVerbsBeforeItRan()
    {
        open(RdmaOptions.defaults().withStagingBytes(4096), true);
        final VerbBatch b = new VerbBatch();
        b.faa(region(0), 0, 1);
        b.read(region(0), 0, new UnsafeBuffer(new byte[8192]), 0, 8192);
        b.faa(region(0), 8, 1);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.BAD_LENGTH, e.reason());
        assertEquals(1, e.verbIndex());
        assertTrue(e.getMessage().contains("stagingBytes"), e.getMessage());
        assertEquals(1, rnic.executed().size(), "only the verb before the refused one reached the NIC");
        assertEquals(1, memory.regions().get(0).buffer().getLong(0));
        assertEquals(0, memory.regions().get(0).buffer().getLong(8));
        assertTrue(channel.isOpen());
    }

    @Test
    void aVerbOnAnUnknownKeyIsRefusedWithoutReachingTheNicAndTheChannelStaysUp()
    {
        open(RdmaOptions.defaults(), true);
        final RemoteRegion real = region(0);
        final RemoteRegion forged = new RemoteRegion(channel, new RegionInfo(real.id(), real.key() ^ 0x5555,
            real.length(), real.info().rdmaAddress(), real.info().rdmaKey()));
        final VerbBatch b = new VerbBatch();
        b.write(real, 0, new UnsafeBuffer(new byte[] {1, 2, 3}), 0, 3);
        b.write(forged, 8, new UnsafeBuffer(new byte[] {9}), 0, 1);
        b.write(real, 16, new UnsafeBuffer(new byte[] {4, 5, 6}), 0, 3);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
        assertEquals(1, e.verbIndex());
        assertTrue(e.getMessage().contains("unknown region"), e.getMessage());
        assertEquals(0x030201, memory.regions().get(0).buffer().getInt(0) & 0xFFFFFF, "the verb before ran");
        assertEquals(0, memory.regions().get(0).buffer().getByte(8), "the refused verb did not");
        assertEquals(0, memory.regions().get(0).buffer().getByte(16), "the verb after did not");
        assertEquals(1, rnic.executed().size());
        assertTrue(channel.isOpen());

        final VerbBatch next = new VerbBatch();
        next.faa(real, 24, 2);
        client.execute(next);
        assertEquals(2, memory.regions().get(0).buffer().getLong(24));
    }

    @Test
    void aRegionClaimingMoreBytesThanTheHelloIsRefusedOutOfBounds()
    {
        open(RdmaOptions.defaults(), true);
        final RemoteRegion real = region(0);
        final RemoteRegion lying = new RemoteRegion(channel, new RegionInfo(real.id(), real.key(), real.length() * 4,
            real.info().rdmaAddress(), real.info().rdmaKey()));
        final VerbBatch b = new VerbBatch();
        b.read(lying, real.length() - 4, new UnsafeBuffer(new byte[64]), 0, 64);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(RemoteAccessException.Reason.OUT_OF_BOUNDS, e.reason());
        final VerbBatch unknownId = new VerbBatch();
        unknownId.faa(new RemoteRegion(channel, new RegionInfo(999, real.key(), 64, 0, 0)), 0, 1);
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION,
            assertThrows(RemoteAccessException.class, () -> client.execute(unknownId)).reason());
        assertEquals(0, rnic.posts());
        assertTrue(channel.isOpen());
    }

    @Test
    void theNicAddressAndRkeyComeFromTheHelloNotFromTheCallersRegion()
    {
        open(RdmaOptions.defaults(), true);
        final RemoteRegion real = region(1);
        final RemoteRegion misdirected = new RemoteRegion(channel, new RegionInfo(real.id(), real.key(), real.length(),
            0xDEAD_0000L, 0xBAD));
        final VerbBatch b = new VerbBatch();
        b.faa(misdirected, 40, 7);
        client.execute(b);
        assertEquals(7, memory.regions().get(1).buffer().getLong(40));
        assertEquals(real.info().rdmaKey(), rnic.executed().get(0).atomicRkey());
    }

    @Test
    void aBatchWithoutCompletionTimesOutOnTheClientsClockAndItsBuffersStayUntouched()
    {
        open(RdmaOptions.defaults(), false);
        rnic.hold(true);
        memory.regions().get(0).buffer().putLong(0, 42L);
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        b.read(region(0), 0, dst, 0, 8);
        final List<Throwable> outcomes = new ArrayList<>();
        client.post(b, record(outcomes));

        now.addAndGet(options.requestTimeoutNs() - 1);
        channel.pollCompletions();
        assertTrue(outcomes.isEmpty(), "not late yet");

        now.addAndGet(1);
        channel.pollCompletions();
        assertEquals(1, outcomes.size());
        assertInstanceOf(VerbsTimeoutException.class, outcomes.get(0));
        assertEquals(1, channel.outstandingWorkRequests(), "the NIC still owns the request and its staging");

        rnic.execute();
        channel.pollCompletions();
        assertEquals(1, outcomes.size(), "a timed-out part completes exactly once");
        assertEquals(0L, dst.getLong(0), "a late READ must not write into a batch already handed back");
        assertEquals(0, channel.outstandingWorkRequests());
        assertTrue(channel.isOpen());
    }

    @Test
    void aRemoteAccessErrorFromTheNicFailsThatVerbAndClosesTheChannel()
    {
        open(RdmaOptions.defaults(), false);
        final RemoteRegion good = region(1);
        final RemoteRegion revoked = region(0);
        // The memory node restarted: its NIC no longer knows the rkey the hello gave for region 0.
        rnic.revoke(revoked.info().rdmaKey());
        final UnsafeBuffer src = new UnsafeBuffer(new byte[8]);
        src.putLong(0, 77L);
        final VerbBatch b = new VerbBatch();
        b.write(good, 0, src, 0, 8);
        b.read(revoked, 8, new UnsafeBuffer(new byte[8]), 0, 8);
        b.faa(good, 16, 1);
        final List<Throwable> outcomes = new ArrayList<>();
        client.post(b, record(outcomes));
        final VerbBatch later = new VerbBatch();
        later.faa(good, 24, 1);
        final List<Throwable> laterOutcomes = new ArrayList<>();
        client.post(later, record(laterOutcomes));

        channel.pollCompletions();
        final RemoteAccessException e = assertInstanceOf(RemoteAccessException.class, outcomes.get(0));
        assertEquals(1, e.verbIndex());
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
        assertTrue(e.getMessage().contains("IBV_WC_REM_ACCESS_ERR"), e.getMessage());
        assertInstanceOf(ConnectionException.class, laterOutcomes.get(0));
        assertEquals(77L, memory.regions().get(1).buffer().getLong(0), "verbs before the refused one were applied");
        assertEquals(0L, memory.regions().get(1).buffer().getLong(16), "verbs after it were not");
        assertEquals(0L, memory.regions().get(1).buffer().getLong(24));
        assertFalse(channel.isOpen());
        assertTrue(rnic.isClosed(), "a queue pair in the error state is released");
        assertEquals(1, control.closes.get());
        assertEquals(1, releases.get());

        final VerbBatch afterwards = new VerbBatch();
        afterwards.faa(good, 0, 1);
        assertThrows(ConnectionException.class, () -> client.execute(afterwards));
    }

    @Test
    void closingFailsBatchesInFlightAndReleasesEverythingOnce()
    {
        open(RdmaOptions.defaults(), false);
        rnic.hold(true);
        final VerbBatch b = new VerbBatch();
        b.faa(region(0), 0, 1);
        final List<Throwable> outcomes = new ArrayList<>();
        client.post(b, record(outcomes));

        channel.close();
        channel.close();
        assertEquals(1, outcomes.size());
        assertInstanceOf(ConnectionException.class, outcomes.get(0));
        assertTrue(rnic.isClosed());
        assertEquals(1, control.closes.get());
        assertEquals(1, releases.get());
        assertEquals(0, channel.pollCompletions(), "a closed channel never touches its queue pair");
    }

    @Test
    void aListenerMayPostAgainFromTheCompletingThread()
    {
        open(RdmaOptions.defaults(), false);
        final List<Throwable> second = new ArrayList<>();
        final VerbBatch next = new VerbBatch();
        next.faa(region(0), 0, 5);
        final VerbBatch first = new VerbBatch();
        first.faa(region(0), 0, 1);
        client.post(first, (batch, failure) -> client.post(next, record(second)));

        channel.pollCompletions();
        assertTrue(second.isEmpty());
        channel.pollCompletions();
        assertEquals(1, second.size());
        assertNull(second.get(0));
        assertEquals(1L, next.result(0));
        assertEquals(6L, memory.regions().get(0).buffer().getLong(0));
    }

    @Test
    void rpcsRideOnTheControlChannelAndAreCounted()
    {
        open(RdmaOptions.defaults(), true);
        final ByteBuffer response = client.rpc(0, 9, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertEquals(ByteBuffer.wrap(new byte[] {3, 2, 1}), response);
        assertEquals(1, channel.counters().snapshot().rpcs());
    }

    @Test
    void countersCountVerbsPayloadBytesAndOneRoundTripPerPart()
    {
        open(RdmaOptions.defaults(), true);
        final UnsafeBuffer buf = new UnsafeBuffer(new byte[100]);
        final VerbBatch b = new VerbBatch();
        b.read(region(0), 0, buf, 0, 100);
        b.write(region(1), 0, buf, 0, 40);
        b.cas(region(0), 128, 0, 1);
        b.faa(region(0), 136, 1);
        client.execute(b);
        final VerbCounters.Snapshot s = channel.counters().snapshot();
        assertEquals(1, s.reads());
        assertEquals(1, s.writes());
        assertEquals(1, s.cas());
        assertEquals(1, s.faa());
        assertEquals(100 + 8 + 8, s.bytesIn());
        assertEquals(40 + 16 + 8, s.bytesOut());
        assertEquals(1, s.roundTrips());
    }

    @Test
    void concurrentFetchAndAddsFromManyThreadsEachGetADistinctOldValue() throws Exception
    {
        open(RdmaOptions.defaults().withSendQueueDepth(16).withStagingBytes(4096), true);
        final int threads = 8;
        final int perThread = 2_000;
        final List<Set<Long>> seen = new ArrayList<>();
        final List<Thread> workers = new ArrayList<>();
        final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++)
        {
            final Set<Long> mine = new HashSet<>();
            seen.add(mine);
            final Thread w = new Thread(() ->
            {
                try
                {
                    final VerbBatch b = new VerbBatch();
                    for (int k = 0; k < perThread; k++)
                    {
                        b.reset();
                        final int i = b.faa(region(0), 512, 1);
                        client.execute(b);
                        mine.add(b.result(i));
                    }
                }
                catch (final Throwable e)
                {
                    errors.add(e);
                }
            });
            workers.add(w);
            w.start();
        }
        for (final Thread w : workers)
        {
            w.join();
        }
        assertEquals(List.of(), errors);
        final Set<Long> all = new HashSet<>();
        for (final Set<Long> s : seen)
        {
            all.addAll(s);
        }
        assertEquals(threads * perThread, all.size(), "every FAA saw a distinct old value");
        for (long v = 0; v < threads * perThread; v++)
        {
            assertTrue(all.contains(v), "old value " + v + " missing");
        }
        assertEquals(threads * perThread, memory.regions().get(0).buffer().getLong(512));
    }

    @Test
    void regionsComeFromTheHelloAndPointAtThisChannel()
    {
        open(RdmaOptions.defaults(), false);
        assertEquals(2, channel.regions().size());
        assertSame(channel, channel.region(1).channel());
        assertEquals(memory.regions().get(1).address(), channel.region(1).info().rdmaAddress());
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> channel.region(7));
        assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
    }

    private void open(final RdmaOptions rdma, final boolean withPoller)
    {
        memory = RegionTable.allocate(2L * REGION, REGION);
        rnic = new SoftRnic(memory, rdma.sendQueueDepth(), rdma.stagingBytes());
        control = new StubControlChannel(rnic.regionInfos());
        channel = new RdmaVerbsChannel(control, rnic, options, rdma, Runnable::run, c -> releases.incrementAndGet());
        client = VerbsClient.connect(new OneChannel(channel), List.of("soft:7410"), options);
        if (withPoller)
        {
            final RdmaCompletionPoller agent = new RdmaCompletionPoller();
            agent.add(channel);
            poller = new AgentRunner(new YieldingIdleStrategy(), Throwable::printStackTrace, null, agent);
            AgentRunner.startOnThread(poller);
        }
    }

    private RemoteRegion region(final int id)
    {
        return channel.region(id);
    }

    private static BatchListener record(final List<Throwable> outcomes)
    {
        return (batch, failure) -> outcomes.add(failure);
    }

    /** Hands out the one channel under test. */
    private record OneChannel(VerbsChannel channel) implements VerbsTransport
    {
        @Override
        public String name()
        {
            return "soft-rdma";
        }

        @Override
        public VerbsChannel connect(final String endpoint, final ClientOptions options)
        {
            return channel;
        }

        @Override
        public void close()
        {
        }
    }
}
