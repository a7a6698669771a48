package io.dmkv.core.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.rdma.security.ClusterSecret;

/**
 * With a cluster secret the coordinator's znodes of the cluster are readable and writable only
 * by members holding it: a peer without it, or with another, gets nothing.
 */
@Timeout(60)
class ProtectedCoordinatorTest
{
    private static final ClusterSecret SECRET = ClusterSecret.of("the cluster's own secret, 32 bytes".getBytes());
    private static final ClusterSecret WRONG = ClusterSecret.of("somebody else's secret, 32 bytes!".getBytes());

    @Test
    void everyZnodeOfTheClusterIsClosedToPeersWithoutTheSecret() throws Exception
    {
        final String connect = EmbeddedZooKeeper.shared().freshConnectString();
        final CoordinatorSettings settings = CoordinatorTest.settings(connect).withSecret(SECRET);
        try (Coordinator member = Coordinator.open(settings); CuratorFramework anonymous = raw(connect, null);
            CuratorFramework wrong = raw(connect, WRONG); Coordinator other = Coordinator.open(settings))
        {
            assertEquals(ClusterMaps.FormatRole.FORMATTER, member.maps().claimFormat("mn0"));
            final byte[] regions = "the region map".getBytes(StandardCharsets.UTF_8);
            member.maps().publish("layout".getBytes(), 1, regions, new byte[0]);
            member.members().register(MemberInfo.memoryNode("mn0", "127.0.0.1:7410", List.of(0), 0));

            for (final CuratorFramework peer : List.of(anonymous, wrong))
            {
                assertThrows(KeeperException.NoAuthException.class, () -> peer.getData().forPath("/maps/regions"));
                assertThrows(KeeperException.NoAuthException.class,
                    () -> peer.setData().forPath("/maps/regions", "forged".getBytes()));
                assertThrows(KeeperException.NoAuthException.class,
                    () -> peer.getChildren().forPath("/members/memory"));
                assertThrows(KeeperException.NoAuthException.class, () -> peer.create().forPath("/maps/forged"));
                assertThrows(KeeperException.NoAuthException.class, () -> peer.delete().forPath("/mode"));
            }

            assertArrayEquals(regions, other.maps().read(MapName.REGIONS).orElseThrow().payload());
            assertEquals(List.of("mn0"), other.members().list(MemberInfo.Kind.MEMORY_NODE).stream()
                .map(MemberInfo::name).toList());
            assertOnlyTheClusterUserIn(member.curator(), "/");
        }
    }

    @Test
    void aCoordinatorThatRequiresAuthenticationClosesSessionsWithout() throws Exception
    {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("127.0.0.1", 0, null, Duration.ofMillis(100), true);
            Coordinator member = Coordinator.open(CoordinatorTest.settings(zk.connectString()).withSecret(SECRET));
            ZooKeeper anonymous = connected(zk.connectString());
            ZooKeeper authenticated = connected(zk.connectString()))
        {
            member.members().register(MemberInfo.memoryNode("mn0", "127.0.0.1:7410", List.of(0), 0));
            assertThrows(KeeperException.class, () -> anonymous.getChildren("/", false),
                "a session that did not authenticate is closed at its first request");

            authenticated.addAuthInfo(ZnodeAcls.SCHEME, new ZnodeAcls(WRONG).authorization());
            assertNotNull(authenticated.exists("/dmkv", false), "authenticated, it may look at the shared root");
            assertThrows(KeeperException.NoAuthException.class,
                () -> authenticated.getChildren("/dmkv/default/members/memory", false), "but not into the cluster");
        }
    }

    private void assertOnlyTheClusterUserIn(final CuratorFramework c, final String path) throws Exception
    {
        final List<ACL> acl = c.getACL().forPath(path);
        assertEquals(1, acl.size(), path + ": " + acl);
        assertEquals(ZnodeAcls.SCHEME, acl.get(0).getId().getScheme(), path + ": " + acl);
        assertEquals(ZooDefs.Perms.ALL, acl.get(0).getPerms());
        for (final String child : c.getChildren().forPath(path))
        {
            assertOnlyTheClusterUserIn(c, ("/".equals(path) ? "" : path) + "/" + child);
        }
    }

    /** A Curator client in the cluster's namespace, authenticated with {@code secret} (null: not at all). */
    private static CuratorFramework raw(final String connect, final ClusterSecret secret)
    {
        final CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder().connectString(connect)
            .namespace(ZnodePaths.namespace(CoordinatorSettings.DEFAULT_CLUSTER)).retryPolicy(new RetryOneTime(50))
            .sessionTimeoutMs(2000).connectionTimeoutMs(2000);
        if (secret != null)
        {
            b.authorization(ZnodeAcls.SCHEME, new ZnodeAcls(secret).authorization());
        }
        final CuratorFramework c = b.build();
        c.start();
        return c;
    }

    private static ZooKeeper connected(final String connect) throws Exception
    {
        final CountDownLatch up = new CountDownLatch(1);
        final ZooKeeper z = new ZooKeeper(connect, 2000, e ->
        {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected)
            {
                up.countDown();
            }
        });
        if (!up.await(20, TimeUnit.SECONDS))
        {
            z.close();
            throw new AssertionError("no connection to " + connect + " in 20 s");
        }
        return z;
    }
}
