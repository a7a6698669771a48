package io.dmkv.computenode.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.alloc.ObjectAllocator;
import io.dmkv.computenode.Closer;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.FuseeIndex;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.computenode.ops.TestAllocators;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/** The index grows by subtable splits while clients keep reading and writing. */
@Timeout(180)
class RaceSplitterTest
{
    private EmbeddedCluster cluster;
    private VerbsTransport transport;
    private final Closer clients = new Closer();
    private ObjectAllocator allocator;
    private ClusterView lastView;
    private VerbsClient lastClient;
    private RaceSplitter lastSplitter;

    @AfterEach
    void stop()
    {
        clients.close();
    }

    private FuseeIndex client(final int r)
    {
        if (cluster == null)
        {
            cluster = clients.add(EmbeddedCluster.start(3, 64L << 20, 16L << 20, "local"));
            transport = clients.add(cluster.newTransport());
        }
        final VerbsClient c = VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults());
        clients.add(c);
        final ClusterView view = ClusterBootstrap.join(c, ClusterSettings.defaults(r).withBlockSize(64 * 1024)
            .withIndex(2, 0, 8).withIndexAreaBytes(4 << 20));
        if (allocator == null)
        {
            allocator = TestAllocators.bump(view);
        }
        final IndexDirectory dir = new IndexDirectory(view, c);
        final SnapshotReplicator snap = new SnapshotReplicator(view, SystemNanoClock.INSTANCE,
            TimeUnit.SECONDS.toNanos(2), TimeUnit.SECONDS.toNanos(60));
        final RaceSplitter splitter = new RaceSplitter(view, c, dir, snap, SystemNanoClock.INSTANCE,
            TimeUnit.SECONDS.toNanos(60));
        lastView = view;
        lastClient = c;
        lastSplitter = splitter;
        final FuseeIndex index = FuseeIndex.create(view, c, dir, new IndexCache(1 << 12, 0.1), snap, allocator,
            splitter, ClusterBootstrap.allocateClientId(c, view), SystemNanoClock.INSTANCE,
            TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(2));
        clients.add(index);
        return index;
    }

    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void tinySubtablesSplitUntilEveryKeyFitsAndAgreeWithAModel()
    {
        final FuseeIndex kv = client(2);
        final Map<String, String> model = new HashMap<>();
        final Random random = new Random(11);
        for (int i = 0; i < 4000; i++)
        {
            final String k = "k" + random.nextInt(1500);
            final int op = random.nextInt(10);
            if (op < 6)
            {
                kv.mutate(Mode.PUT, b(k), b("v" + i));
                model.put(k, "v" + i);
            }
            else if (op < 8)
            {
                final Result res = kv.mutate(Mode.DELETE, b(k), null);
                assertEquals(model.remove(k) != null, res == Result.DELETED, k);
            }
            else
            {
                final byte[] got = kv.search(b(k));
                final String want = model.get(k);
                assertEquals(want, got == null ? null : new String(got, StandardCharsets.UTF_8), k);
            }
        }
        for (int i = 0; i < 1500; i++)
        {
            final byte[] got = kv.search(b("k" + i));
            final String want = model.get("k" + i);
            assertEquals(want, got == null ? null : new String(got, StandardCharsets.UTF_8), "k" + i);
        }
        assertTrue(lastSplitter.splits() > 10, "splits happened: " + lastSplitter.splits());
        assertTrue(kv.directory().current().globalDepth() >= 5, "the directory doubled");
        assertIndexReplicasEqual();
    }

    @Test
    void concurrentWritersNeverLoseAKeyWhileSubtablesSplit() throws Exception
    {
        final int threads = 6;
        final List<FuseeIndex> kvs = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            kvs.add(client(3));
        }
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final FuseeIndex kv = kvs.get(t);
                final int id = t;
                done.add(pool.submit(() ->
                {
                    for (int i = 0; i < 500; i++)
                    {
                        kv.mutate(Mode.INSERT, b("t" + id + "-" + i), b("value-" + id + "-" + i));
                        if (i % 50 == 0)
                        {
                            assertArrayEquals(b("value-" + id + "-" + (i / 2)), kv.search(b("t" + id + "-" + (i / 2))));
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> f : done)
            {
                f.get();
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        final FuseeIndex reader = client(3);
        for (int t = 0; t < threads; t++)
        {
            for (int i = 0; i < 500; i++)
            {
                assertArrayEquals(b("value-" + t + "-" + i), reader.search(b("t" + t + "-" + i)), "t" + t + "-" + i);
            }
        }
        assertNull(reader.search(b("t0-500")));
        assertIndexReplicasEqual();
    }

    private void assertIndexReplicasEqual()
    {
        IndexChecks.assertQuietIndexConsistent(lastView, lastClient);
    }
}
