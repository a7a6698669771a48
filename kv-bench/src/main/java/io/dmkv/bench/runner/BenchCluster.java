package io.dmkv.bench.runner;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.dmkv.KvConfig;
import io.dmkv.bench.jmh.MemnodeDaemons;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The memory nodes (and coordinator) one {@code kv bench} run talks to, and how a store of a given
 * index mode opens on them:
 * <ul>
 *   <li>{@link #embedded}: memory nodes in this JVM ({@link EmbeddedCluster}; coordinated by an
 *       in-JVM ZooKeeper in FlexKV mode, static in FUSEE mode);</li>
 *   <li>{@link #daemons}: memory-node daemons, each in a JVM of its own, registered with a
 *       coordinator in a chroot no other cluster uses: a fresh cluster per run, on one ZooKeeper;</li>
 *   <li>{@link #given}: running memory nodes (static, or registered with a given coordinator).</li>
 * </ul>
 */
public final class BenchCluster implements AutoCloseable
{
    /** How long memory-node daemons may take to start. */
    private static final Duration DAEMON_START = Duration.ofSeconds(90);
    /**
     * Coordinator sessions of a daemons cluster (members and clients alike): 10 s instead of the
     * default 4 s, because on a small machine loaded by other work a starved coordinator process
     * expired 4-second sessions and fenced healthy memory nodes mid-bench. It only decides how
     * soon a silent member counts as dead, in either mode; no operation waits on it.
     */
    public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    /** A ZooKeeper tick that lets sessions last {@link #SESSION_TIMEOUT} (2 to 20 ticks). */
    public static final String COORDINATOR_TICK = "1000ms";

    private final String kind;
    private final List<String> endpoints;
    private final String transport;
    private final String coordinator;
    private final EmbeddedCluster embedded;
    private final MemnodeDaemons daemons;

    private BenchCluster(final String kind, final List<String> endpoints, final String transport,
        final String coordinator, final EmbeddedCluster embedded, final MemnodeDaemons daemons)
    {
        this.kind = kind;
        this.endpoints = List.copyOf(endpoints);
        this.transport = transport;
        this.coordinator = coordinator;
        this.embedded = embedded;
        this.daemons = daemons;
    }

    /** {@code nodes} memory nodes in this JVM, coordinated (an in-JVM ZooKeeper) when {@code coordinated}. */
    public static BenchCluster embedded(final int nodes, final ClusterSizing sizing, final String transport,
        final boolean coordinated)
    {
        final EmbeddedCluster c = EmbeddedCluster.start(nodes, sizing.memoryPerNode(), sizing.regionBytes(), transport,
            coordinated);
        return new BenchCluster("embedded", c.endpoints(), transport, coordinated ? c.coordinatorConnectString() : null,
            c, null);
    }

    /**
     * {@code nodes} memory-node daemons on tcp, each in its own JVM, registered with the ZooKeeper at
     * {@code coordinator} (a connect string with a chroot of its own, e.g. {@link CoordinatorProcess#freshChroot}).
     */
    public static BenchCluster daemons(final int nodes, final ClusterSizing sizing, final String coordinator,
        final String namePrefix) throws IOException
    {
        final MemnodeDaemons d = MemnodeDaemons.start(nodes, sizing.memoryPerNode(), sizing.regionBytes(),
            DAEMON_START, namePrefix, List.of("--coordinator", coordinator, "--session-timeout",
                SESSION_TIMEOUT.toMillis() + "ms"));
        return new BenchCluster("daemons", d.endpoints(), "tcp", coordinator, null, d);
    }

    /** Running memory nodes at {@code endpoints}; {@code coordinator} is theirs, or null for a static cluster. */
    public static BenchCluster given(final List<String> endpoints, final String transport, final String coordinator)
    {
        return new BenchCluster("given", endpoints, transport, coordinator, null, null);
    }

    /** The memory nodes, in the cluster's order. */
    public List<String> endpoints()
    {
        return endpoints;
    }

    public String transport()
    {
        return transport;
    }

    /** The coordinator's connect string, or null for a static cluster. */
    public String coordinator()
    {
        return coordinator;
    }

    /**
     * A store configuration for {@code mode} on this cluster: through the coordinator when there is
     * one (FlexKV needs it; in FlexKV mode the store is a proxy-enabled compute node), else the
     * static list of memory nodes.
     *
     * @throws IllegalArgumentException for FlexKV mode on a cluster without a coordinator.
     */
    public KvConfig.Builder store(final String mode)
    {
        final boolean flexkv = "flexkv".equals(mode);
        if (coordinator == null)
        {
            if (flexkv)
            {
                throw new IllegalArgumentException("flexkv mode needs a coordinator: give --coordinator with "
                    + "--memnodes (the one the memory nodes registered with)");
            }
            return KvConfig.builder().memnodes(endpoints).transport(transport);
        }
        final KvConfig.Builder b = KvConfig.builder().coordinator(coordinator).transport(transport).mode(mode);
        if (daemons != null)
        {
            b.sessionTimeout(SESSION_TIMEOUT);
        }
        return flexkv ? b.proxyEnabled(true) : b;
    }

    /**
     * CPU time the memory-node daemons have used so far, all of them, in nanoseconds; -1 for
     * memory nodes that are not daemons of this bench (or where the OS does not say).
     */
    public long daemonCpuNanos()
    {
        if (daemons == null)
        {
            return -1;
        }
        long sum = 0;
        for (int i = 0; i < endpoints.size(); i++)
        {
            final Duration cpu = daemons.process(i).info().totalCpuDuration().orElse(null);
            if (cpu == null)
            {
                return -1;
            }
            sum += cpu.toNanos();
        }
        return sum;
    }

    /** For result.json: what the cluster is. */
    public Map<String, Object> describe()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("memnodes", endpoints);
        m.put("transport", transport);
        m.put("coordinator", coordinator);
        return m;
    }

    @Override
    public void close()
    {
        if (embedded != null)
        {
            embedded.close();
        }
        if (daemons != null)
        {
            daemons.close();
        }
    }
}
