package io.dmkv.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Membership, maps and epochs, formatting, mode and client ids against the JVM's shared
 * embedded ZooKeeper, each test in a fresh chroot.
 */
@Timeout(60)
class CoordinatorTest
{
    private String connect;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void freshChroot()
    {
        connect = EmbeddedZooKeeper.shared().freshConnectString();
    }

    @AfterEach
    void closeAll() throws Exception
    {
        for (int i = open.size() - 1; i >= 0; i--)
        {
            open.get(i).close();
        }
    }

    static CoordinatorSettings settings(final String connect)
    {
        return new CoordinatorSettings(connect, CoordinatorSettings.DEFAULT_CLUSTER, Duration.ofSeconds(2),
            Duration.ofSeconds(1), Duration.ofSeconds(1), CoordinatorSettings.DEFAULT_MAX_CLIENTS,
            new org.agrona.concurrent.SystemNanoClock());
    }

    private Coordinator member()
    {
        final Coordinator c = Coordinator.open(settings(connect));
        open.add(c);
        return c;
    }

    @Test
    void membersJoinLeaveAndADeadMemberKeepsItsRecord()
    {
        final Coordinator a = member();
        final Coordinator b = Coordinator.open(settings(connect));
        final Membership.Registration mn0 = a.members().register(
            MemberInfo.memoryNode("mn0", "127.0.0.1:7410", List.of(0, 1), 0));
        b.members().register(MemberInfo.memoryNode("mn1", "127.0.0.1:7411", List.of(0), 2));
        a.members().register(MemberInfo.computeNode("cn0", "127.0.0.1:7500"));

        List<MemberInfo> nodes = a.members().list(MemberInfo.Kind.MEMORY_NODE);
        assertEquals(List.of("mn0", "mn1"), nodes.stream().map(MemberInfo::name).toList());
        assertTrue(nodes.stream().allMatch(MemberInfo::alive));
        assertEquals(List.of(0, 1), nodes.get(0).regions());
        assertEquals(2, nodes.get(1).keyGeneration());
        assertEquals(1, a.members().alive(MemberInfo.Kind.COMPUTE_NODE).size());

        b.close(); // mn1's session ends without leaving: it is dead, its record stays
        nodes = a.members().list(MemberInfo.Kind.MEMORY_NODE);
        assertEquals(2, nodes.size());
        assertFalse(nodes.get(1).alive(), "a member whose session ended is dead");
        assertThrows(IllegalStateException.class, () -> a.members().remove(MemberInfo.Kind.MEMORY_NODE, "mn0"),
            "an alive member cannot be removed");
        a.members().remove(MemberInfo.Kind.MEMORY_NODE, "mn1");

        mn0.close(); // leaves cleanly
        assertEquals(List.of(), a.members().list(MemberInfo.Kind.MEMORY_NODE));
    }

    @Test
    void exactlyOneOfManyClaimantsFormatsAndTheModeIsRecorded() throws Exception
    {
        final List<Coordinator> members = List.of(member(), member(), member(), member());
        final ExecutorService pool = Executors.newFixedThreadPool(members.size());
        try
        {
            final List<Future<ClusterMaps.FormatRole>> roles = new ArrayList<>();
            for (final Coordinator c : members)
            {
                roles.add(pool.submit(() -> c.maps().claimFormat("m" + c.sessionId())));
            }
            int formatters = 0;
            Coordinator formatter = null;
            for (int i = 0; i < roles.size(); i++)
            {
                if (roles.get(i).get() == ClusterMaps.FormatRole.FORMATTER)
                {
                    formatters++;
                    formatter = members.get(i);
                }
                else
                {
                    assertEquals(ClusterMaps.FormatRole.OTHER_FORMATTING, roles.get(i).get());
                }
            }
            assertEquals(1, formatters);
            assertFalse(members.get(0).maps().awaitFormatted(Duration.ofMillis(50)) && formatter != members.get(0));
            formatter.maps().publish(new byte[] {1}, 7, new byte[] {2}, new byte[0]);
            for (final Coordinator c : members)
            {
                assertTrue(c.maps().awaitFormatted(Duration.ofSeconds(5)));
                assertEquals(ClusterMaps.FormatRole.FORMATTED, c.maps().claimFormat("late"));
            }
            assertEquals(7, members.get(1).maps().read(MapName.REGIONS).orElseThrow().epoch());
            assertEquals(1, members.get(1).maps().read(MapName.PARTITIONS).orElseThrow().epoch());
            members.get(2).maps().requireMode(ClusterMode.COORDINATED);
            final ClusterModeException e = assertThrows(ClusterModeException.class,
                () -> members.get(2).maps().requireMode(ClusterMode.STATIC));
            assertTrue(e.getMessage().contains("created in coordinated mode"), e.getMessage());
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void staticClusterRefusesCoordinatedJoinNamingItsMode()
    {
        final ClusterModeException e = assertThrows(ClusterModeException.class,
            () -> ClusterMode.requireJoinable("mn0", ClusterMode.STATIC, ClusterMode.COORDINATED));
        assertTrue(e.getMessage().contains("created in static mode"), e.getMessage());
        assertEquals(ClusterMode.STATIC, ClusterMode.fromCode(0), "0 (old descriptors) reads as static");
    }

    @Test
    void mapEpochsOnlyGrowAndOfConcurrentWritersOfOneVersionExactlyOneWins() throws Exception
    {
        final Coordinator c = member();
        assertEquals(ClusterMaps.FormatRole.FORMATTER, c.maps().claimFormat("f"));
        c.maps().publish(new byte[0], 1, new byte[0], new byte[0]);
        final VersionedMap first = c.maps().read(MapName.REGIONS).orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> c.maps().write(first, first.epoch(), new byte[0]));

        final int threads = 6;
        final int rounds = 25;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        final List<Coordinator> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            writers.add(member());
        }
        try
        {
            final List<Future<List<Long>>> won = new ArrayList<>();
            for (final Coordinator w : writers)
            {
                won.add(pool.submit(() ->
                {
                    final List<Long> epochs = new ArrayList<>();
                    for (int r = 0; r < rounds; r++)
                    {
                        final VersionedMap seen = w.maps().read(MapName.REGIONS).orElseThrow();
                        try
                        {
                            final VersionedMap wrote = w.maps().write(seen, seen.epoch() + 1, new byte[] {(byte)r});
                            epochs.add(wrote.epoch());
                        }
                        catch (final StaleMapException e)
                        {
                            // Another writer replaced the version we read: the expected loss.
                        }
                    }
                    return epochs;
                }));
            }
            final Set<Long> all = new HashSet<>();
            int wins = 0;
            for (final Future<List<Long>> f : won)
            {
                final List<Long> mine = f.get();
                for (int i = 1; i < mine.size(); i++)
                {
                    assertTrue(mine.get(i) > mine.get(i - 1), "a writer's epochs grow");
                }
                wins += mine.size();
                all.addAll(mine);
            }
            assertEquals(wins, all.size(), "no epoch was written twice");
            assertTrue(wins >= rounds, "at least one write per round succeeded");
            assertEquals(1 + wins, c.maps().read(MapName.REGIONS).orElseThrow().epoch());
            assertThrows(StaleMapException.class, () -> c.maps().write(first, 10_000, new byte[0]),
                "a write based on an old version fails");
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void twoThousandShortLivedClientsNeverRunOutOfIdsAndNoIdHasTwoHolders() throws Exception
    {
        final int threads = 4;
        final int perThread = 500;
        final AtomicIntegerArray holders = new AtomicIntegerArray(1025);
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final ClientIds ids = Coordinator.open(settings(connect).withMaxClients(1024)).clientIds();
                done.add(pool.submit(() ->
                {
                    int max = 0;
                    for (int i = 0; i < perThread; i++)
                    {
                        final int id = ids.claim("client-" + i);
                        assertEquals(1, holders.incrementAndGet(id), "id " + id + " has one holder");
                        max = Math.max(max, id);
                        holders.decrementAndGet(id);
                        ids.release(id);
                    }
                    return max;
                }));
            }
            for (final Future<Integer> f : done)
            {
                assertTrue(f.get() <= 64, "released ids are reused, so ids stay far below maxClients: " + f.get());
            }
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void idsOfDeadClientsStayReservedUntilReleasedAndCanBeTakenBack()
    {
        final Coordinator observer = member();
        final Coordinator crashed = Coordinator.open(settings(connect).withMaxClients(3));
        assertEquals(1, crashed.clientIds().claim("a"));
        assertEquals(2, crashed.clientIds().claim("b"));
        crashed.close(); // its session ends: ids 1 and 2 are dead but reserved

        final ClientIds ids = Coordinator.open(settings(connect).withMaxClients(3)).clientIds();
        assertEquals(List.of(1, 2), observer.clientIds().dead());
        assertEquals(3, ids.claim("c"), "dead clients' ids are not handed out");
        final CoordinationException full = assertThrows(CoordinationException.class, () -> ids.claim("d"));
        assertTrue(full.getMessage().contains("2 by dead clients"), full.getMessage());
        assertEquals(2, ids.reclaim(2, "b-restarted"), "a restarted client takes its id back");
        assertThrows(CoordinationException.class, () -> observer.clientIds().reclaim(2, "thief"),
            "a live client's id cannot be taken");
        ids.release(1); // recovery is done with client 1
        assertEquals(1, ids.claim("e"));
        assertEquals(List.of(1, 2, 3), observer.clientIds().live());
    }

    @Test
    void unreachableCoordinatorFailsWithinTheConnectionTimeoutNamingTheAddress() throws Exception
    {
        final int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            closedPort = s.getLocalPort();
        }
        final String where = "127.0.0.1:" + closedPort;
        final CoordinatorSettings s = new CoordinatorSettings(where, "x", Duration.ofSeconds(2), Duration.ofMillis(500),
            Duration.ofSeconds(1), 8, new org.agrona.concurrent.SystemNanoClock());
        final CoordinationException e = assertThrows(CoordinationException.class, () -> Coordinator.open(s));
        assertTrue(e.getMessage().contains(where), e.getMessage());
    }

    @Test
    void settingsRejectALeaseNoShorterThanTheSessionAndReadProperties()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> CoordinatorSettings.of("h:1").withSessionTimeout(Duration.ofSeconds(2), Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("dmkv.mapLease"), e.getMessage());
        final Properties p = new Properties();
        p.setProperty("dmkv.coordinator", "zk1:2181,zk2:2181");
        p.setProperty("dmkv.cluster", "prod");
        p.setProperty("dmkv.mapLease", "1500ms");
        final CoordinatorSettings s = CoordinatorSettings.fromProperties(p);
        assertEquals("prod", s.cluster());
        assertEquals(Duration.ofMillis(1500), s.mapLease());
        assertEquals(CoordinatorSettings.DEFAULT_SESSION_TIMEOUT, s.sessionTimeout());
        assertNotEquals(Duration.ofSeconds(60), s.sessionTimeout());
    }
}
