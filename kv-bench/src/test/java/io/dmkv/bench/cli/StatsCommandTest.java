package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvStats;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import picocli.CommandLine;

/** {@code kv stats} on a live tcp cluster: the numbers move with what a client does. */
@Timeout(120)
class StatsCommandTest
{
    @Test
    void showsEachNodesBlocksByClientAndEachClientsOperations()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 64L << 20, "tcp");
            KvStore kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).replication(2)
                .metrics("prometheus").metricsPort(0).build()))
        {
            final String memnodes = String.join(",", cluster.endpoints());
            final String before = stats(memnodes, kv.metricsEndpoint());
            for (int i = 0; i < 25; i++)
            {
                kv.put("stats-" + i, "value-" + i);
            }
            kv.get("stats-missing");
            final String after = stats(memnodes, kv.metricsEndpoint());

            final int id = kv.clientId();
            final long opsBefore = number(before, "client " + id + " \\(.*?\\): (\\d+) operations");
            assertEquals(opsBefore + 26, number(after, "client " + id + " \\(.*?\\): (\\d+) operations"), after);
            assertTrue(number(after, "round trips (\\d+)") > number(before, "round trips (\\d+)"), after);
            assertTrue(number(after, "SNAPSHOT rule1 (\\d+)") >= number(before, "SNAPSHOT rule1 (\\d+)") + 25,
                "r = 2 without contention: every put wins by rule 1\n" + after);
            for (final String node : cluster.endpoints())
            {
                final long owned = number(after, Pattern.quote(node) + " .*?(\\d+) owned;");
                assertTrue(owned > 0, "both nodes hold the client's blocks (r = 2): " + after);
                assertTrue(after.matches("(?s).*" + Pattern.quote(node) + " .*; client " + id + " holds " + owned
                    + " \\(.*"), after);
            }
        }
    }

    @Test
    void showsAFlexKvComputeNodesCacheAndItsProxysLeasesAndInvalidations() throws Exception
    {
        try (FlexKvNodes n = new FlexKvNodes())
        {
            final KvStore proxy = n.proxy;
            final KvStore cacher = n.cacher;
            for (int i = 0; i < 20; i++)
            {
                cacher.put("cached-" + i, "v" + i);
            }
            long entries = 0;
            for (int round = 0; round < 50 && cacher.stats().flexkv().cacheHits() < 20; round++)
            {
                for (int i = 0; i < 20; i++)
                {
                    assertEquals("v" + i, cacher.get("cached-" + i));
                }
                entries = Math.max(entries, proxy.stats().flexkv().directoryEntries());
            }
            final KvStats.FlexKv read = cacher.stats().flexkv();
            assertTrue(read.cacheHits() >= 20 && read.cacheMisses() >= 1, read.toString());
            assertTrue(read.cacheBytes() > 0 && read.frames() > 0 && read.requests() >= read.frames(), read.toString());
            assertTrue(entries > 0, "the proxy's directory tracked the cached keys");
            assertTrue(proxy.stats().flexkv().leasesGranted() >= 1, proxy.stats().flexkv().toString());
            for (int i = 0; i < 5; i++)
            {
                proxy.put("cached-" + i, "w" + i);
            }
            awaitFor("the cacher applied the proxy's invalidations",
                () -> cacher.stats().flexkv().cacheInvalidated() > 0);
            final KvStats.FlexKv wrote = proxy.stats().flexkv();
            assertTrue(wrote.invalidationsSent() >= 1 && wrote.writesWaited() >= 1, wrote.toString());
            assertEquals("w0", cacher.get("cached-0"));

            final String out = n.stats();
            final String cacherLine = line(out, "client " + cacher.clientId() + " (");
            assertTrue(number(cacherLine, "FlexKV cache hits (\\d+)") >= 20, out);
            assertTrue(number(cacherLine, " invalidated (\\d+)") >= 1, out);
            final String proxyLine = line(out, "client " + proxy.clientId() + " (");
            assertTrue(number(proxyLine, "leases granted (\\d+)") >= 1, out);
            assertTrue(number(proxyLine, "invalidations sent (\\d+)") >= 1, out);
            number(proxyLine, "fence refusals (\\d+)");
        }
    }

    @Test
    void showsTheLeasesAProxyRefusedBecauseAKeyIsWrittenHot() throws Exception
    {
        try (FlexKvNodes n = new FlexKvNodes())
        {
            final KvStore proxy = n.proxy;
            final KvStore cacher = n.cacher;
            cacher.put("hot", "v0");
            final String before = n.stats();
            assertEquals(0, number(line(before, "client " + proxy.clientId() + " ("), "refused as write-hot (\\d+)"),
                before);
            // The cacher's leased lookup makes the proxy track the key; ten writes within one lease
            // (default: the fourth makes it hot) with one lookup between them turn it write-hot, and
            // the cacher's next lookup is answered without a lease.
            final int[] written = {0};
            awaitFor("a lease refused as write-hot", () ->
            {
                assertEquals("v" + written[0], cacher.get("hot"));
                for (int i = 0; i < 10; i++)
                {
                    proxy.put("hot", "v" + ++written[0]);
                }
                return proxy.stats().flexkv().leasesRefusedWriteHot() > 0;
            });
            final String after = n.stats();
            final String proxyLine = line(after, "client " + proxy.clientId() + " (");
            final long refused = number(proxyLine, "refused as write-hot (\\d+)");
            assertTrue(refused >= 1, after);
            assertEquals(proxy.stats().flexkv().leasesRefusedWriteHot(), refused, after);
            assertEquals(0, number(line(after, "client " + cacher.clientId() + " ("), "refused as write-hot (\\d+)"),
                "the cacher proxies nothing: " + after);
        }
    }

    /** A tcp FlexKV cluster: two memory nodes, a proxy of every partition and a plain compute node. */
    private static final class FlexKvNodes implements AutoCloseable
    {
        /** What this opened, newest first, so close() releases it in reverse even after a failed start. */
        private final Deque<AutoCloseable> opened = new ArrayDeque<>();
        private final EmbeddedCluster cluster;
        private final KvStore proxy;
        private final KvStore cacher;

        FlexKvNodes() throws Exception
        {
            try
            {
                cluster = open(EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp"));
                proxy = open(KvStore.open(flexkv(cluster).proxyEnabled(true).build()));
                cacher = open(KvStore.open(flexkv(cluster).mode("").build()));
                final KvAdmin admin = open(KvAdmin.open(flexkv(cluster).mode("").build()));
                awaitFor("the proxy serves every partition", () -> admin.partitions().stream()
                    .allMatch(p -> !p.owner().equals("-") && p.handoverFrom().isEmpty()));
            }
            catch (final Exception | Error e)
            {
                close();
                throw e;
            }
        }

        private <T extends AutoCloseable> T open(final T c)
        {
            opened.push(c);
            return c;
        }

        /** {@code kv stats} of the cluster and both compute nodes. */
        String stats()
        {
            return StatsCommandTest.stats("--coordinator", cluster.coordinatorConnectString(), String.join(",",
                new java.util.TreeSet<>(java.util.List.of(cacher.metricsEndpoint(), proxy.metricsEndpoint()))));
        }

        @Override
        public void close() throws Exception
        {
            while (!opened.isEmpty())
            {
                opened.pop().close();
            }
        }
    }

    private static KvConfig.Builder flexkv(final EmbeddedCluster cluster)
    {
        return KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("tcp").replication(2)
            .blockSize(64 * 1024).bucketGroups(64).initialDepth(2).indexAreaBytes(4 << 20).mode("flexkv").partitions(8)
            .proxyCacheLease(Duration.ofMillis(1500)).metrics("prometheus").metricsPort(0);
    }

    private static void awaitFor(final String what, final java.util.function.BooleanSupplier done)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
            Thread.sleep(20);
        }
    }

    private static String line(final String text, final String start)
    {
        return text.lines().filter(l -> l.trim().startsWith(start)).findFirst()
            .orElseThrow(() -> new AssertionError("no line starting with " + start + " in:\n" + text));
    }

    private static String stats(final String memnodes, final String client)
    {
        return stats("--memnodes", memnodes, client);
    }

    private static String stats(final String option, final String value, final String client)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = KvCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int exit = cl.execute("stats", option, value, "--replication", "2", "--clients", client);
        assertEquals(0, exit, err + "\n" + out);
        return out.toString();
    }

    private static long number(final String text, final String regex)
    {
        final Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no " + regex + " in:\n" + text);
        return Long.parseLong(m.group(1));
    }
}
