package io.dmkv.correctness;


import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.KvConfig;
import io.dmkv.computenode.cluster.ClusterSettings;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.cluster.ClusterMode;
import io.dmkv.computenode.index.IndexChecks;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/** Clusters, configs and raw index inspection shared by the correctness tests. */
final class Fixtures
{
    private Fixtures()
    {
    }

    /**
     * True when the suite runs against the embedded coordinator (the {@code correctness-coordinated}
     * run of the build sets {@code dmkv.test.coordinated}): stores find the memory nodes through it
     * and clusters are created in coordinated mode.
     */
    static final boolean COORDINATED = Boolean.getBoolean("dmkv.test.coordinated");

    /** A store config for {@code cluster}: its static node list, or its coordinator in the coordinated run. */
    static KvConfig.Builder store(final EmbeddedCluster cluster)
    {
        return COORDINATED ? KvConfig.builder().coordinator(cluster.coordinatorConnectString())
            : KvConfig.builder().memnodes(cluster.endpoints());
    }

    /**
     * An embedded cluster of {@code count} nodes, registered with the embedded coordinator only in
     * the coordinated run: a static run's nodes then never re-key (a node re-keys its regions after
     * a lost coordinator session, which a static client cannot follow).
     */
    static EmbeddedCluster cluster(final int count, final long memoryPerNode, final long regionBytes,
        final String transport)
    {
        return EmbeddedCluster.start(count, memoryPerNode, regionBytes, transport, COORDINATED);
    }

    /** The mode clusters are created in by this run. */
    static ClusterMode mode()
    {
        return COORDINATED ? ClusterMode.COORDINATED : ClusterMode.STATIC;
    }

    /** A small-cluster config with tiny subtables, so splits happen (as KvStoreTest's). */
    static KvConfig.Builder small(final EmbeddedCluster cluster, final int r)
    {
        return store(cluster).transport(cluster.transport()).replication(r)
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(2 << 20)
            .reclaimPeriod(Duration.ofMillis(50));
    }

    static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String string(final byte[] b)
    {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** A raw connection to a cluster's memory nodes, for looking at (and poking) the index directly. */
    static final class Raw implements AutoCloseable
    {
        final VerbsTransport transport;
        final VerbsClient client;
        final ClusterView view;

        Raw(final EmbeddedCluster cluster, final int r)
        {
            transport = cluster.newTransport();
            client = VerbsClient.connect(transport, cluster.endpoints(), ClientOptions.defaults());
            view = ClusterBootstrap.join(client, ClusterSettings.defaults(r), mode());
        }

        /** See {@link IndexChecks#assertQuietIndexConsistent}; returns how many subtables were checked. */
        int assertIndexReplicasEqual()
        {
            return IndexChecks.assertQuietIndexConsistent(view, client);
        }

        /**
         * The slot that holds {@code key} on the primary: {address, value}, or null if no slot
         * does. Reads the directory, both candidate combined buckets and the candidate objects.
         */
        long[] findSlot(final byte[] key)
        {
            final Map<Long, Long> holding = slotsHolding(key);
            if (holding.isEmpty())
            {
                return null;
            }
            final Map.Entry<Long, Long> first = holding.entrySet().iterator().next();
            return new long[] {first.getKey(), first.getValue()};
        }

        /**
         * How many slots of the key's two combined buckets (on the primary) hold an object of
         * {@code key}: more than one means two INSERTs of one key both landed.
         */
        int countSlots(final byte[] key)
        {
            return slotsHolding(key).size();
        }

        /** Slot address → slot value of every slot (on the primary) whose object holds {@code key}. */
        private Map<Long, Long> slotsHolding(final byte[] key)
        {
            final long hash = KeyHash.hash(key);
            final int fp = KeyHash.fingerprint(hash);
            final long subtable = IndexRoot.entrySubtable(new IndexDirectory(view, client).refresh().entryFor(hash));
            final int groups = view.descriptor().bucketGroups();
            final int[] cs = {Subtable.combinedBucket1(hash, groups), Subtable.combinedBucket2(hash, groups)};
            final UnsafeBuffer buckets = new UnsafeBuffer(new byte[CombinedBucket.LENGTH]);
            final UnsafeBuffer object = new UnsafeBuffer(new byte[Slot.MAX_OBJECT_LENGTH]);
            final VerbBatch b = new VerbBatch();
            // Neighbouring combined buckets share their overflow bucket: key by slot address.
            final Map<Long, Long> holding = new LinkedHashMap<>();
            for (final int c : cs)
            {
                final long at = GlobalAddress.add(subtable, Subtable.combinedBucketOffset(c));
                b.reset().read(view.replicaOf(at, 0), GlobalAddress.offset(at), buckets, 0, CombinedBucket.LENGTH);
                client.execute(b);
                for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
                {
                    final long value = CombinedBucket.slot(buckets, 0, c, i);
                    if (Slot.isFree(value) || Slot.fingerprint(value) != fp)
                    {
                        continue;
                    }
                    final long address = Slot.address(value);
                    b.reset().read(view.replicaOf(address, 0), GlobalAddress.offset(address), object, 0,
                        Slot.objectLength(value));
                    client.execute(b);
                    if (KvObject.keyEquals(object, 0, key))
                    {
                        holding.put(GlobalAddress.add(subtable, Subtable.slotOffset(c, i)), value);
                    }
                }
            }
            return holding;
        }

        /** CASes replica {@code j} of the slot at {@code slotAddress}; returns the value it held. */
        long cas(final long slotAddress, final int j, final long expected, final long replacement)
        {
            final VerbBatch b = new VerbBatch();
            final int at = b.cas(view.replicaOf(slotAddress, j), GlobalAddress.offset(slotAddress), expected,
                replacement);
            client.execute(b);
            return b.result(at);
        }

        /** Reads replica {@code j} of the slot at {@code slotAddress}. */
        long read(final long slotAddress, final int j)
        {
            final UnsafeBuffer word = new UnsafeBuffer(new byte[8]);
            final VerbBatch b = new VerbBatch();
            b.read(view.replicaOf(slotAddress, j), GlobalAddress.offset(slotAddress), word, 0, 8);
            client.execute(b);
            return word.getLong(0);
        }

        @Override
        public void close()
        {
            client.close();
            transport.close();
        }
    }
}
