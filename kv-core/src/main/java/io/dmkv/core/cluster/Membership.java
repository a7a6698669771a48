package io.dmkv.core.cluster;

import java.util.ArrayList;
import java.util.List;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * Members of the cluster. Each has a persistent record {@code /members/<kind>/<name>} (what it
 * publishes) and, while its session lives, an ephemeral child {@code live}. A member whose
 * session expired keeps its record without {@code live}: the cluster sees it dead (and knows
 * which regions it held) until someone removes it. A member that leaves cleanly removes both.
 */
public final class Membership
{
    private final CuratorFramework curator;

    Membership(final CuratorFramework curator)
    {
        this.curator = curator;
    }

    /**
     * Registers {@code info} under this session. The {@code live} znode is re-created by Curator
     * when a new session replaces an expired one; close the registration to leave.
     */
    public Registration register(final MemberInfo info)
    {
        final String record = ZKPaths.makePath(info.kind().path(), info.name());
        ZkCalls.call("registering " + info.name(), () ->
        {
            try
            {
                curator.create().creatingParentsIfNeeded().forPath(record, info.encode());
            }
            catch (final KeeperException.NodeExistsException e)
            {
                curator.setData().forPath(record, info.encode());
            }
            return null;
        });
        final PersistentNode live = new PersistentNode(curator, CreateMode.EPHEMERAL, false,
            ZKPaths.makePath(record, ZnodePaths.LIVE), new byte[0]);
        live.start();
        final boolean created = ZkCalls.call("registering " + info.name(),
            () -> live.waitForInitialCreate(curator.getZookeeperClient().getConnectionTimeoutMs(),
                java.util.concurrent.TimeUnit.MILLISECONDS));
        if (!created)
        {
            closeQuietly(live);
            throw new CoordinationException("member " + info.name() + " could not register its live znode in time");
        }
        return new Registration(record, live);
    }

    /** Every member of {@code kind} with a record, alive or dead, in name order. */
    public List<MemberInfo> list(final MemberInfo.Kind kind)
    {
        return ZkCalls.call("listing " + kind, () ->
        {
            final List<MemberInfo> out = new ArrayList<>();
            final List<String> names;
            try
            {
                names = new ArrayList<>(curator.getChildren().forPath(kind.path()));
            }
            catch (final KeeperException.NoNodeException e)
            {
                return out;
            }
            names.sort(null);
            for (final String name : names)
            {
                final String record = ZKPaths.makePath(kind.path(), name);
                try
                {
                    final byte[] data = curator.getData().forPath(record);
                    final boolean alive = curator.checkExists().forPath(ZKPaths.makePath(record, ZnodePaths.LIVE)) != null;
                    out.add(MemberInfo.decode(kind, name, data, alive));
                }
                catch (final KeeperException.NoNodeException e)
                {
                    // Left while we listed.
                }
            }
            return out;
        });
    }

    /** The alive members of {@code kind}. */
    public List<MemberInfo> alive(final MemberInfo.Kind kind)
    {
        return list(kind).stream().filter(MemberInfo::alive).toList();
    }

    /** Removes the record of a dead member (recovery is done with it). Refused while it is alive. */
    public void remove(final MemberInfo.Kind kind, final String name)
    {
        final String record = ZKPaths.makePath(kind.path(), name);
        ZkCalls.call("removing " + name, () ->
        {
            if (curator.checkExists().forPath(ZKPaths.makePath(record, ZnodePaths.LIVE)) != null)
            {
                throw new IllegalStateException("member " + name + " is alive: it cannot be removed");
            }
            try
            {
                curator.delete().forPath(record);
            }
            catch (final KeeperException.NoNodeException ignored)
            {
                // Already gone.
            }
            return null;
        });
    }

    private static void closeQuietly(final PersistentNode node)
    {
        try
        {
            node.close();
        }
        catch (final java.io.IOException ignored)
        {
            // Closing a recipe only deletes its znode; the session's end deletes it too.
        }
    }

    /** A member's registration: update what it publishes, or leave. */
    public final class Registration implements AutoCloseable
    {
        private final String record;
        private final PersistentNode live;

        private Registration(final String record, final PersistentNode live)
        {
            this.record = record;
            this.live = live;
        }

        /** Publishes a new record (e.g. after re-keying); the member stays registered. */
        public void update(final MemberInfo info)
        {
            ZkCalls.call("updating " + info.name(), () -> curator.setData().forPath(record, info.encode()));
        }

        /** Leaves cleanly: removes the live znode and the record. */
        @Override
        public void close()
        {
            closeQuietly(live);
            ZkCalls.call("leaving " + record, () ->
            {
                try
                {
                    curator.delete().deletingChildrenIfNeeded().forPath(record);
                }
                catch (final KeeperException.NoNodeException ignored)
                {
                    // Already gone.
                }
                return null;
            });
        }
    }
}
