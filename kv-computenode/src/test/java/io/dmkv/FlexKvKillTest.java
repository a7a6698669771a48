package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;

/**
 * FlexKV with real processes killed (SIGKILL): a proxy in a JVM of its own dies under a write
 * load, and its partitions move to the surviving proxy with no acknowledged write lost; a writer
 * in a JVM of its own dies between its RPCs and their replies, and recovery leaves the cluster
 * consistent ({@code kv verify}).
 */
@Timeout(240)
class FlexKvKillTest
{
    private static final int KEYS = 60;
    private static final int WRITERS = 3;

    private static KvConfig.Builder parent(final EmbeddedCluster cluster)
    {
        return FlexKvTest.flexkv(cluster, 2).opTimeout(Duration.ofSeconds(6)).proxyHandoverGrace(Duration.ofMillis(300));
    }

    @Test
    void aKilledProxyLosesItsPartitionsToTheSurvivorAndNoAcknowledgedWrite() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore a = KvStore.open(parent(cluster).proxyEnabled(true).build());
            KvStore c = KvStore.open(parent(cluster).mode("").build());
            KvAdmin admin = KvAdmin.open(parent(cluster).mode("").build()))
        {
            final ChildJvm proxy = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2", "proxy");
            try
            {
                final String survivor = FlexKvTest.awaitTwoProxiesBesides(admin, proxy);
                final KvStore[] stores = {a, c};
                final AtomicLongArray acked = new AtomicLongArray(KEYS);
                final AtomicLongArray started = new AtomicLongArray(KEYS);
                final AtomicLong writes = new AtomicLong();
                final AtomicLong timeouts = new AtomicLong();
                final AtomicBoolean stop = new AtomicBoolean();
                final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                final List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++)
                {
                    final int writer = w;
                    threads.add(new Thread(() ->
                    {
                        long seq = 0;
                        while (!stop.get() && seq < 1_000_000)
                        {
                            for (int k = writer; k < KEYS && !stop.get(); k += WRITERS)
                            {
                                started.set(k, ++seq);
                                try
                                {
                                    stores[(int)(seq % 2)].put("kill-" + k, Long.toString(seq));
                                    acked.set(k, seq);
                                    writes.incrementAndGet();
                                }
                                catch (final KvTimeoutException e)
                                {
                                    timeouts.incrementAndGet();
                                }
                                catch (final RuntimeException e)
                                {
                                    errors.add(e);
                                    return;
                                }
                            }
                        }
                    }, "writer-" + w));
                }
                threads.forEach(Thread::start);
                FlexKvTest.await("writes before the kill", () -> writes.get() >= 300 || !errors.isEmpty());
                proxy.close();
                FlexKvTest.await("the survivor serves every partition", () -> FlexKvTest.settledOver(admin,
                    Set.of(survivor)));
                final long afterMove = writes.get();
                FlexKvTest.await("writes after the move", () -> writes.get() >= afterMove + 300 || !errors.isEmpty());
                stop.set(true);
                for (final Thread t : threads)
                {
                    t.join(60_000);
                }
                assertTrue(errors.isEmpty(), "writes failed: " + errors);
                for (int k = 0; k < KEYS; k++)
                {
                    final long got = Long.parseLong(a.get("kill-" + k));
                    assertTrue(got >= acked.get(k) && got <= started.get(k), "key " + k + " holds " + got
                        + ", last acknowledged " + acked.get(k));
                }
                FlexKvTest.await("the killed proxy's client id is recovered", () -> admin.deadClients().isEmpty());
                assertEquals(List.of(), admin.verify(false), "kv verify (" + timeouts.get() + " writes timed out)");
            }
            finally
            {
                proxy.close();
            }
        }
    }

    @Test
    void whenTheLastProxyIsKilledItsPartitionsGoBackToOneSidedMode() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore c = KvStore.open(parent(cluster).build());
            KvAdmin admin = KvAdmin.open(parent(cluster).mode("").build()))
        {
            c.put("before", "one-sided");
            final ChildJvm proxy = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2", "proxy");
            try
            {
                FlexKvTest.await("the child proxies every partition", () -> admin.proxies().size() == 1
                    && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
                for (int k = 0; k < KEYS; k++)
                {
                    c.put("p-" + k, "proxied-" + k);
                }
                proxy.close();
                FlexKvTest.await("every partition is one-sided again", () -> admin.proxies().isEmpty()
                    && FlexKvTest.settledOver(admin, Set.of("-")));
                assertEquals("one-sided", c.get("before"));
                for (int k = 0; k < KEYS; k++)
                {
                    assertEquals("proxied-" + k, c.get("p-" + k), "p-" + k + " written through the dead proxy");
                    c.put("p-" + k, "after-" + k);
                    assertEquals("after-" + k, c.get("p-" + k));
                }
                FlexKvTest.await("the killed proxy's client id is recovered", () -> admin.deadClients().isEmpty());
                assertEquals(List.of(), admin.verify(false), "kv verify");
            }
            finally
            {
                proxy.close();
            }
        }
    }

    @Test
    void aWriterKilledBetweenItsRpcsAndTheirRepliesLeavesTheClusterConsistent() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore a = KvStore.open(parent(cluster).proxyEnabled(true).build());
            KvAdmin admin = KvAdmin.open(parent(cluster).mode("").build()))
        {
            FlexKvTest.await("the proxy serves every partition", () -> FlexKvTest.settledOver(admin,
                admin.proxies().keySet()) && admin.proxies().size() == 1);
            for (int k = 0; k < KEYS; k++)
            {
                a.put("keep-" + k, "v" + k);
            }
            for (int round = 0; round < 2; round++)
            {
                final ChildJvm filler = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(),
                    "tcp", "2", "plain");
                // The child's fill goes through the proxy in this JVM; the child dies in the middle of it.
                final Thread fill = new Thread(() ->
                {
                    try
                    {
                        filler.ask("fill w" + filler.clientId + "- 5000 40");
                    }
                    catch (final java.io.IOException e)
                    {
                        // Killed.
                    }
                });
                fill.start();
                FlexKvTest.await("the writer's first keys land", () -> a.get("w" + filler.clientId + "-20") != null);
                filler.close();
                fill.join(10_000);
            }
            FlexKvTest.await("the killed writers are recovered", () -> admin.deadClients().isEmpty());
            for (int k = 0; k < KEYS; k++)
            {
                assertEquals("v" + k, a.get("keep-" + k));
            }
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }
}
