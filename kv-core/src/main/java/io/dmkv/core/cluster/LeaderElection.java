package io.dmkv.core.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Election of the one member that acts for the cluster (the repairer after a memory-node death,
 * FlexKV's partition manager), with Curator's {@link LeaderLatch}. A new leader raises the
 * leader epoch ({@code /leader/epoch}) before it acts; its {@link Token} carries the epoch znode's
 * version, and {@link ClusterMaps#writeAsLeader} checks it in the same transaction as the write,
 * so a deposed leader (stalled, cut off, or replaced while it was not looking) cannot write.
 */
public final class LeaderElection implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);

    /** What a leader's writes carry: who it is and the version of the epoch znode it set. */
    public record Token(String participantId, long epoch, int znodeVersion, String epochPath)
    {
        /** A token of the cluster's leader ({@link ZnodePaths#LEADER_EPOCH}). */
        public Token(final String participantId, final long epoch, final int znodeVersion)
        {
            this(participantId, epoch, znodeVersion, ZnodePaths.LEADER_EPOCH);
        }
    }

    private final CuratorFramework curator;
    private final String participantId;
    private final LeaderLatch latch;
    private final String epochPath;
    private final ExecutorService events;
    private volatile Token token;

    private LeaderElection(final CuratorFramework curator, final String participantId, final String latchPath,
        final String epochPath)
    {
        this.curator = curator;
        this.participantId = participantId;
        this.epochPath = epochPath;
        this.latch = new LeaderLatch(curator, latchPath, participantId, LeaderLatch.CloseMode.NOTIFY_LEADER);
        this.events = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-leader-" + participantId);
            t.setDaemon(true);
            return t;
        });
    }

    static LeaderElection start(final CuratorFramework curator, final String participantId)
    {
        return start(curator, participantId, ZnodePaths.LEADER_LATCH, ZnodePaths.LEADER_EPOCH);
    }

    /** An election of its own (a role other than the cluster's leader), with its own epoch. */
    static LeaderElection start(final CuratorFramework curator, final String participantId, final String latchPath,
        final String epochPath)
    {
        final LeaderElection e = new LeaderElection(curator, participantId, latchPath, epochPath);
        e.latch.addListener(new LeaderLatchListener()
        {
            @Override
            public void isLeader()
            {
                e.takeOver();
            }

            @Override
            public void notLeader()
            {
                e.token = null;
                LOG.info("{} is no longer the cluster's leader", participantId);
            }
        }, e.events);
        ZkCalls.call("joining the leader election", () ->
        {
            e.latch.start();
            return null;
        });
        return e;
    }

    /** Raises the leader epoch; only then may this member act as the leader. */
    private void takeOver()
    {
        try
        {
            final Token t = ZkCalls.call("raising the leader epoch", this::raiseEpoch);
            if (latch.hasLeadership())
            {
                token = t;
                LOG.info("{} leads the cluster at leader epoch {}", participantId, t.epoch());
            }
        }
        catch (final CoordinationException e)
        {
            LOG.warn("{} won the election but could not raise the leader epoch: {}", participantId, e.getMessage());
        }
    }

    private Token raiseEpoch() throws Exception
    {
        while (true)
        {
            final Stat stat = new Stat();
            long epoch;
            try
            {
                epoch = Long.parseLong(new String(curator.getData().storingStatIn(stat).forPath(epochPath),
                    StandardCharsets.UTF_8));
            }
            catch (final KeeperException.NoNodeException e)
            {
                try
                {
                    curator.create().creatingParentsIfNeeded().forPath(epochPath,
                        "0".getBytes(StandardCharsets.UTF_8));
                }
                catch (final KeeperException.NodeExistsException ignored)
                {
                    // Another candidate created it first.
                }
                continue;
            }
            try
            {
                final Stat set = curator.setData().withVersion(stat.getVersion())
                    .forPath(epochPath, Long.toString(epoch + 1).getBytes(StandardCharsets.UTF_8));
                return new Token(participantId, epoch + 1, set.getVersion(), epochPath);
            }
            catch (final KeeperException.BadVersionException e)
            {
                // Someone raised it meanwhile (a leader that was deposed a moment ago): read again.
            }
        }
    }

    public String participantId()
    {
        return participantId;
    }

    /** Whether this member leads now and has raised the leader epoch. */
    public boolean isLeader()
    {
        return token != null && latch.hasLeadership();
    }

    /**
     * The token for leader-only writes.
     *
     * @throws NotLeaderException when this member does not lead.
     */
    public Token token()
    {
        final Token t = token;
        if (t == null || !latch.hasLeadership())
        {
            throw new NotLeaderException(participantId + " is not the cluster's leader");
        }
        return t;
    }

    /** Waits until this member leads (and has raised the epoch); false after {@code timeout}. */
    public boolean awaitLeadership(final Duration timeout)
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!isLeader())
        {
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                return false;
            }
            ZkCalls.call("waiting for leadership", () -> latch.await(Math.min(left, 50_000_000L), TimeUnit.NANOSECONDS));
        }
        return true;
    }

    /** The leader as ZooKeeper sees it (possibly another member), or empty when there is none. */
    public static Optional<String> currentLeader(final Coordinator coordinator)
    {
        final CuratorFramework c = coordinator.curator();
        return ZkCalls.call("reading the leader", () ->
        {
            try
            {
                final List<String> nodes = c.getChildren().forPath(ZnodePaths.LEADER_LATCH);
                String lowest = null;
                for (final String n : nodes)
                {
                    if (lowest == null || sequence(n) < sequence(lowest))
                    {
                        lowest = n;
                    }
                }
                return lowest == null ? Optional.empty() : Optional.of(new String(
                    c.getData().forPath(ZnodePaths.LEADER_LATCH + "/" + lowest), StandardCharsets.UTF_8));
            }
            catch (final KeeperException.NoNodeException e)
            {
                return Optional.empty();
            }
        });
    }

    /** The current leader epoch (0 when no leader ever took over). */
    public static long currentEpoch(final Coordinator coordinator)
    {
        return ZkCalls.call("reading the leader epoch", () ->
        {
            try
            {
                return Long.parseLong(new String(coordinator.curator().getData().forPath(ZnodePaths.LEADER_EPOCH),
                    StandardCharsets.UTF_8));
            }
            catch (final KeeperException.NoNodeException e)
            {
                return 0L;
            }
        });
    }

    private static long sequence(final String node)
    {
        return Long.parseLong(node.substring(node.length() - 10));
    }

    /** The participants of the election, leader flagged (for status displays). */
    public List<Participant> participants()
    {
        return ZkCalls.call("listing election participants", () -> List.copyOf(latch.getParticipants()));
    }

    /** Leaves the election; if this member led, another takes over. */
    @Override
    public void close()
    {
        token = null;
        try
        {
            latch.close();
        }
        catch (final IOException | IllegalStateException e)
        {
            LOG.debug("closing the leader latch of {}: {}", participantId, e.toString());
        }
        events.shutdown();
    }
}
