package io.dmkv.core.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * Client identity. Ids are u16 (they live in block tables and log heads), so they are reused:
 * a client claims the lowest free id in 1..maxClients by creating {@code /clients/<id>}
 * together with its ephemeral child {@code live}, in one transaction. A client that closes
 * releases its id. A client whose session expired leaves {@code /clients/<id>} without
 * {@code live}: the id stays reserved (its blocks and log heads still name it) until recovery
 * has replayed its log, handed its blocks over and {@link #release}d it, or until the client
 * comes back and {@link #reclaim}s it.
 */
public final class ClientIds
{
    private final CuratorFramework curator;
    private final int maxClients;

    ClientIds(final CuratorFramework curator, final int maxClients)
    {
        this.curator = curator;
        this.maxClients = maxClients;
    }

    public int maxClients()
    {
        return maxClients;
    }

    /**
     * Claims the lowest free id for {@code owner} (a name for logs and status).
     *
     * @throws CoordinationException when every id is taken, saying how many by dead clients.
     */
    public int claim(final String owner)
    {
        return ZkCalls.call("claiming a client id", () ->
        {
            final Set<Integer> taken = new HashSet<>(ids());
            for (int id = 1; id <= maxClients; id++)
            {
                if (!taken.contains(id) && tryCreate(id, owner))
                {
                    return id;
                }
            }
            final int dead = dead().size();
            throw new CoordinationException("all " + maxClients + " client ids are taken (" + dead
                + " by dead clients awaiting recovery): raise dmkv.maxClients or close clients");
        });
    }

    /**
     * Takes {@code id} back for a restarted client (to recover its log), or claims it if free.
     *
     * @throws CoordinationException when a live client holds it.
     */
    public int reclaim(final int id, final String owner)
    {
        requireRange(id);
        return ZkCalls.call("reclaiming client id " + id, () ->
        {
            if (tryCreate(id, owner))
            {
                return id;
            }
            try
            {
                curator.create().withMode(CreateMode.EPHEMERAL).forPath(live(id));
                curator.setData().forPath(ZnodePaths.clientId(id), owner.getBytes(StandardCharsets.UTF_8));
                return id;
            }
            catch (final KeeperException.NodeExistsException e)
            {
                throw new CoordinationException("client id " + id + " is in use by a live client ("
                    + owner(id) + "): it cannot be taken back while that client runs");
            }
            catch (final KeeperException.NoNodeException e)
            {
                // Released between our two steps: claim it afresh.
                if (tryCreate(id, owner))
                {
                    return id;
                }
                throw new CoordinationException("client id " + id + " was claimed by another client meanwhile");
            }
        });
    }

    /** Frees {@code id} for reuse: by its owner on close, or by recovery once its log is recovered. */
    public void release(final int id)
    {
        requireRange(id);
        ZkCalls.call("releasing client id " + id, () ->
        {
            try
            {
                curator.delete().deletingChildrenIfNeeded().forPath(ZnodePaths.clientId(id));
            }
            catch (final KeeperException.NoNodeException ignored)
            {
                // Already free.
            }
            return null;
        });
    }

    /** Ids reserved by clients whose session ended without releasing them (recovery's work list). */
    public List<Integer> dead()
    {
        return filter(false);
    }

    /** Ids of clients alive now. */
    public List<Integer> live()
    {
        return filter(true);
    }

    private List<Integer> filter(final boolean alive)
    {
        return ZkCalls.call("listing client ids", () ->
        {
            final List<Integer> out = new ArrayList<>();
            for (final int id : ids())
            {
                if ((curator.checkExists().forPath(live(id)) != null) == alive)
                {
                    out.add(id);
                }
            }
            out.sort(null);
            return out;
        });
    }

    private boolean tryCreate(final int id, final String owner) throws Exception
    {
        try
        {
            curator.transaction().forOperations(
                curator.transactionOp().create().forPath(ZnodePaths.clientId(id), owner.getBytes(StandardCharsets.UTF_8)),
                curator.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(live(id)));
            return true;
        }
        catch (final KeeperException.NodeExistsException e)
        {
            return false;
        }
        catch (final KeeperException.NoNodeException e)
        {
            try
            {
                curator.create().creatingParentsIfNeeded().forPath(ZnodePaths.CLIENTS);
            }
            catch (final KeeperException.NodeExistsException ignored)
            {
                // Another client created it first.
            }
            return tryCreate(id, owner);
        }
    }

    private List<Integer> ids() throws Exception
    {
        final List<Integer> out = new ArrayList<>();
        try
        {
            for (final String child : curator.getChildren().forPath(ZnodePaths.CLIENTS))
            {
                out.add(Integer.parseInt(child));
            }
        }
        catch (final KeeperException.NoNodeException e)
        {
            // No client ever joined.
        }
        return out;
    }

    private String owner(final int id)
    {
        return ZkCalls.call("reading client id " + id, () ->
            new String(curator.getData().forPath(ZnodePaths.clientId(id)), StandardCharsets.UTF_8));
    }

    private static String live(final int id)
    {
        return ZKPaths.makePath(ZnodePaths.clientId(id), ZnodePaths.LIVE);
    }

    private void requireRange(final int id)
    {
        if (id < 1 || id > maxClients)
        {
            throw new IllegalArgumentException("client id must be in 1.." + maxClients + ", got " + id);
        }
    }
}
