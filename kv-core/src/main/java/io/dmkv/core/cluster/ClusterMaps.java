package io.dmkv.core.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The cluster maps in the coordinator ({@code /maps/layout}, {@code /maps/regions},
 * {@code /maps/partitions}), each with an epoch that only grows, and the formatting of a new
 * cluster. Every write names the version it replaces, so of two writers that read the same
 * version exactly one succeeds; leader-only writes also check the leader epoch, so a deposed
 * leader's late writes fail.
 */
public final class ClusterMaps
{
    private final CuratorFramework curator;
    private final String cluster;

    ClusterMaps(final CuratorFramework curator, final String cluster)
    {
        this.curator = curator;
        this.cluster = cluster;
    }

    /** What a member that wants to format a new cluster learns from {@link #claimFormat}. */
    public enum FormatRole
    {
        /** This member formats: format the memory nodes, then {@link #publish}. */
        FORMATTER,
        /** The cluster is formatted: read the maps. */
        FORMATTED,
        /** Another member is formatting: {@link #awaitFormatted} and read the maps. */
        OTHER_FORMATTING
    }

    /**
     * Decides who formats a new cluster: the member that creates the ephemeral {@code /format}
     * znode. If it dies before publishing, its znode goes with its session and another may claim.
     */
    public FormatRole claimFormat(final String owner)
    {
        return ZkCalls.call("claiming the formatting of cluster " + cluster, () ->
        {
            if (mode().isPresent())
            {
                return FormatRole.FORMATTED;
            }
            try
            {
                curator.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                    .forPath(ZnodePaths.FORMAT, owner.getBytes(StandardCharsets.UTF_8));
            }
            catch (final KeeperException.NodeExistsException e)
            {
                return FormatRole.OTHER_FORMATTING;
            }
            // Formatted between our check and our create: the publisher has deleted /format.
            if (mode().isPresent())
            {
                curator.delete().forPath(ZnodePaths.FORMAT);
                return FormatRole.FORMATTED;
            }
            return FormatRole.FORMATTER;
        });
    }

    /**
     * Publishes a formatted cluster in one transaction: its mode, the three maps (epoch 1
     * unless a payload says otherwise) and the end of the formatting claim. Only the holder of
     * the claim can do this.
     */
    public void publish(final byte[] layout, final long regionsEpoch, final byte[] regions, final byte[] partitions)
    {
        final Map<MapName, byte[]> data = new EnumMap<>(MapName.class);
        data.put(MapName.LAYOUT, VersionedMap.encode(1, layout));
        data.put(MapName.REGIONS, VersionedMap.encode(regionsEpoch, regions));
        data.put(MapName.PARTITIONS, VersionedMap.encode(1, partitions));
        ZkCalls.call("publishing the maps of cluster " + cluster, () ->
        {
            try
            {
                curator.create().creatingParentsIfNeeded().forPath(ZnodePaths.MAPS);
            }
            catch (final KeeperException.NodeExistsException ignored)
            {
                // Left by an earlier, failed attempt: the transaction below still decides.
            }
            final CuratorOp[] ops = new CuratorOp[5];
            ops[0] = curator.transactionOp().check().forPath(ZnodePaths.FORMAT);
            ops[1] = curator.transactionOp().create().forPath(ZnodePaths.MODE,
                ClusterMode.COORDINATED.label().getBytes(StandardCharsets.UTF_8));
            int i = 2;
            for (final Map.Entry<MapName, byte[]> e : data.entrySet())
            {
                ops[i++] = curator.transactionOp().create().forPath(ZnodePaths.map(e.getKey()), e.getValue());
            }
            try
            {
                curator.transaction().forOperations(ops);
            }
            catch (final KeeperException.NodeExistsException e)
            {
                throw new StaleMapException("cluster " + cluster + " is already formatted");
            }
            curator.delete().forPath(ZnodePaths.FORMAT);
            return null;
        });
    }

    /** Waits until the cluster is formatted; false if {@code timeout} passed first. */
    public boolean awaitFormatted(final Duration timeout)
    {
        return ZkCalls.call("waiting for cluster " + cluster + " to be formatted", () ->
        {
            final CountDownLatch created = new CountDownLatch(1);
            if (curator.checkExists().usingWatcher((org.apache.zookeeper.Watcher)e -> created.countDown())
                .forPath(ZnodePaths.MODE) != null)
            {
                return true;
            }
            return created.await(timeout.toNanos(), TimeUnit.NANOSECONDS) && mode().isPresent();
        });
    }

    /** The mode the cluster was created in, or empty while it is not formatted. */
    public Optional<ClusterMode> mode()
    {
        return ZkCalls.call("reading the mode of cluster " + cluster, () ->
        {
            try
            {
                return Optional.of(ClusterMode.fromLabel(new String(curator.getData().forPath(ZnodePaths.MODE),
                    StandardCharsets.UTF_8)));
            }
            catch (final KeeperException.NoNodeException e)
            {
                return Optional.empty();
            }
        });
    }

    /** Refuses (with {@link ClusterModeException}) to join in {@code joining} mode a cluster created otherwise. */
    public void requireMode(final ClusterMode joining)
    {
        mode().ifPresent(created -> ClusterMode.requireJoinable("'" + cluster + "'", created, joining));
    }

    /** The current version of {@code map}, or empty while the cluster is not formatted. */
    public Optional<VersionedMap> read(final MapName map)
    {
        return ZkCalls.call("reading map " + map.znode(), () ->
        {
            final Stat stat = new Stat();
            try
            {
                final byte[] data = curator.getData().storingStatIn(stat).forPath(ZnodePaths.map(map));
                return Optional.of(VersionedMap.decode(map, data, stat.getVersion()));
            }
            catch (final KeeperException.NoNodeException e)
            {
                return Optional.empty();
            }
        });
    }

    /**
     * Replaces {@code expected} by {@code payload} at {@code newEpoch}.
     *
     * @throws StaleMapException when the map changed since {@code expected} was read.
     * @throws IllegalArgumentException when {@code newEpoch} does not exceed the expected epoch.
     */
    public VersionedMap write(final VersionedMap expected, final long newEpoch, final byte[] payload)
    {
        requireGrowing(expected, newEpoch);
        return ZkCalls.call("writing map " + expected.name().znode(), () ->
        {
            try
            {
                final Stat stat = curator.setData().withVersion(expected.znodeVersion())
                    .forPath(ZnodePaths.map(expected.name()), VersionedMap.encode(newEpoch, payload));
                return new VersionedMap(expected.name(), newEpoch, stat.getVersion(), payload);
            }
            catch (final KeeperException.BadVersionException e)
            {
                throw stale(expected);
            }
        });
    }

    /**
     * As {@link #write}, but only while {@code leader} still leads: the write and a check of the
     * leader epoch's version go in one transaction.
     *
     * @throws NotLeaderException when a newer leader has taken over.
     * @throws StaleMapException  when the map changed since {@code expected} was read.
     */
    public VersionedMap writeAsLeader(final LeaderElection.Token leader, final VersionedMap expected, final long newEpoch,
        final byte[] payload)
    {
        requireGrowing(expected, newEpoch);
        return ZkCalls.call("writing map " + expected.name().znode() + " as leader", () ->
        {
            final List<CuratorTransactionResult> results;
            try
            {
                results = curator.transaction().forOperations(
                    curator.transactionOp().check().withVersion(leader.znodeVersion()).forPath(leader.epochPath()),
                    curator.transactionOp().setData().withVersion(expected.znodeVersion())
                        .forPath(ZnodePaths.map(expected.name()), VersionedMap.encode(newEpoch, payload)));
            }
            catch (final KeeperException.BadVersionException | KeeperException.NoNodeException e)
            {
                final Stat now = curator.checkExists().forPath(leader.epochPath());
                if (now == null || now.getVersion() != leader.znodeVersion())
                {
                    throw new NotLeaderException(leader.participantId() + " is no longer the leader of cluster " + cluster
                        + " (its leader epoch " + leader.epoch() + " was superseded): its write to "
                        + expected.name().znode() + " was refused");
                }
                throw stale(expected);
            }
            return new VersionedMap(expected.name(), newEpoch, results.get(1).getResultStat().getVersion(), payload);
        });
    }

    private static void requireGrowing(final VersionedMap expected, final long newEpoch)
    {
        if (newEpoch <= expected.epoch())
        {
            throw new IllegalArgumentException("map epochs only grow: " + expected + " cannot be replaced at epoch "
                + newEpoch);
        }
    }

    private StaleMapException stale(final VersionedMap expected)
    {
        return new StaleMapException("map " + expected.name().znode() + " of cluster " + cluster
            + " changed since epoch " + expected.epoch() + " was read: re-read it and retry");
    }
}
