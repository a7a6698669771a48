package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.computenode.proxy.cache.BatchFrame;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * A proxy that comes back after its successor took over (a zombie, docs/flexkv.md §11): a proxy
 * compute node in a JVM of its own is stopped (SIGSTOP) while other compute nodes read its
 * partitions through their coherent caches and write them; its coordinator session expires (the
 * coordinator runs in this JVM), the other proxy takes its partitions and acknowledges writes of
 * them; then the stopped JVM is continued (SIGCONT). Requests that reached it while it was stopped
 * (a leased SEARCH in a batch frame and a plain SEARCH, sent on connections opened before) are
 * answered REDIRECT without a lease, as are requests after it resumed; it withdraws from the
 * proxies; and the checker finds no read older than the last write acknowledged before it began.
 * Waits are for outcomes, each bounded.
 */
@Timeout(240)
class FlexKvStoppedProxyTest
{
    private static final int KEYS = 48;
    private static final int PARTITION_BITS = 3;

    private static KvConfig.Builder config(final EmbeddedCluster cluster)
    {
        return FlexKvTest.flexkv(cluster, 2).opTimeout(Duration.ofSeconds(15)).proxyHandoverGrace(Duration.ofMillis(300));
    }

    @Test
    void aStoppedProxyReplacedMeanwhileRefusesItsOldPartitionsAndNoReadIsStale() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp");
            KvStore a = KvStore.open(config(cluster).proxyEnabled(true).build());
            KvStore c = KvStore.open(config(cluster).mode("").build());
            KvStore d = KvStore.open(config(cluster).mode("").build());
            KvAdmin admin = KvAdmin.open(config(cluster).mode("").build());
            TcpVerbsTransport transport = new TcpVerbsTransport())
        {
            final ChildJvm proxy = ChildJvm.start("192m", StoreChild.class, cluster.coordinatorConnectString(), "tcp",
                "2", "proxy");
            try
            {
                final String survivor = FlexKvTest.awaitTwoProxiesBesides(admin, proxy);
                final String stopped = admin.proxies().keySet().stream().filter(n -> !n.equals(survivor)).findFirst()
                    .orElseThrow();
                assertFalse(partitionsOf(admin, stopped).isEmpty(), "the child proxies some partitions");
                final KeyWindows check = new KeyWindows("zombie-", KEYS);
                for (int k = 0; k < KEYS; k++)
                {
                    c.put(check.key(k), "0");
                }
                // Connections to the child's proxy port, opened while it runs; their requests may wait for minutes.
                final ClientOptions patient = ClientOptions.builder().requestTimeout(Duration.ofSeconds(180))
                    .connectTimeout(Duration.ofSeconds(10)).build();
                final VerbsChannel probe = transport.connect(admin.proxies().get(stopped), patient);
                // The child serves a partition once it applied the map that gives it one (on a busy
                // machine, a moment after the map shows it settled): ask until it answers as the owner.
                final byte[][] owned = new byte[1][];
                FlexKvTest.await("the child answers a leased SEARCH of a key it owns, with a lease", () ->
                {
                    final byte[] key = keyIn(check, partitionsOf(admin, stopped));
                    final BatchFrame.Answer before = leasedSearch(probe, key).orTimeout(30, TimeUnit.SECONDS).join();
                    owned[0] = before.status() == ProxyRpc.FOUND && before.leased() ? key : null;
                    return owned[0] != null;
                });
                final byte[] probeKey = owned[0];

                final KvStore[] stores = {a, c, d};
                check.writers(stores, 3, 2);
                check.readers(2, rnd -> c, rnd -> rnd.nextInt(KEYS));
                check.readers(2, rnd -> d, rnd -> rnd.nextInt(KEYS));
                check.start();
                FlexKvTest.await("reads from the caches before the stop",
                    () -> FlexKvCoherentCacheTest.hits(c, d) > 200 || !check.errors.isEmpty());

                proxy.stop();
                final CompletableFuture<BatchFrame.Answer> queuedLease;
                final CompletableFuture<ByteBuffer> queuedSearch;
                try
                {
                    // Sent while it is stopped: it reads them when it resumes, with its copy of before.
                    queuedLease = leasedSearch(probe, probeKey);
                    queuedSearch = probe.rpc(ProxyRpc.SEARCH, ProxyRpc.search(0, KeyHash.hash(probeKey), probeKey));
                    // Every partition to the survivor (pinned), so the child gets none back when it returns.
                    for (final KvAdmin.Partition p : admin.partitions())
                    {
                        admin.assignPartition(p.partition(), survivor);
                    }
                    FlexKvTest.await("the survivor serves every partition (the stopped child's session expired)",
                        () -> FlexKvTest.settledOver(admin, Set.of(survivor)));
                    final long writes = check.writes.get();
                    FlexKvTest.await("writes acknowledged by the survivor", () -> check.writes.get() > writes + 200
                        || !check.errors.isEmpty());
                    assertFalse(queuedLease.isDone() || queuedSearch.isDone(), "the stopped child answered nothing");
                }
                finally
                {
                    proxy.resume();
                }
                final BatchFrame.Answer late = queuedLease.get(60, TimeUnit.SECONDS);
                assertEquals(ProxyRpc.REDIRECT, late.status(), "a leased SEARCH that waited out the stop is refused");
                assertFalse(late.leased(), "and gets no lease");
                assertEquals(ProxyRpc.REDIRECT, ProxyRpc.parseReply(queuedSearch.get(60, TimeUnit.SECONDS)).status(),
                    "a SEARCH that waited out the stop is refused");
                FlexKvTest.await("the child withdraws from the proxies", () -> !admin.proxies().containsKey(stopped));
                final BatchFrame.Answer after = leasedSearch(probe, probeKey).get(30, TimeUnit.SECONDS);
                assertEquals(ProxyRpc.REDIRECT, after.status(), "the child refuses its old partitions once it is back");
                assertFalse(after.leased());
                final long writes = check.writes.get();
                final long reads = check.reads.get();
                FlexKvTest.await("reads and writes after the child came back", () -> check.writes.get() > writes + 200
                    && check.reads.get() > reads + 200 || !check.errors.isEmpty());
                check.stopAndCheck();
                check.assertFinalValues(d);
                assertEquals(List.of(), admin.verify(false), "kv verify");
            }
            finally
            {
                proxy.close();
            }
        }
    }

    /** The partitions {@code proxy} owns in the partition map now. */
    private static List<Integer> partitionsOf(final KvAdmin admin, final String proxy)
    {
        final List<Integer> owned = new ArrayList<>();
        for (final KvAdmin.Partition p : admin.partitions())
        {
            if (p.owner().equals(proxy))
            {
                owned.add(p.partition());
            }
        }
        return owned;
    }

    /** A key of the checker whose partition is one of {@code partitions}. */
    private static byte[] keyIn(final KeyWindows check, final List<Integer> partitions)
    {
        for (int k = 0; k < check.keys(); k++)
        {
            final byte[] key = check.key(k).getBytes(StandardCharsets.UTF_8);
            if (partitions.contains(KeyHash.partition(KeyHash.hash(key), PARTITION_BITS)))
            {
                return key;
            }
        }
        throw new AssertionError("no key of the checker lies in partitions " + partitions);
    }

    /** A batch frame of one leased SEARCH, as a compute node named "probe" sends it. */
    private static CompletableFuture<BatchFrame.Answer> leasedSearch(final VerbsChannel to, final byte[] key)
    {
        final ByteBuffer frame = BatchFrame.request(0, 1, 0, 0, "probe".getBytes(StandardCharsets.UTF_8),
            List.of(new BatchFrame.Sub(BatchFrame.CACHED_SEARCH, ProxyRpc.search(0, KeyHash.hash(key), key))));
        return to.rpc(BatchFrame.BATCH, frame).thenApply(r -> BatchFrame.parseResponse(r, 1).answers()[0]);
    }
}
