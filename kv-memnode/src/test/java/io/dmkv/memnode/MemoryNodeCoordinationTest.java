package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * Memory nodes in a coordinated cluster: the embedded cluster registers its nodes, a SIGKILLed
 * daemon is seen dead once its session expires, and a SIGSTOPped daemon whose session expired
 * comes back with new keys, so a client holding the old ones is refused. ZooKeeper runs in this
 * JVM (Curator's test server, 100 ms tick), never in a process the test kills.
 */
@Timeout(120)
class MemoryNodeCoordinationTest
{
    private static final String SESSION = "1s";
    private static TestingServer zk;

    @BeforeAll
    static void startCoordinator() throws Exception
    {
        zk = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 100, -1), true);
    }

    @AfterAll
    static void stopCoordinator() throws Exception
    {
        zk.close();
    }

    @Test
    void embeddedClusterRegistersItsNodesAndTheyLeaveOnClose()
    {
        final CoordinatorSettings settings;
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 64 * 1024, "local"))
        {
            assertTrue(cluster.isCoordinated());
            settings = cluster.coordinatorSettings();
            try (Coordinator c = Coordinator.open(settings))
            {
                final List<MemberInfo> nodes = c.members().alive(MemberInfo.Kind.MEMORY_NODE);
                assertEquals(cluster.endpoints(), nodes.stream().map(MemberInfo::endpoint).toList());
            }
        }
        try (Coordinator c = Coordinator.open(settings))
        {
            assertEquals(List.of(), c.members().list(MemberInfo.Kind.MEMORY_NODE), "nodes leave cleanly on close");
        }
        try (EmbeddedCluster statik = EmbeddedCluster.start(1, 64 * 1024, 64 * 1024, "local", false))
        {
            assertEquals(null, statik.coordinatorConnectString());
        }
    }

    @Test
    void sigkilledMemoryNodeIsSeenDeadOnceItsSessionExpires() throws Exception
    {
        final Process p = startDaemon("killed");
        try (Coordinator observer = Coordinator.open(CoordinatorSettings.of(zk.getConnectString())))
        {
            MemoryNodeMainTest.awaitReady(p);
            assertTrue(member(observer, "killed").orElseThrow().alive());
            p.destroyForcibly(); // SIGKILL: no goodbye
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            awaitMember(observer, "killed", m -> !m.alive());
            assertTrue(member(observer, "killed").isPresent(), "a dead node's record stays for recovery");
        }
        finally
        {
            p.destroyForcibly();
        }
    }

    @Test
    void stoppedMemoryNodeWhoseSessionExpiredRefusesTheOldKeysWhenItResumes() throws Exception
    {
        final Process p = startDaemon("stopped");
        try (Coordinator observer = Coordinator.open(CoordinatorSettings.of(zk.getConnectString()));
            TcpVerbsTransport tcp = new TcpVerbsTransport())
        {
            final String endpoint = MemoryNodeMainTest.awaitReady(p);
            final long generation = member(observer, "stopped").orElseThrow().keyGeneration();
            try (VerbsClient stale = VerbsClient.connect(tcp, List.of(endpoint), ClientOptions.defaults()))
            {
                final RemoteRegion region = stale.channel(0).region(0);
                assertEquals(0, faa(stale, region, 7));

                signal(p, "STOP");
                awaitMember(observer, "stopped", m -> !m.alive());
                signal(p, "CONT");
                awaitMember(observer, "stopped", m -> m.alive() && m.keyGeneration() > generation);

                final RemoteAccessException refused = assertThrows(RemoteAccessException.class,
                    () -> faa(stale, region, 1));
                assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, refused.reason());
            }
            try (VerbsClient fresh = VerbsClient.connect(tcp, List.of(endpoint), ClientOptions.defaults()))
            {
                assertEquals(7, faa(fresh, fresh.channel(0).region(0), 0), "a new hello gets the new keys");
            }
        }
        finally
        {
            signal(p, "CONT");
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Process startDaemon(final String name) throws Exception
    {
        return MemoryNodeMainTest.start("--host", "127.0.0.1", "--port", "0", "--memory", "1M", "--name", name,
            "--coordinator", zk.getConnectString(), "--session-timeout", SESSION, "--advertise-host", "127.0.0.1");
    }

    private static Optional<MemberInfo> member(final Coordinator c, final String name)
    {
        return c.members().list(MemberInfo.Kind.MEMORY_NODE).stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /** Waits (generously: the outcome matters, not the time) until {@code name}'s record satisfies {@code test}. */
    private static void awaitMember(final Coordinator c, final String name, final Predicate<MemberInfo> test)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        while (!member(c, name).map(test::test).orElse(false))
        {
            assertTrue(System.nanoTime() < deadline, "memory node " + name + " never reached the expected state: "
                + member(c, name));
            Thread.sleep(50);
        }
    }

    private static void signal(final Process p, final String signal) throws Exception
    {
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
    }

    private static long faa(final VerbsClient client, final RemoteRegion region, final long delta)
    {
        final VerbBatch b = new VerbBatch();
        final int i = b.faa(region, 4096, delta);
        client.execute(b);
        return b.result(i);
    }
}
