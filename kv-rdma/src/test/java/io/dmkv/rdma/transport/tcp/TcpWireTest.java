package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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

import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.contract.Fixtures;
import io.dmkv.rdma.contract.TransportFixture;

/**
 * The tcp client's two ways onto the socket at once: blocking posts from many threads (written by
 * the posting thread when the wire is free, queued when it is not), chains of posts made from
 * completions on the event loop (always queued), and writes larger than the socket takes in one
 * go. Checked: every FAA's old value is handed out exactly once, and a READ after a WRITE in one
 * batch sees that WRITE.
 */
@Timeout(120)
class TcpWireTest
{
    private static final int COUNTER = 0;
    private TransportFixture fixture;
    private TcpVerbsTransport transport;
    private VerbsClient client;

    @BeforeEach
    void start()
    {
        fixture = Fixtures.tcp();
        transport = new TcpVerbsTransport();
        client = fixture.connect(transport, ClientOptions.builder().requestTimeout(Duration.ofSeconds(60)).build());
    }

    @AfterEach
    void stop()
    {
        client.close();
        transport.close();
        fixture.close();
    }

    @Test
    void blockingPostsAndChainsFromCompletionsInterleaveWithoutLosingOrDuplicatingAVerb() throws Exception
    {
        final RemoteRegion r = client.channel(0).region(0);
        final int threads = 4;
        final int perThread = 600;
        final int chains = 3;
        final int perChain = 600;
        final int total = threads * perThread + chains * perChain;
        final BitSet handedOut = new BitSet(total);
        final int[] duplicates = {0};
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> blocking = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                blocking.add(pool.submit(() ->
                {
                    final VerbBatch b = new VerbBatch();
                    final UnsafeBuffer src = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
                    final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
                    final long slot = 4096 + 64L * thread;
                    for (int i = 0; i < perThread; i++)
                    {
                        src.putLong(0, i * 1000L + thread);
                        b.reset();
                        final int faa = b.faa(r, COUNTER, 1);
                        b.write(r, slot, src, 0, 8);
                        b.read(r, slot, dst, 0, 8);
                        client.execute(b);
                        assertEquals(i * 1000L + thread, dst.getLong(0), "a READ sees the WRITE before it");
                        record(handedOut, duplicates, b.result(faa));
                    }
                    return null;
                }));
            }
            final CountDownLatch chainsDone = new CountDownLatch(chains);
            final AtomicReference<Throwable> chainFailure = new AtomicReference<>();
            for (int c = 0; c < chains; c++)
            {
                final VerbBatch b = new VerbBatch();
                final int[] left = {perChain};
                final BatchListener next = new BatchListener()
                {
                    @Override
                    public void batchCompleted(final VerbBatch batch, final Throwable failure)
                    {
                        if (failure != null)
                        {
                            chainFailure.compareAndSet(null, failure);
                            chainsDone.countDown();
                            return;
                        }
                        record(handedOut, duplicates, batch.result(0));
                        if (--left[0] == 0)
                        {
                            chainsDone.countDown();
                            return;
                        }
                        batch.reset().faa(r, COUNTER, 1);
                        client.post(batch, this);
                    }
                };
                b.faa(r, COUNTER, 1);
                client.post(b, next);
            }
            for (final Future<?> f : blocking)
            {
                f.get(100, TimeUnit.SECONDS);
            }
            assertTrue(chainsDone.await(100, TimeUnit.SECONDS), "every chain finished");
            assertNull(chainFailure.get());
        }
        finally
        {
            pool.shutdownNow();
        }
        synchronized (handedOut)
        {
            assertEquals(0, duplicates[0], "no old value handed out twice");
            assertEquals(total, handedOut.cardinality(), "each old value 0.." + (total - 1) + " handed out");
            assertEquals(total, handedOut.length());
        }
        final VerbBatch check = new VerbBatch();
        final UnsafeBuffer counter = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
        check.read(r, COUNTER, counter, 0, 8);
        client.execute(check);
        assertEquals(total, counter.getLong(0));
    }

    @Test
    void writesLargerThanTheSocketTakesAtOnceArriveWholeFromManyThreads() throws Exception
    {
        final int threads = 4;
        final int bytes = 192 << 10;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                done.add(pool.submit(() ->
                {
                    final RemoteRegion r = client.channel(thread % 2).region(1 + thread / 2);
                    final UnsafeBuffer src = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
                    final UnsafeBuffer dst = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
                    final VerbBatch b = new VerbBatch();
                    for (int round = 0; round < 20; round++)
                    {
                        for (int i = 0; i < bytes; i += 8)
                        {
                            src.putLong(i, ((long)thread << 48) | ((long)round << 32) | i);
                        }
                        b.reset().write(r, 0, src, 0, bytes);
                        b.read(r, 0, dst, 0, bytes);
                        client.execute(b);
                        for (int i = 0; i < bytes; i += 8)
                        {
                            assertEquals(src.getLong(i), dst.getLong(i), "byte " + i + " of round " + round);
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> f : done)
            {
                f.get(100, TimeUnit.SECONDS);
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static void record(final BitSet handedOut, final int[] duplicates, final long oldValue)
    {
        synchronized (handedOut)
        {
            if (oldValue < 0 || oldValue > Integer.MAX_VALUE || handedOut.get((int)oldValue))
            {
                duplicates[0]++;
            }
            else
            {
                handedOut.set((int)oldValue);
            }
        }
    }
}
