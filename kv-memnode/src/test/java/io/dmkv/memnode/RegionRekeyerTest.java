package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.ClusterMaps;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.MapName;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.RegionTable;

/**
 * When the region map drops a memory node, the surviving replicas of its regions are re-keyed:
 * a client still routed by the old map is refused there, while regions whose replica list did
 * not change keep serving it.
 */
@Timeout(60)
class RegionRekeyerTest
{
    private static final int REGIONS = 6;

    @Test
    void survivorsRekeyExactlyTheRegionsWhoseReplicaListChanged() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, REGIONS * 16 * 1024, 16 * 1024, "tcp");
            Coordinator c = Coordinator.open(cluster.coordinatorSettings());
            VerbsTransport transport = cluster.newTransport();
            VerbsClient stale = VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults()))
        {
            final List<String> names = cluster.nodes().stream().map(MemoryNode::name).toList();
            final RegionMap before = RegionMap.place(1, REGIONS, 3, 2);
            assertEquals(ClusterMaps.FormatRole.FORMATTER, c.maps().claimFormat("test"));
            c.maps().publish(new ClusterLayout(names, java.util.Map.of("clusterId", "1")).encode(), before.epoch(), before.toBytes(),
                new byte[0]);
            final RegionTable survivor = cluster.nodes().get(0).service().regions();
            awaitFollowing(cluster);

            final RegionMap after = before.withoutNode(1);
            final VersionedMap current = c.maps().read(MapName.REGIONS).orElseThrow();
            c.maps().write(current, after.epoch(), after.toBytes());

            final List<Integer> changed = new ArrayList<>();
            final List<Integer> kept = new ArrayList<>();
            for (int g = 0; g < REGIONS; g++)
            {
                if (before.hasReplicaOn(g, 0) || after.hasReplicaOn(g, 0))
                {
                    (Arrays.equals(before.replicas(g), after.replicas(g)) ? kept : changed).add(g);
                }
            }
            assertFalse(changed.isEmpty());
            assertFalse(kept.isEmpty());
            final long deadline = System.nanoTime() + 30_000_000_000L;
            // A node's replica of region g is its physical region at g's position among its regions.
            final int[] held = before.regionsOn(0);
            while (survivor.regions().get(Arrays.binarySearch(held, changed.get(0))).keyGeneration() == 0)
            {
                assertTrue(System.nanoTime() < deadline, "node 0 never re-keyed region " + changed.get(0));
                Thread.sleep(20);
            }
            for (final int g : changed)
            {
                final int phys = Arrays.binarySearch(held, g);
                assertEquals(1, survivor.regions().get(phys).keyGeneration(), "region " + g);
                assertThrows(RemoteAccessException.class, () -> faa(stale, stale.channel(0).region(phys)),
                    "a verb routed by the old map is refused on region " + g);
            }
            for (final int g : kept)
            {
                final int phys = Arrays.binarySearch(held, g);
                assertEquals(0, survivor.regions().get(phys).keyGeneration(), "region " + g);
                faa(stale, stale.channel(0).region(phys));
            }
        }
    }

    /** The map must be followed before it changes, or the change would be the first map seen. */
    private static void awaitFollowing(final EmbeddedCluster cluster) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!cluster.memberships().stream().allMatch(MemoryNodeMembership::followsRegionMap))
        {
            assertTrue(System.nanoTime() < deadline, "memory nodes never followed the region map");
            Thread.sleep(20);
        }
    }

    private static void faa(final VerbsClient client, final RemoteRegion region)
    {
        final VerbBatch b = new VerbBatch();
        b.faa(region, 4096, 1);
        client.execute(b);
    }
}
