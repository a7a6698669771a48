package io.dmkv.correctness;

import static io.dmkv.correctness.Fixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import io.dmkv.KvStats;
import io.dmkv.KvStore;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Placement: subtables spread over index regions whose primaries are on different memory nodes,
 * object READs go to every replica in turn, so a uniform read-only run on 2 memory nodes has
 * neither node serve more than 60% of the READs; each client's per-node counts show it.
 */
class PlacementSpreadTest
{
    private static final int KEYS = 1_500;

    @Test
    void aUniformReadOnlyRunSpreadsReadsOverBothMemoryNodes() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(2, 32L << 20, 8L << 20, "local");
            KvStore kv = KvStore.open(Fixtures.small(cluster, 2).build()))
        {
            final byte[] value = new byte[200];
            for (int i = 0; i < KEYS; i++)
            {
                kv.put(utf8("key-" + i), value);
            }
            final List<KvStats.Verbs> before = kv.stats().nodes();
            assertEquals(2, before.size());
            final SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < 4_000; i++)
            {
                final int k = random.nextInt(KEYS);
                assertArrayEquals(value, kv.get(utf8("key-" + k)), "key-" + k);
            }
            final List<KvStats.Verbs> after = kv.stats().nodes();
            final long reads0 = after.get(0).reads() - before.get(0).reads();
            final long reads1 = after.get(1).reads() - before.get(1).reads();
            final double share0 = (double)reads0 / (reads0 + reads1);
            assertTrue(share0 >= 0.40 && share0 <= 0.60, "node 0 served " + reads0 + " READs, node 1 " + reads1);
            assertEquals(0, after.get(0).writes() - before.get(0).writes() + after.get(1).writes()
                - before.get(1).writes(), "a read-only run writes nothing");
        }
    }

    @Test
    void subtablesLiveInIndexRegionsWithPrimariesOnEveryNode() throws Exception
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(2, 32L << 20, 8L << 20, "local"))
        {
            try (KvStore kv = KvStore.open(Fixtures.small(cluster, 2).build()))
            {
                for (int i = 0; i < KEYS; i++)
                {
                    kv.put(utf8("key-" + i), new byte[16]);
                }
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, 2))
            {
                final int indexRegions = RegionLayout.indexRegions(raw.view.regions(), 2);
                assertEquals(2, indexRegions, "4 regions per node, 2 memory nodes");
                final Set<Integer> primaries = new HashSet<>();
                final Set<Long> subtables = new HashSet<>();
                for (final long entry : new IndexDirectory(raw.view, raw.client).refresh().entries())
                {
                    final long subtable = IndexRoot.entrySubtable(entry);
                    subtables.add(subtable);
                    final int g = GlobalAddress.regionId(subtable);
                    assertTrue(g < indexRegions, "subtable in region " + g);
                    primaries.add(raw.view.nodeOf(g, 0));
                }
                assertTrue(subtables.size() > 2, "the load split the 2 initial subtables: " + subtables.size());
                assertEquals(Set.of(0, 1), primaries, "subtables have primaries on both nodes");
            }
        }
    }
}
