package io.dmkv.core.cluster;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member's connection to the coordinator (ZooKeeper through Curator): one session, under
 * which its ephemeral znodes live, and the entry to everything the coordinator holds for one
 * cluster ({@code /dmkv/<cluster>}): membership, the maps, client ids and leader election.
 *
 * <p>Thread-safe. Close it to leave: the session ends and every ephemeral znode with it.
 */
public final class Coordinator implements AutoCloseable
{
    private static final java.util.Set<String> KNOWN_CHROOTS = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

    private final CoordinatorSettings settings;
    private final CuratorFramework curator;
    private final Membership members;
    private final ClusterMaps maps;
    private final ClientIds clientIds;

    private Coordinator(final CoordinatorSettings settings, final CuratorFramework curator)
    {
        this.settings = settings;
        this.curator = curator;
        this.members = new Membership(curator);
        this.maps = new ClusterMaps(curator, settings.cluster());
        this.clientIds = new ClientIds(curator, settings.maxClients());
    }

    /**
     * Connects, waiting at most the connection timeout.
     *
     * @throws CoordinationException naming the connect string when no server answers in time.
     */
    public static Coordinator open(final CoordinatorSettings settings)
    {
        ensureChroot(settings);
        final CuratorFramework curator = newClient(settings.connectString(), settings, true)
            .namespace(ZnodePaths.namespace(settings.cluster())).build();
        curator.start();
        awaitConnected(curator, settings);
        LOG.info("connected to coordinator {} (cluster {}, {}, session timeout {} ms, negotiated {} ms)",
            settings.connectString(), settings.cluster(), settings.secret() != null
                ? "znodes readable with the cluster secret only" : "UNAUTHENTICATED: anyone who reaches it may rewrite"
                    + " the cluster's maps", settings.sessionTimeout().toMillis(),
            ZkCalls.call("reading the session timeout",
                () -> curator.getZookeeperClient().getZooKeeper().getSessionTimeout()));
        return new Coordinator(settings, curator);
    }

    /**
     * A client of {@code connect}; with a secret it authenticates, and with {@code acls} the
     * znodes it creates carry the cluster's ACLs (not the chroot: other clusters share it).
     */
    private static CuratorFrameworkFactory.Builder newClient(final String connect, final CoordinatorSettings s,
        final boolean acls)
    {
        final int connectMs = (int)s.connectionTimeout().toMillis();
        final CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs((int)s.sessionTimeout().toMillis())
            .connectionTimeoutMs(connectMs)
            .retryPolicy(new ExponentialBackoffRetry(50, 8, Math.max(100, connectMs / 2)));
        if (s.secret() != null)
        {
            final ZnodeAcls znodeAcls = new ZnodeAcls(s.secret());
            b.authorization(ZnodeAcls.SCHEME, znodeAcls.authorization());
            if (acls)
            {
                b.aclProvider(znodeAcls);
            }
        }
        return b;
    }

    private static void awaitConnected(final CuratorFramework curator, final CoordinatorSettings s)
    {
        final boolean connected = ZkCalls.call("connecting to " + s.connectString(),
            () -> curator.blockUntilConnected((int)s.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS));
        if (!connected)
        {
            curator.close();
            throw new CoordinationException("cannot reach the coordinator at " + s.connectString() + " within "
                + s.connectionTimeout().toMillis() + " ms: is ZooKeeper (scripts/coordinator) running there?");
        }
    }

    /** ZooKeeper does not create the chroot of a connect string; an empty one is created here. */
    private static void ensureChroot(final CoordinatorSettings s)
    {
        final int slash = s.connectString().indexOf('/');
        if (slash < 0 || slash == s.connectString().length() - 1 || KNOWN_CHROOTS.contains(s.connectString()))
        {
            return;
        }
        try (CuratorFramework root = newClient(s.connectString().substring(0, slash), s, false).build())
        {
            root.start();
            awaitConnected(root, s);
            ZkCalls.call("creating chroot " + s.connectString().substring(slash), () ->
            {
                try
                {
                    root.create().creatingParentsIfNeeded().forPath(s.connectString().substring(slash));
                }
                catch (final KeeperException.NodeExistsException ignored)
                {
                    // Created by an earlier member: what we want.
                }
                return null;
            });
        }
        // A chroot is never deleted by dmkv: later members of this JVM skip the extra session.
        KNOWN_CHROOTS.add(s.connectString());
    }

    public CoordinatorSettings settings()
    {
        return settings;
    }

    /** Membership of memory nodes and compute nodes. */
    public Membership members()
    {
        return members;
    }

    /** The versioned cluster maps, and who formats a new cluster. */
    public ClusterMaps maps()
    {
        return maps;
    }

    /** Client ids in 1..maxClients. */
    public ClientIds clientIds()
    {
        return clientIds;
    }

    /**
     * A cached, watched copy of {@code map}, usable only within the map lease (the caller closes it).
     * Blocks until the first read; the map must exist (the cluster is formatted).
     */
    public CachedMap watch(final MapName map)
    {
        return CachedMap.start(curator, map, settings.mapLease(), settings.clock());
    }

    /**
     * Joins the election of the member that acts for the cluster (the caller closes it). Every
     * candidate stays a candidate until it closes, so a new leader follows a dead one.
     */
    public LeaderElection election(final String participantId)
    {
        return LeaderElection.start(curator, participantId);
    }

    /**
     * Joins the election of the FlexKV partition manager, among compute nodes only (memory nodes
     * take part in the cluster's election, not in this one); its writes carry its own epoch.
     */
    public LeaderElection partitionManagerElection(final String participantId)
    {
        return LeaderElection.start(curator, participantId, ZnodePaths.PARTITION_MANAGER_LATCH,
            ZnodePaths.PARTITION_MANAGER_EPOCH);
    }

    /** Calls {@code listener} on Curator's event thread for every change of the connection state. */
    public void onConnectionStateChange(final Consumer<ConnectionState> listener)
    {
        curator.getConnectionStateListenable().addListener((client, state) -> listener.accept(state));
    }

    /** Whether the session is connected now. */
    public boolean isConnected()
    {
        return curator.getZookeeperClient().isConnected();
    }

    /** The current session's id (changes when a session expires and a new one starts). */
    public long sessionId()
    {
        return ZkCalls.call("reading the session id", () -> curator.getZookeeperClient().getZooKeeper().getSessionId());
    }

    /** For tests and tools that need a recipe this class does not wrap. */
    public CuratorFramework curator()
    {
        return curator;
    }

    @Override
    public void close()
    {
        curator.close();
    }
}
