package io.dmkv.computenode.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.memnode.MemoryNode;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

@Timeout(60)
class ClusterViewTest
{
    private static final ClusterSettings SMALL = ClusterSettings.defaults(2).withBlockSize(64 * 1024)
        .withIndex(4, 1, 6).withIndexAreaBytes(256 * 1024);

    @Test
    void firstClientBootstrapsAndLaterClientsJoinTheSameLayout()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 8L << 20, 2L << 20, "local");
            VerbsTransport t = cluster.newTransport();
            VerbsClient a = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults());
            VerbsClient b = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            final ClusterView first = ClusterBootstrap.join(a, SMALL);
            final ClusterView second = ClusterBootstrap.join(b, SMALL);
            assertEquals(first.descriptor().clusterId(), second.descriptor().clusterId());
            assertEquals(6, first.regions(), "3 nodes x 4 regions / r = 2");
            for (int g = 0; g < first.regions(); g++)
            {
                assertNotEquals(first.nodeOf(g, 0), first.nodeOf(g, 1), "replicas of region " + g + " on distinct nodes");
                assertEquals(first.blockCount(g), second.blockCount(g));
            }
            final long[] roots = new long[2];
            for (int j = 0; j < 2; j++)
            {
                final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
                final VerbBatch r = new VerbBatch();
                r.read(first.replica(0, j), RegionLayout.ROOT_OFFSET + IndexRoot.ROOT_WORD_OFFSET, word, 0, 8);
                a.execute(r);
                roots[j] = word.getLong(0);
            }
            assertEquals(roots[0], roots[1], "both index replicas hold the same root");
            assertEquals(1, IndexRoot.globalDepth(roots[0]));
        }
    }

    /**
     * A verb built by the routing of before a node re-keyed a region keeps the key of its time, even
     * once the client has learnt the new key: the stalled writer of docs/recovery.md ("Stale keys"),
     * whose primary CAS was built by the map of before a copy's promotion and posted after another
     * operation of the same client had learnt the nodes' new keys, must be refused, not land on a
     * replica the newer map dropped. Rebuilt by the view after the refresh, the same CAS lands.
     */
    @Test
    void aVerbBuiltBeforeARekeyIsRefusedAfterTheClientLearntTheNewKey()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 8L << 20, 2L << 20, "tcp");
            VerbsTransport t = cluster.newTransport();
            VerbsClient client = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            final ClusterView view = ClusterBootstrap.join(client, ClusterSettings.defaults(2).withBlockSize(64 * 1024)
                .withIndex(4, 1, 6).withIndexAreaBytes(256 * 1024));
            final long word = GlobalAddress.pack(1, view.firstBlockOffset(1));
            final VerbBatch stalled = new VerbBatch();
            view.cas(stalled, word, 0, 0L, 7L);
            for (final MemoryNode node : cluster.nodes())
            {
                node.service().regions().rekeyAll();
            }
            view.relearnKeys();
            final RemoteAccessException refused = assertThrows(RemoteAccessException.class, () -> client.execute(stalled));
            assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, refused.reason());
            final VerbBatch rebuilt = new VerbBatch();
            final int at = view.cas(rebuilt, word, 0, 0L, 7L);
            client.execute(rebuilt);
            assertTrue(rebuilt.casSucceeded(at), "the CAS built after the refresh carries the new key and lands");
        }
    }

    @Test
    void racingClientsBootstrapExactlyOnce() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 4L << 20, 1L << 20, "tcp");
            VerbsTransport t = cluster.newTransport())
        {
            final ExecutorService pool = Executors.newFixedThreadPool(4);
            final List<VerbsClient> clients = new ArrayList<>();
            try
            {
                final List<Future<Long>> ids = new ArrayList<>();
                for (int i = 0; i < 4; i++)
                {
                    final VerbsClient c = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults());
                    clients.add(c);
                    ids.add(pool.submit(() -> ClusterBootstrap.join(c, SMALL).descriptor().clusterId()));
                }
                final Set<Long> distinct = new HashSet<>();
                for (final Future<Long> f : ids)
                {
                    distinct.add(f.get());
                }
                assertEquals(1, distinct.size(), "every client sees one cluster");
            }
            finally
            {
                pool.shutdownNow();
                clients.forEach(VerbsClient::close);
            }
        }
    }

    @Test
    void mismatchedReplicationOrNodeOrderIsRefused()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 4L << 20, 1L << 20, "local");
            VerbsTransport t = cluster.newTransport();
            VerbsClient a = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults());
            VerbsClient swapped = VerbsClient.connect(t, List.of(cluster.endpoints().get(1), cluster.endpoints().get(0)),
                ClientOptions.defaults()))
        {
            ClusterBootstrap.join(a, SMALL);
            final IllegalStateException r1 = assertThrows(IllegalStateException.class,
                () -> ClusterBootstrap.join(a, SMALL.withReplication(1)));
            assertTrue(r1.getMessage().contains("r = 1"), r1.getMessage());
            final IllegalStateException order = assertThrows(IllegalStateException.class,
                () -> ClusterBootstrap.join(swapped, SMALL));
            assertTrue(order.getMessage().contains("same order"), order.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ClusterBootstrap.join(a, SMALL.withReplication(3)),
                "r = 3 needs three memory nodes");
        }
    }

    @Test
    void aClientGivenPartOfTheClusterIsToldWhatDiffers()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 4L << 20, 1L << 20, "local");
            VerbsTransport t = cluster.newTransport();
            VerbsClient all = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults());
            VerbsClient firstTwo = VerbsClient.connect(t, cluster.endpoints().subList(0, 2), ClientOptions.defaults());
            VerbsClient firstOnly = VerbsClient.connect(t, cluster.endpoints().subList(0, 1), ClientOptions.defaults());
            VerbsClient secondOnly = VerbsClient.connect(t, cluster.endpoints().subList(1, 2), ClientOptions.defaults()))
        {
            final long id = ClusterBootstrap.join(all, SMALL).descriptor().clusterId();
            for (final VerbsClient part : List.of(firstTwo, firstOnly))
            {
                final IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ClusterBootstrap.join(part, SMALL.withReplication(1)));
                assertTrue(e.getMessage().contains("has 3 memory nodes, this client was given " + part.nodeCount())
                    && e.getMessage().contains("every memory node"), e.getMessage());
            }
            final IllegalStateException other = assertThrows(IllegalStateException.class,
                () -> ClusterBootstrap.join(secondOnly, SMALL.withReplication(1)));
            assertTrue(other.getMessage().contains("already belongs to a cluster"), other.getMessage());
            assertEquals(id, ClusterBootstrap.join(all, SMALL).descriptor().clusterId(),
                "the cluster is still joinable, unchanged, after the refusals");
        }
    }

    @Test
    void clientIdsAreUniqueUntilTheyWrap()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 4L << 20, 1L << 20, "local");
            VerbsTransport t = cluster.newTransport();
            VerbsClient a = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            final ClusterView view = ClusterBootstrap.join(a, SMALL.withMaxClients(100));
            final Set<Integer> ids = new HashSet<>();
            for (int i = 0; i < 100; i++)
            {
                final int id = ClusterBootstrap.allocateClientId(a, view);
                assertTrue(id >= 1 && id <= 100, "id " + id);
                ids.add(id);
            }
            assertEquals(100, ids.size());
        }
    }
}
