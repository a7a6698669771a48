package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.CompletionTrampoline;

/**
 * The store's asynchronous contract (docs/architecture.md): one thread keeps many operations in
 * flight; futures never complete on a network thread; inline completions do not recurse; a
 * blocking call made while a thread completes verbs fails at once; more than
 * {@code maxInFlight} operations wait for room, then time out.
 */
@Timeout(120)
class AsyncContractTest
{
    private static KvConfig.Builder small(final EmbeddedCluster cluster, final int r)
    {
        return KvConfig.builder().memnodes(cluster.endpoints()).transport(cluster.transport()).replication(r)
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(2 << 20);
    }

    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void oneThreadStartsManyOperationsWithoutWaitingAndAllComplete() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore kv = KvStore.open(small(cluster, 2)
                .build()))
        {
            final List<CompletableFuture<Void>> puts = new ArrayList<>();
            for (int i = 0; i < 256; i++)
            {
                puts.add(kv.putAsync(b("k" + i), new byte[1024]));
            }
            CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            final List<CompletableFuture<byte[]>> gets = new ArrayList<>();
            for (int i = 0; i < 256; i++)
            {
                gets.add(kv.getAsync(b("k" + i)));
            }
            for (final CompletableFuture<byte[]> g : gets)
            {
                assertEquals(1024, g.get(60, TimeUnit.SECONDS).length);
            }
            final KvStats.Operations ops = kv.stats().operations();
            assertEquals(0, ops.inFlight(), "all finished: " + ops);
            assertEquals(512, ops.completed());
            System.out.println("one thread, 256 puts then 256 gets without waiting on tcp: " + ops);
        }
    }

    @Test
    void futuresCompleteOnCallbackThreadsNeverOnNetworkThreads() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 16L << 20, 4L << 20, "tcp");
            KvStore kv = KvStore.open(small(cluster, 1).build()))
        {
            kv.put("a", "1");
            final String caller = Thread.currentThread().getName();
            final List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
            final List<String> nested = new java.util.concurrent.CopyOnWriteArrayList<>();
            final List<CompletableFuture<?>> all = new ArrayList<>();
            for (int i = 0; i < 64; i++)
            {
                all.add(kv.getAsync(b("a")).whenComplete((v, e) ->
                {
                    threads.add(Thread.currentThread().getName());
                    // A user callback may block on the store: it does not run where verbs complete.
                    nested.add(kv.get("a"));
                }));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            assertEquals(64, nested.stream().filter("1"::equals).count());
            for (final String t : threads)
            {
                // Attached after completion, a callback runs on the thread that attached it (the caller).
                assertTrue(t.startsWith("dmkv-callback-") || t.equals(caller), "completed on " + t);
            }
            assertTrue(threads.stream().anyMatch(t -> t.startsWith("dmkv-callback-")), threads.toString());
        }
    }

    @Test
    void inlineCompletionsOfALongChainDoNotRecurse() throws Exception
    {
        // local completes every batch inside post: 20,000 dependent async calls chained from each
        // other's completions would overflow the stack without the trampoline.
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 32L << 20, 8L << 20, "local");
            KvStore kv = KvStore.open(small(cluster, 1).build()))
        {
            final int n = 20_000;
            final AtomicInteger left = new AtomicInteger(n);
            final CompletableFuture<Void> all = new CompletableFuture<>();
            final Runnable[] next = new Runnable[1];
            next[0] = () ->
            {
                final int i = left.decrementAndGet();
                if (i < 0)
                {
                    all.complete(null);
                    return;
                }
                kv.putAsync(b("chain" + (i % 100)), b("v" + i)).whenComplete((v, e) ->
                {
                    if (e != null)
                    {
                        all.completeExceptionally(e);
                    }
                    else
                    {
                        next[0].run();
                    }
                });
            };
            next[0].run();
            all.get(90, TimeUnit.SECONDS);
            assertEquals("v0", kv.get("chain0"));
        }
    }

    @Test
    void aBlockingCallInsideAVerbCompletionFailsAtOnce() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 16L << 20, 4L << 20, "local");
            KvStore kv = KvStore.open(small(cluster, 1).build()))
        {
            kv.put("a", "1");
            final io.dmkv.rdma.VerbsClient client = io.dmkv.rdma.VerbsClient.connect(
                io.dmkv.rdma.VerbsTransports.create("local"), cluster.endpoints(), io.dmkv.rdma.ClientOptions.defaults());
            try
            {
                final io.dmkv.rdma.VerbBatch batch = new io.dmkv.rdma.VerbBatch();
                batch.read(client.channel(0).region(0), 0, new org.agrona.concurrent.UnsafeBuffer(new byte[8]), 0, 8);
                final AtomicReference<Throwable> seen = new AtomicReference<>();
                final AtomicReference<Boolean> inCompletion = new AtomicReference<>();
                client.post(batch, (bb, failure) ->
                {
                    inCompletion.set(CompletionTrampoline.inCompletion());
                    try
                    {
                        kv.get("a");
                    }
                    catch (final Throwable t)
                    {
                        seen.set(t);
                    }
                });
                assertEquals(Boolean.TRUE, inCompletion.get(), "local ran the listener inline, as a completion");
                assertInstanceOf(IllegalStateException.class, seen.get());
                assertTrue(seen.get().getMessage().contains("*Async"), seen.get().getMessage());
            }
            finally
            {
                client.close();
            }
        }
    }

    @Test
    void oneThreadKeepsManyInFlightAndBeyondMaxInFlightACallWaitsThenTimesOut() throws Exception
    {
        // An index whose operations finish only when the test says so.
        final List<io.dmkv.computenode.ops.OpCompletion<byte[]>> pending = new java.util.concurrent.CopyOnWriteArrayList<>();
        final io.dmkv.computenode.ops.KeyIndex index = new io.dmkv.computenode.ops.KeyIndex()
        {
            @Override
            public void search(final byte[] key, final long hash, final io.dmkv.computenode.ops.OpCompletion<byte[]> done)
            {
                pending.add(done);
            }

            @Override
            public void mutate(final io.dmkv.computenode.ops.Mode mode, final byte[] key, final long hash,
                final byte[] value, final io.dmkv.computenode.ops.OpCompletion<io.dmkv.computenode.ops.Result> done)
            {
                throw new AssertionError("not used");
            }

            @Override
            public void flush()
            {
            }
        };
        final KvConfig config = KvConfig.builder().memnodes("mem:unused").maxInFlight(2)
            .opTimeout(Duration.ofMillis(600)).insertLockLease(Duration.ofMillis(200))
            .snapshotHelpDelay(Duration.ofMillis(100)).build();
        try (OperationGate gate = new OperationGate(index, config))
        {
            // One thread starts calls without waiting: they are all in flight at once (the gate
            // neither blocks nor runs them on the caller's thread while there is room).
            final KvConfig wide = KvConfig.builder().memnodes("mem:unused").maxInFlight(64).build();
            try (OperationGate many = new OperationGate(index, wide))
            {
                for (int i = 0; i < 64; i++)
                {
                    many.searchAsync(b("k" + i));
                }
                assertEquals(64, many.counter().inFlight());
                assertEquals(64, many.counter().peakInFlight(), "one thread kept 64 operations in flight");
                for (final io.dmkv.computenode.ops.OpCompletion<byte[]> p : pending)
                {
                    p.complete(null, null);
                }
                assertEquals(0, many.counter().inFlight());
                pending.clear();
            }
            final CompletableFuture<byte[]> a = gate.searchAsync(b("a"));
            final CompletableFuture<byte[]> c = gate.searchAsync(b("c"));
            assertEquals(2, gate.counter().inFlight());
            // A third waits up to the operation timeout, then fails naming the setting.
            final CompletableFuture<byte[]> third = gate.searchAsync(b("d"));
            final ExecutionException e = assertThrows(ExecutionException.class, () -> third.get(10, TimeUnit.SECONDS));
            assertInstanceOf(KvTimeoutException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains(KvConfig.MAX_IN_FLIGHT), e.getCause().getMessage());
            assertEquals(2, pending.size(), "the third never reached the index");
            // Room again once one finishes; a waiting caller gets in.
            final CompletableFuture<byte[]> fourth = CompletableFuture.supplyAsync(() -> gate.search(b("e")));
            Thread.sleep(50);
            pending.get(0).complete(b("A"), null);
            assertArrayEquals(b("A"), a.get(10, TimeUnit.SECONDS));
            while (pending.size() < 3)
            {
                Thread.onSpinWait();
            }
            pending.get(2).complete(b("E"), null);
            assertArrayEquals(b("E"), fourth.get(10, TimeUnit.SECONDS));
            pending.get(1).complete(null, new IllegalStateException("boom"));
            final ExecutionException failed = assertThrows(ExecutionException.class, () -> c.get(10, TimeUnit.SECONDS));
            assertEquals("boom", failed.getCause().getMessage());
            assertEquals(0, gate.counter().inFlight());
            assertEquals(2, gate.counter().peakInFlight());
        }
    }
}
