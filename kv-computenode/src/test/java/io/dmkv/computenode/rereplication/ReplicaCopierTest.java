package io.dmkv.computenode.rereplication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The promotion of a copy whose replica leaves the region (a decommission or a balancing move,
 * docs/recovery.md, "Leaving replicas"): the map that lifts the seal is published only once the
 * leaving replica has re-keyed its physical region. Before that, a reader whose map is still the
 * sealed one could read the leaving replica, frozen at the seal, after writes resumed on the new
 * replicas. The check runs in the publisher, at the moment the copier publishes each map, so it
 * does not depend on timing: the leaving node cannot have applied a map that is being published.
 */
@Timeout(120)
class ReplicaCopierTest
{
    private static final long MEMORY = 32L << 20;
    private static final long REGION = 8L << 20;

    @Test
    void theSealIsLiftedOnlyAfterTheLeavingReplicaReKeyed() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(4, MEMORY, REGION, "tcp"))
        {
            final KvConfig config = KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("tcp")
                .replication(3).blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(1 << 20)
                .sessionTimeout(Duration.ofSeconds(6)).mapLease(Duration.ofSeconds(2)).build();
            try (KvStore store = KvStore.open(config))
            {
                store.put("k", "v");
            }
            // A connection without a store: no agent plans a copy of its own meanwhile.
            try (ClusterConnection conn = ClusterConnection.open(config, SystemNanoClock.INSTANCE))
            {
                final CoordinatedCluster c = conn.coordination();
                final RegionMap map = RegionMap.fromBytes(c.readRegionMap().payload()).withEpoch(c.readRegionMap().epoch());
                final ReplicaPlanner.Move move = primaryMove(conn, map);
                final int g = move.region();
                final int leaving = move.leaving();
                final Recorder publisher = new Recorder(cluster, c, g, leaving, map.physicalOn(g, leaving));
                final ReplicaCopier copier = new ReplicaCopier(conn.verbs(), Duration.ofMillis(50),
                    Duration.ofSeconds(6));
                final ReplicaCopier.Report report = copier.run(map, List.of(move), publisher);
                assertTrue(publisher.unsealedAfterLeaving, "the copier published a map with the region unsealed");
                assertEquals(List.of(), publisher.violations);
                final RegionMap done = report.published();
                assertFalse(done.sealed(g));
                assertFalse(done.hasReplicaOn(g, leaving), "the leaving replica left");
                assertEquals(move.node(), done.primary(g), "the copy took the leaving primary's place");
            }
            try (KvStore store = KvStore.open(config))
            {
                assertEquals("v", store.get("k"));
            }
        }
    }

    /** A move of some region's primary to a free physical region of a node that lacks the region. */
    private static ReplicaPlanner.Move primaryMove(final ClusterConnection conn, final RegionMap map)
    {
        for (int n = 0; n < map.memoryNodeCount(); n++)
        {
            final int physical = conn.verbs().channel(n).regions().size();
            for (int p = 0; p < physical; p++)
            {
                for (int g = 0; !map.physicalInUse(n).get(p) && g < map.regionCount(); g++)
                {
                    if (!map.hasReplicaOn(g, n))
                    {
                        return new ReplicaPlanner.Move(g, n, p, map.primary(g));
                    }
                }
            }
        }
        throw new AssertionError("no free physical region for a copy in " + map);
    }

    /** Publishes as the replication agent does, checking the leaving replica's key at each publication. */
    private static final class Recorder implements ReplicaCopier.Publisher
    {
        private final EmbeddedCluster cluster;
        private final CoordinatedCluster coordination;
        private final int g;
        private final int leaving;
        private final int leavingPhys;
        private boolean sealed;
        private Long keyWhileSealed;
        boolean unsealedAfterLeaving;
        final List<String> violations = new ArrayList<>();

        Recorder(final EmbeddedCluster cluster, final CoordinatedCluster coordination, final int g, final int leaving,
            final int leavingPhys)
        {
            this.cluster = cluster;
            this.coordination = coordination;
            this.g = g;
            this.leaving = leaving;
            this.leavingPhys = leavingPhys;
        }

        @Override
        public RegionMap publish(final RegionMap expected, final RegionMap next)
        {
            final long key = cluster.nodes().get(leaving).service().regions().regions().get(leavingPhys).key();
            if (sealed && keyWhileSealed == null)
            {
                // The first publication after the seal: the copier saw the fence, so the leaving node
                // has applied the sealed map and holds the key it gave the region for it.
                keyWhileSealed = key;
            }
            if (!next.sealed(g) && next.joiner(g) < 0 && !next.hasReplicaOn(g, leaving))
            {
                unsealedAfterLeaving = true;
                assertNotNull(keyWhileSealed);
                if (key == keyWhileSealed)
                {
                    violations.add("map epoch " + next.epoch() + " lifts the seal of region " + g + " while memory node "
                        + leaving + " (which left it) still honours the key it had while the region was sealed");
                }
            }
            sealed |= next.sealed(g) && next.joiner(g) >= 0;
            final VersionedMap current = coordination.readRegionMap();
            assertEquals(expected.epoch(), current.epoch(), "nobody else publishes");
            coordination.publishRegionMap(current, next);
            return next;
        }
    }
}
