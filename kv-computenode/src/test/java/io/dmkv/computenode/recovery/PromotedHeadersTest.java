package io.dmkv.computenode.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.Closer;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.replication.SnapshotSettleRule;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * A fail-over promotes a backup whose bucket header carries insert-lock bits (a re-replication
 * copy's stale image of the primary's header: locks are CASed on the primary only, and the holder
 * released there): the promoted primary's header comes out unlocked, depth and suffix kept.
 * Before, the lock stood on the new primary with nobody to release it, and {@code kv verify}
 * reported it held by a client that was gone.
 */
@Timeout(60)
class PromotedHeadersTest
{
    private final Closer closer = new Closer();

    @AfterEach
    void stop()
    {
        closer.close();
    }

    @Test
    void aStaleLockOnThePromotedReplicaIsCleared()
    {
        final EmbeddedCluster cluster = closer.add(EmbeddedCluster.start(3, 16L << 20, 4L << 20, "local"));
        final VerbsClient client = closer.add(VerbsClient.connect(closer.add(cluster.newTransport()),
            cluster.endpoints(), ClientOptions.defaults()));
        final ClusterView view = ClusterBootstrap.join(client, ClusterSettings.defaults(3).withBlockSize(64 * 1024)
            .withIndex(64, 2, 6).withIndexAreaBytes(1 << 20));
        final long header = IndexRoot.entrySubtable(new IndexDirectory(view, client).current().entryFor(0x5EEDL))
            + Bucket.HEADER_OFFSET;
        final int dead = view.map().primary(GlobalAddress.regionId(header));
        final long plain = read(client, view, header, 1);
        final VerbBatch lock = new VerbBatch();
        final int at = view.cas(lock, header, 1, plain, Bucket.insertLocked(plain, 7, 5));
        client.execute(lock);
        assertTrue(lock.casSucceeded(at), "a copied lock word on the backup");

        final MemoryNodeFailover.Report report = new MemoryNodeFailover(view, client, SnapshotSettleRule.INSTANCE)
            .repair(view.map(), dead, Set.of(dead));

        final ClusterView after = ClusterBootstrap.rerouted(client, view, report.next());
        assertTrue(report.regionsPromoted() > 0, report.toString());
        assertEquals(plain, read(client, after, header, 0), "the promoted primary's header: unlocked, same depth and"
            + " suffix");
    }

    private static long read(final VerbsClient client, final ClusterView view, final long address, final int j)
    {
        final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
        final VerbBatch b = new VerbBatch();
        view.read(b, address, j, word, 0, 8);
        client.execute(b);
        return word.getLong(0);
    }
}
