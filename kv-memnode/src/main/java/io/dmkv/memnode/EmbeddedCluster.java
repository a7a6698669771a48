package io.dmkv.memnode;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.EmbeddedZooKeeper;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.transport.local.LocalVerbsTransport;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * N memory nodes in this JVM, reached over {@code local} (in-JVM, {@code mem:NAME}) or {@code tcp}
 * (loopback, free ports): for tests, examples and the demo.
 *
 * <p>By default the cluster is coordinated: its nodes register with the JVM's embedded
 * ZooKeeper ({@link EmbeddedZooKeeper#shared()}), each cluster in a fresh chroot, so a client
 * pointed at {@link #coordinatorConnectString()} finds them. {@code coordinated = false} gives
 * a static cluster with no coordinator.
 */
public final class EmbeddedCluster implements AutoCloseable
{
    private final String transport;
    private final List<MemoryNode> nodes;
    private final List<String> endpoints;
    private final List<MemoryNodeMembership> memberships;
    private final CoordinatorSettings coordinatorSettings;
    private final String prefix;
    private final ClusterSecret secret;
    private final TlsConfig tls;

    private EmbeddedCluster(final String transport, final List<MemoryNode> nodes, final List<String> endpoints,
        final List<MemoryNodeMembership> memberships, final CoordinatorSettings coordinatorSettings,
        final String prefix, final ClusterSecret secret, final TlsConfig tls)
    {
        this.transport = transport;
        this.nodes = new CopyOnWriteArrayList<>(nodes);
        this.endpoints = new CopyOnWriteArrayList<>(endpoints);
        this.memberships = new CopyOnWriteArrayList<>(memberships);
        this.coordinatorSettings = coordinatorSettings;
        this.prefix = prefix;
        this.secret = secret;
        this.tls = tls;
    }

    /**
     * Starts {@code count} nodes of {@code memoryPerNode} bytes each, in regions of
     * {@code regionBytes}, for {@code transport} ("local" or "tcp").
     */
    public static EmbeddedCluster start(final int count, final long memoryPerNode, final long regionBytes,
        final String transport)
    {
        return start(count, memoryPerNode, regionBytes, transport, true);
    }

    /**
     * As {@link #start(int, long, long, String)}; {@code coordinated} says whether the nodes
     * register with the embedded coordinator (true) or form a static cluster (false).
     */
    public static EmbeddedCluster start(final int count, final long memoryPerNode, final long regionBytes,
        final String transport, final boolean coordinated)
    {
        return start(count, memoryPerNode, regionBytes, transport, coordinated, null, null);
    }

    /**
     * As {@link #start(int, long, long, String, boolean)}, with every node requiring
     * {@code secret} in the hello and its znodes readable only with it, and serving TLS with
     * {@code tls} (either may be null; docs/security.md).
     */
    public static EmbeddedCluster start(final int count, final long memoryPerNode, final long regionBytes,
        final String transport, final boolean coordinated, final ClusterSecret secret, final TlsConfig tls)
    {
        if (count < 1 || count > 64)
        {
            throw new IllegalArgumentException("an embedded cluster has 1..64 memory nodes, got " + count);
        }
        if (!LocalVerbsTransport.NAME.equals(transport) && !TcpVerbsTransport.NAME.equals(transport))
        {
            throw new IllegalArgumentException("an embedded cluster runs on 'local' or 'tcp', got '" + transport + "'");
        }
        final boolean local = LocalVerbsTransport.NAME.equals(transport);
        final String prefix = "emb-" + UUID.randomUUID().toString().substring(0, 8) + "-mn";
        final List<MemoryNode> nodes = new ArrayList<>();
        final List<String> endpoints = new ArrayList<>();
        final List<MemoryNodeMembership> memberships = new ArrayList<>();
        final CoordinatorSettings settings = coordinated
            ? CoordinatorSettings.of(EmbeddedZooKeeper.shared().freshConnectString()).withSecret(secret) : null;
        try
        {
            for (int i = 0; i < count; i++)
            {
                startNode(prefix + i, memoryPerNode, regionBytes, local, secret, tls, settings, nodes, endpoints,
                    memberships);
            }
        }
        catch (final RuntimeException e)
        {
            memberships.forEach(MemoryNodeMembership::close);
            nodes.forEach(MemoryNode::close);
            throw e;
        }
        return new EmbeddedCluster(transport, nodes, endpoints, memberships, settings, prefix, secret, tls);
    }

    private static void startNode(final String name, final long memory, final long regionBytes, final boolean local,
        final ClusterSecret secret, final TlsConfig tls, final CoordinatorSettings settings,
        final List<MemoryNode> nodes, final List<String> endpoints, final List<MemoryNodeMembership> memberships)
    {
        final MemoryNode n = MemoryNode.start((local ? MemoryNode.Config.inProcess(name, memory, regionBytes)
            : MemoryNode.Config.loopback(name, memory, regionBytes)).withSecurity(secret, tls));
        nodes.add(n);
        endpoints.add(local ? n.localEndpoint() : n.tcpEndpoint());
        if (settings != null)
        {
            memberships.add(MemoryNodeMembership.join(n, endpoints.get(endpoints.size() - 1), settings));
        }
    }

    /**
     * Starts one more memory node (a replacement, or a node added for capacity), registered with
     * the coordinator: the cluster admits it and copies regions onto it (docs/recovery.md,
     * "Re-replication"). Its index in {@link #nodes()} is the next one.
     */
    public MemoryNode addNode(final long memory, final long regionBytes)
    {
        startNode(prefix + nodes.size(), memory, regionBytes, LocalVerbsTransport.NAME.equals(transport), secret, tls,
            coordinatorSettings, nodes, endpoints, memberships);
        return nodes.get(nodes.size() - 1);
    }

    public static EmbeddedCluster start(final int count, final long memoryPerNode, final String transport)
    {
        return start(count, memoryPerNode, Math.min(memoryPerNode, MemoryNode.Config.DEFAULT_REGION_BYTES), transport);
    }

    public String transport()
    {
        return transport;
    }

    public List<MemoryNode> nodes()
    {
        return nodes;
    }

    /** Endpoints of the nodes, in order, as clients of {@link #transport()} name them. */
    public List<String> endpoints()
    {
        return endpoints;
    }

    /** Whether the nodes registered with a coordinator. */
    public boolean isCoordinated()
    {
        return coordinatorSettings != null;
    }

    /**
     * The connect string (with this cluster's chroot) a client gives as {@code dmkv.coordinator}
     * to find these nodes; null for a static cluster.
     */
    public String coordinatorConnectString()
    {
        return coordinatorSettings == null ? null : coordinatorSettings.connectString();
    }

    /** The settings the nodes registered with; null for a static cluster. */
    public CoordinatorSettings coordinatorSettings()
    {
        return coordinatorSettings;
    }

    /** The nodes' memberships, in node order (empty for a static cluster). */
    public List<MemoryNodeMembership> memberships()
    {
        return memberships;
    }

    /** A new transport instance able to reach the nodes (the caller closes it). */
    public VerbsTransport newTransport()
    {
        return VerbsTransports.create(transport);
    }

    @Override
    public void close()
    {
        memberships.forEach(MemoryNodeMembership::close);
        nodes.forEach(MemoryNode::close);
    }
}
