package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.alloc.BackupEntries;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.CachedMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.FailedNodeChannel;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * Allocation state reaches a joining replica for certain (docs/recovery.md, "The seal is enforced
 * by the memory nodes"): hammer threads claim blocks with ALLOC_BLOCK, mirror each grant to the
 * backups, free objects of their blocks with FAAs on the primary's bitmap, clear them and release
 * the block, while a node joins and the cluster copies regions onto it, seals them and promotes the
 * copies (a node joins and takes replicas; then a primary's node is decommissioned). A live checker fails if a block is granted while another
 * thread holds it; at the end every full replica's allocation table holds the last acknowledged state
 * of every block, and every primary's bitmap words the sum of the acknowledged frees (zero). A release
 * goes to the backups as the clients send it ({@link BackupEntries}); with a plain WRITE instead, a
 * release refused during the seal and sent again after it landed over the block's next claim (a backup
 * left at "FREE, gen 12" after "FREE, gen 13" was acknowledged), in about 1 run in 40.
 */
@Timeout(180)
class SealedAllocationTest
{
    private static final int THREADS = 4;
    private static final long MEMORY = 24L << 20;
    private static final long REGION = 8L << 20;

    @Test
    void everyGrantAndFreeAcknowledgedDuringACopyIsOnThePromotedReplicas() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, MEMORY, REGION, "tcp");
            Coordinator watcher = Coordinator.open(cluster.coordinatorSettings());
            KvStore store = KvStore.open(MemoryNodeFailoverTest.config(cluster).build());
            VerbsTransport t = cluster.newTransport();
            CachedMap regions = watcher.watch(MapName.REGIONS))
        {
            final List<String> endpoints = new ArrayList<>();
            for (int n = 0; n < map(regions).memoryNodeCount(); n++)
            {
                endpoints.add(endpoint(cluster, watcher, n));
            }
            final VerbsClient v = VerbsClient.connect(t, endpoints, ClientOptions.defaults());
            final Hammer hammer = new Hammer(cluster, watcher, v, regions);
            try
            {
                hammer.start();
                hammer.awaitCycles(200);
                // The new node takes replicas (balancing), then a primary's node is decommissioned, so a
                // copy takes the place of a primary.
                cluster.addNode(2 * MEMORY, REGION);
                final RegionMap balanced = ReReplicationTest.awaitMap(watcher, m -> m.memoryNodeCount() == 4
                    && m.regionsOn(3).length > 0 && !m.anyJoining() && !m.anySealed(), "the new node taking replicas");
                hammer.awaitCycles(hammer.cycles.get() + 100);
                final int leaving = balanced.primary(0) != 3 ? balanced.primary(0) : balanced.primary(1);
                try (KvAdmin admin = KvAdmin.open(MemoryNodeFailoverTest.config(cluster).build()))
                {
                    admin.decommission(endpoint(cluster, watcher, leaving));
                }
                final RegionMap after = ReReplicationTest.awaitMap(watcher, m -> m.regionsOn(leaving).length == 0
                    && !m.anyJoining() && m.fewestReplicas() == 3, "the decommissioned node emptied");
                hammer.awaitCycles(hammer.cycles.get() + 200);
                hammer.stop();
                assertEquals(List.of(), hammer.failures);
                boolean primaryMoved = false;
                for (int g = 0; g < after.regionCount(); g++)
                {
                    primaryMoved |= balanced.primary(g) == leaving && !balanced.hasReplicaOn(g, after.primary(g));
                }
                assertTrue(primaryMoved, "a copy took a leaving primary's place: " + after);
                assertTrue(hammer.sealedRefusals.get() + hammer.writeRefusals.get() > 0,
                    "the hammer met no seal (no ALLOC or write refused while regions were sealed)");
                hammer.check(map(regions));
            }
            finally
            {
                hammer.stop();
                v.close();
            }
            try (KvAdmin admin = KvAdmin.open(MemoryNodeFailoverTest.config(cluster).build()))
            {
                assertEquals(List.of(), admin.verify(true));
            }
        }
    }

    /** The endpoint of the node the cluster's layout has at {@code index} (layout order is not start order). */
    private static String endpoint(final EmbeddedCluster cluster, final Coordinator watcher, final int index)
    {
        final String name = ClusterLayout.decode(watcher.maps().read(MapName.LAYOUT).orElseThrow().payload())
            .memoryNodes().get(index);
        for (int i = 0; i < cluster.nodes().size(); i++)
        {
            if (cluster.nodes().get(i).name().equals(name))
            {
                return cluster.endpoints().get(i);
            }
        }
        throw new AssertionError("no memory node named " + name);
    }

    private static RegionMap map(final CachedMap regions)
    {
        return RegionMap.fromBytes(regions.lastSeen().payload());
    }

    /** A region map and handles on every node's regions holding the keys learnt for it. */
    private record Routes(RegionMap map, Map<Long, RemoteRegion> handles)
    {
        RemoteRegion region(final int node, final int physical)
        {
            return handles.get(((long)node << 32) | physical);
        }
    }

    /** Threads that claim, mirror, free into and release blocks by hand, with what they were told. */
    private static final class Hammer
    {
        final EmbeddedCluster cluster;
        final Coordinator watcher;
        final VerbsClient v;
        final CachedMap regions;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong cycles = new AtomicLong();
        final AtomicLong sealedRefusals = new AtomicLong();
        final AtomicLong writeRefusals = new AtomicLong();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        /** (region, block) to the newest table entry acknowledged for it. */
        final Map<Long, Long> entries = new ConcurrentHashMap<>();
        /** (region, block) to the hammer thread that holds it now. */
        final Map<Long, Integer> holders = new ConcurrentHashMap<>();
        /** (region, block) to the sum of the FAAs acknowledged on its first bitmap word. */
        final Map<Long, Long> bits = new ConcurrentHashMap<>();
        final Map<Integer, UnsafeBuffer> headers = new ConcurrentHashMap<>();
        private volatile Routes routes;

        Hammer(final EmbeddedCluster cluster, final Coordinator watcher, final VerbsClient v, final CachedMap regions)
        {
            this.cluster = cluster;
            this.watcher = watcher;
            this.v = v;
            this.regions = regions;
        }

        void start()
        {
            for (int i = 0; i < THREADS; i++)
            {
                final int client = 300 + i;
                final Thread th = new Thread(() -> run(client), "hammer-" + i);
                threads.add(th);
                th.start();
            }
        }

        void stop() throws InterruptedException
        {
            stop.set(true);
            for (final Thread th : threads)
            {
                th.join(30_000);
            }
        }

        void awaitCycles(final long n) throws InterruptedException
        {
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (cycles.get() < n && failures.isEmpty())
            {
                assertTrue(System.nanoTime() < deadline, "the hammer stalled at " + cycles.get() + " cycles");
                Thread.sleep(10);
            }
            assertEquals(List.of(), failures);
        }

        private RegionMap map()
        {
            return routes().map();
        }

        private Routes routes()
        {
            Routes r = routes;
            if (r == null)
            {
                relearn();
                r = routes;
            }
            return r;
        }

        /**
         * Learns the nodes' keys for the map the coordinator holds, read before and after the hellos
         * (again if it moved meanwhile), and routes by that map with handles holding those keys: as a
         * client's view does (docs/recovery.md, "Stale keys"), so a verb built by an older map keeps
         * the older key and is refused, instead of landing on a replica a newer map dropped.
         */
        private synchronized void relearn()
        {
            while (true)
            {
                final VersionedMap before = watcher.maps().read(MapName.REGIONS).orElseThrow();
                final RegionMap latest = RegionMap.fromBytes(before.payload());
                for (int n = v.nodeCount(); n < latest.memoryNodeCount(); n++)
                {
                    v.attach(n, endpoint(cluster, watcher, n));
                }
                v.refreshKeys(n -> !(v.channel(n) instanceof FailedNodeChannel));
                final VersionedMap after = watcher.maps().read(MapName.REGIONS).orElseThrow();
                if (after.epoch() == before.epoch())
                {
                    final Map<Long, RemoteRegion> handles = new HashMap<>();
                    for (int n = 0; n < v.nodeCount(); n++)
                    {
                        for (final RemoteRegion r : v.channel(n).regions())
                        {
                            final RegionInfo info = r.info();
                            handles.put(((long)n << 32) | r.id(), new RemoteRegion(r.channel(), new RegionInfo(info.id(),
                                r.key(), info.length(), info.rdmaAddress(), info.rdmaKey())));
                        }
                    }
                    routes = new Routes(latest, handles);
                    return;
                }
            }
        }

        private UnsafeBuffer header(final int g)
        {
            return headers.computeIfAbsent(g, k ->
            {
                final RegionMap m = map();
                final UnsafeBuffer h = new UnsafeBuffer(new byte[RegionLayout.HEADER_FIELDS_LENGTH]);
                final VerbBatch b = new VerbBatch();
                b.read(v.channel(m.primary(g)).region(m.physical(g, 0)), 0, h, 0, RegionLayout.HEADER_FIELDS_LENGTH);
                v.execute(b);
                return h;
            });
        }

        private void run(final int client)
        {
            try
            {
                while (!stop.get())
                {
                    cycle(client);
                }
            }
            catch (final RuntimeException | AssertionError e)
            {
                failures.add("client " + client + ": " + e);
            }
        }

        private void cycle(final int client)
        {
            final RegionMap m = map();
            final int g = ThreadLocalRandom.current().nextInt(m.regionCount());
            final UnsafeBuffer h = header(g);
            final ByteBuffer answer;
            try
            {
                answer = v.rpc(m.primary(g), MemoryNodeRpc.ALLOC_BLOCK,
                    new MemoryNodeRpc.AllocBlock(m.physical(g, 0), client, 0).encode());
            }
            catch (final RpcException e)
            {
                if (e.status() == RpcStatus.UNAVAILABLE)
                {
                    // Sealed, or asked of a node that is no longer the primary (this map is old).
                    sealedRefusals.incrementAndGet();
                    pause();
                    relearn();
                    return;
                }
                if (e.status() == RpcStatus.EXHAUSTED)
                {
                    return;
                }
                throw e;
            }
            final int block = answer.getInt();
            final long entry = answer.getLong();
            final long id = ((long)g << 32) | block;
            final Integer other = holders.putIfAbsent(id, client);
            if (other != null)
            {
                throw new AssertionError("block " + block + " of region " + g + " granted to client " + client
                    + " while client " + other + " holds it (" + BlockAllocationTable.toString(entry) + ")");
            }
            acknowledged(id, entry);
            final int entryAt = RegionLayout.batOffset(h) + BlockAllocationTable.entryOffset(block);
            mirror(g, entryAt, entry);
            final int word = RegionLayout.blockOffset(RegionLayout.firstBlockOffset(h), RegionLayout.blockSize(h), block)
                + BlockHeader.BITMAP_OFFSET;
            long set = 0;
            for (int k = 0; k < 3; k++)
            {
                final long bit = 1L << k;
                onPrimary(g, new VerbBatch(), (b, r) -> b.faa(r, word, bit));
                bits.merge(id, bit, Long::sum);
                set |= bit;
            }
            final long cleared = set;
            onPrimary(g, new VerbBatch(), (b, r) -> b.faa(r, word, -cleared));
            bits.merge(id, -cleared, Long::sum);
            final long released = BlockAllocationTable.released(entry);
            holders.remove(id);
            final VerbBatch cas = new VerbBatch();
            onPrimary(g, cas, (b, r) -> b.cas(r, entryAt, entry, released));
            assertEquals(entry, cas.result(0), "block " + block + " of region " + g + " changed under its owner; granted"
                + " by node " + m.primary(g) + " at map epoch " + m.epoch() + ", released at node " + map().primary(g)
                + " at epoch " + map().epoch());
            acknowledged(id, released);
            mirrorRelease(g, entryAt, entry, released);
            cycles.incrementAndGet();
        }

        private void acknowledged(final long id, final long entry)
        {
            entries.merge(id, entry, (a, b) -> newer(b, a) ? b : a);
        }

        /** A later state of a block: a higher generation, or at one generation the release after the claim. */
        private static boolean newer(final long e, final long than)
        {
            final int ge = BlockAllocationTable.generation(e);
            final int gt = BlockAllocationTable.generation(than);
            return ge > gt || ge == gt && BlockAllocationTable.isFree(e) && !BlockAllocationTable.isFree(than);
        }

        private interface Verb
        {
            void add(VerbBatch batch, RemoteRegion region);
        }

        /** One verb on region g's current primary, again with fresh keys while it is refused (not applied). */
        private void onPrimary(final int g, final VerbBatch batch, final Verb verb)
        {
            while (true)
            {
                final Routes r = routes();
                batch.reset();
                verb.add(batch, r.region(r.map().primary(g), r.map().physical(g, 0)));
                if (tried(batch))
                {
                    return;
                }
            }
        }

        /** Writes a table entry to region g's current backups (idempotent), again while refused. */
        private void mirror(final int g, final int entryAt, final long entry)
        {
            final UnsafeBuffer bytes = new UnsafeBuffer(new byte[Long.BYTES]);
            bytes.putLong(0, entry);
            while (true)
            {
                final Routes r = routes();
                final RegionMap m = r.map();
                final VerbBatch b = new VerbBatch();
                for (int j = 1; j < m.replicaCount(g); j++)
                {
                    b.write(r.region(m.replica(g, j), m.physical(g, j)), entryAt, bytes, 0, Long.BYTES);
                }
                if (b.size() == 0 || tried(b))
                {
                    return;
                }
            }
        }

        /**
         * Moves a released entry onto region g's current backups as the clients do ({@link BackupEntries}: by
         * CAS from the claim, so a release held back by a seal never lands over the next owner's claim), again
         * while refused.
         */
        private void mirrorRelease(final int g, final int entryAt, final long claim, final long released)
        {
            final BackupEntries backups = new BackupEntries(v);
            while (true)
            {
                final Routes r = routes();
                final RegionMap m = r.map();
                for (int j = 1; j < m.replicaCount(g); j++)
                {
                    backups.add(r.region(m.replica(g, j), m.physical(g, j)), entryAt, claim, released);
                }
                if (tried(backups::run))
                {
                    return;
                }
            }
        }

        /** Runs the batch; false (after learning the keys) if a sealed or re-keyed replica refused it. */
        private boolean tried(final VerbBatch b)
        {
            return tried(() -> v.execute(b));
        }

        /** Runs the verbs; false (after learning the keys) if a sealed or re-keyed replica refused them. */
        private boolean tried(final Runnable verbs)
        {
            try
            {
                verbs.run();
                return true;
            }
            catch (final RemoteAccessException e)
            {
                if (e.reason() != RemoteAccessException.Reason.UNKNOWN_REGION)
                {
                    throw e;
                }
                writeRefusals.incrementAndGet();
                pause();
                relearn();
                return false;
            }
        }

        private static void pause()
        {
            try
            {
                Thread.sleep(5);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** Every full replica holds each block's newest acknowledged entry; each primary the acknowledged frees. */
        void check(final RegionMap m)
        {
            v.refreshKeys(n -> !(v.channel(n) instanceof FailedNodeChannel));
            int checked = 0;
            for (final Map.Entry<Long, Long> e : entries.entrySet())
            {
                final int g = (int)(e.getKey() >>> 32);
                final int block = (int)(long)e.getKey();
                final UnsafeBuffer h = header(g);
                final int entryAt = RegionLayout.batOffset(h) + BlockAllocationTable.entryOffset(block);
                final int word = RegionLayout.blockOffset(RegionLayout.firstBlockOffset(h), RegionLayout.blockSize(h),
                    block) + BlockHeader.BITMAP_OFFSET;
                for (int j = 0; j < m.replicaCount(g); j++)
                {
                    final UnsafeBuffer got = new UnsafeBuffer(new byte[2 * Long.BYTES]);
                    final RemoteRegion r = v.channel(m.replica(g, j)).region(m.physical(g, j));
                    final VerbBatch b = new VerbBatch();
                    b.read(r, entryAt, got, 0, Long.BYTES);
                    b.read(r, word, got, Long.BYTES, Long.BYTES);
                    v.execute(b);
                    assertEquals(BlockAllocationTable.toString(e.getValue()), BlockAllocationTable.toString(got.getLong(0)),
                        "region " + g + " block " + block + " on replica " + j + " (node " + m.replica(g, j) + ")");
                    if (j == 0)
                    {
                        assertEquals((long)bits.getOrDefault(e.getKey(), 0L), got.getLong(Long.BYTES),
                            "bitmap of region " + g + " block " + block + " on its primary (node " + m.primary(g) + ")");
                    }
                    checked++;
                }
            }
            assertTrue(checked > 0);
        }
    }
}
