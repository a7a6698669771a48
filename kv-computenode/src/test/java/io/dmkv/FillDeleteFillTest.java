package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.memnode.EmbeddedCluster;

/**
 * A full store can be emptied and filled again: fill with mixed value sizes until
 * {@link MemoryFullException}, delete every key (DELETEs take a memory node's reserve block when
 * nothing else is left), fill again, and so on, each phase through a fresh short-lived client.
 * The second fill holds at least 95% of the first, and the third as much as the second.
 */
@Timeout(300)
class FillDeleteFillTest
{
    private static final int[] SIZES = {100, 700, 2000, 40};

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aFullStoreEmptiesAndRefills(final int r)
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 8L << 20, 4L << 20, "local", false))
        {
            final KvConfig config = KvConfig.builder().memnodes(cluster.endpoints()).transport("local").replication(r)
                .blockSize(64 * 1024).bucketGroups(64).initialDepth(2).maxDepth(8).indexAreaBytes(1 << 20).build();
            final int first = fill(config, "a");
            deleteAll(config, "a", first);
            final int second = fill(config, "b");
            deleteAll(config, "b", second);
            final int third = fill(config, "c");
            System.out.println("r = " + r + ": fills of " + first + ", " + second + " and " + third + " keys");
            assertTrue(first > 1000, "the first fill stored " + first);
            assertTrue(second >= 0.95 * first, "second fill " + second + " of the first's " + first);
            assertTrue(third >= 0.99 * second, "third fill " + third + " of the second's " + second);
        }
    }

    private static int fill(final KvConfig config, final String prefix)
    {
        int n = 0;
        try (KvStore kv = KvStore.open(config))
        {
            for (; n < 500_000; n++)
            {
                kv.put(prefix + n, value(n));
            }
        }
        catch (final MemoryFullException full)
        {
            assertTrue(full.getMessage().contains("owned by"), "says who holds the memory: " + full.getMessage());
        }
        return n;
    }

    private static void deleteAll(final KvConfig config, final String prefix, final int n)
    {
        try (KvStore kv = KvStore.open(config))
        {
            for (int i = 0; i < n; i++)
            {
                assertTrue(kv.delete(prefix + i), "delete of " + prefix + i);
            }
            for (int i = 0; i < n; i += 101)
            {
                assertEquals(null, kv.get(prefix + i));
            }
        }
    }

    private static String value(final int i)
    {
        return Integer.toString(i).repeat(SIZES[i % SIZES.length] / Integer.toString(i).length() + 1);
    }
}
