package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.memnode.EmbeddedCluster;

/**
 * Blocks are not pinned to the size class they were first used for: after a store is written
 * with large values and emptied again, a fill with values of another size class gets at least
 * 95% of what the same fill gets on a fresh cluster (each phase with fresh short-lived clients),
 * because the memory node hands a handed-over block whose objects are all free to any class.
 */
@Timeout(240)
class BlockClassReuseTest
{
    private static final String LARGE = "L".repeat(3000);
    private static final String SMALL = "s".repeat(600);

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void anEmptiedStoreFillsWithAnotherSizeClassAsMuchAsAFreshOne(final int r)
    {
        final int fresh = fillFresh(r, false);
        final int reused = fillFresh(r, true);
        System.out.println("r = " + r + ": fresh fill " + fresh + " keys, after large values and deletes " + reused);
        assertTrue(reused >= 0.95 * fresh, "fill after large values were written and deleted: " + reused
            + " keys; on a fresh cluster: " + fresh);
    }

    private static int fillFresh(final int r, final boolean largeFirst)
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 8L << 20, 4L << 20, "local", false))
        {
            final KvConfig config = KvConfig.builder().memnodes(cluster.endpoints()).transport("local").replication(r)
                .blockSize(64 * 1024).bucketGroups(64).initialDepth(2).maxDepth(8).indexAreaBytes(1 << 20).build();
            if (largeFirst)
            {
                try (KvStore kv = KvStore.open(config))
                {
                    for (int i = 0; i < 600 / r; i++)
                    {
                        kv.put("L" + i, LARGE);
                    }
                }
                try (KvStore kv = KvStore.open(config))
                {
                    for (int i = 0; i < 600 / r; i++)
                    {
                        assertTrue(kv.delete("L" + i));
                    }
                }
            }
            int n = 0;
            try (KvStore kv = KvStore.open(config))
            {
                for (; n < 200_000; n++)
                {
                    kv.put("s" + n, SMALL);
                }
            }
            catch (final MemoryFullException full)
            {
                // Full: n keys fit.
            }
            return n;
        }
    }
}
