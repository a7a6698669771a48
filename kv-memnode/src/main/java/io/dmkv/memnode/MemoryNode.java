package io.dmkv.memnode;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.config.Sizes;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.local.LocalMemoryNodes;
import io.dmkv.rdma.transport.rdma.RdmaVerbsServer;
import io.dmkv.rdma.transport.tcp.TcpFrames;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;

/**
 * A memory node: registered memory, its RPC methods, and the servers that expose it (tcp always
 * when a port is configured; in-JVM registration for the local transport when asked). Volatile:
 * its memory is gone when it stops.
 */
public final class MemoryNode implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(MemoryNode.class);

    /** Smallest memory and region: the 4 KiB header page plus room to work. */
    static final long MIN_BYTES = 16 * 1024;

    private final Config config;
    private final MemoryNodeService service;
    private final BlockAllocatorService allocator;
    private final TcpVerbsServer tcp;
    private final RdmaVerbsServer rdma;
    private final String localEndpoint;
    private boolean closed;

    /**
     * How to start a memory node.
     *
     * @param name         name in logs and messages (null: derived from the address).
     * @param host         address to listen on for tcp.
     * @param port         tcp port (0: any free port; negative: no tcp server, in-JVM only).
     * @param memoryBytes  bytes of registered memory.
     * @param regionBytes  bytes per region (at most 1 GiB).
     * @param shmFile      shared file to back the memory with (null: anonymous memory).
     * @param ioThreads    tcp event-loop threads.
     * @param maxFrame     largest tcp frame accepted.
     * @param registerLocal whether to make the node reachable in this JVM as {@code mem:NAME}.
     * @param rdmaHost     IP of the RDMA interface to serve one-sided verbs on (null: no rdma listener).
     * @param rdmaPort     port of the rdma listener (0: any free port).
     * @param secret       the cluster secret every peer must prove in the hello (null: none, the node
     *                     serves anyone who reaches it).
     * @param tls          TLS for the tcp server (null: plain tcp).
     */
    public record Config(String name, String host, int port, long memoryBytes, long regionBytes, Path shmFile,
        int ioThreads, int maxFrame, boolean registerLocal, String rdmaHost, int rdmaPort, ClusterSecret secret,
        TlsConfig tls)
    {
        public static final long DEFAULT_REGION_BYTES = MemoryRegion.MAX_LENGTH;
        /** Regions a node gets at least, memory permitting, when its region size is not given. */
        public static final int MIN_DEFAULT_REGIONS = 4;

        /**
         * The region size for {@code memoryBytes} when none is given: 1 GiB, halved until the node
         * has at least {@value #MIN_DEFAULT_REGIONS} regions (down to the 16 KiB minimum). With
         * several regions per node, the cluster has regions whose primaries are on different nodes,
         * which is what spreads the index and the data over them (docs/memory.md, "Placement").
         */
        public static long defaultRegionBytes(final long memoryBytes)
        {
            long size = DEFAULT_REGION_BYTES;
            while (size > MIN_BYTES && memoryBytes / size < MIN_DEFAULT_REGIONS)
            {
                size /= 2;
            }
            return size;
        }

        public Config
        {
            Objects.requireNonNull(host, "host");
            if (memoryBytes < MIN_BYTES)
            {
                throw new IllegalArgumentException("memory must be at least " + MIN_BYTES
                    + " bytes, got " + memoryBytes);
            }
            if (regionBytes < MIN_BYTES || regionBytes > MemoryRegion.MAX_LENGTH)
            {
                throw new IllegalArgumentException("region size must be in " + Sizes.format(MIN_BYTES)
                    + ".." + Sizes.format(MemoryRegion.MAX_LENGTH) + ", got " + Sizes.format(regionBytes));
            }
            if (port > 65_535)
            {
                throw new IllegalArgumentException("port must be at most 65535, got " + port);
            }
            if (ioThreads < 1)
            {
                throw new IllegalArgumentException("io threads must be at least 1, got " + ioThreads);
            }
            if (rdmaPort < 0 || rdmaPort > 65_535)
            {
                throw new IllegalArgumentException("rdma port must be in 0..65535, got " + rdmaPort);
            }
            if (rdmaHost != null && port < 0)
            {
                throw new IllegalArgumentException("the rdma listener needs the tcp server (hello and RPCs ride on it)");
            }
        }

        /** A node without a secret and without TLS. */
        public Config(final String name, final String host, final int port, final long memoryBytes,
            final long regionBytes, final Path shmFile, final int ioThreads, final int maxFrame,
            final boolean registerLocal, final String rdmaHost, final int rdmaPort)
        {
            this(name, host, port, memoryBytes, regionBytes, shmFile, ioThreads, maxFrame, registerLocal, rdmaHost,
                rdmaPort, null, null);
        }

        /** This config with {@code clusterSecret} and {@code tlsConfig} (either may be null). */
        public Config withSecurity(final ClusterSecret clusterSecret, final TlsConfig tlsConfig)
        {
            return new Config(name, host, port, memoryBytes, regionBytes, shmFile, ioThreads, maxFrame, registerLocal,
                rdmaHost, rdmaPort, clusterSecret, tlsConfig);
        }

        /** An in-JVM node of {@code memoryBytes} reached by {@code mem:NAME} only. */
        public static Config inProcess(final String name, final long memoryBytes, final long regionBytes)
        {
            return new Config(name, "127.0.0.1", -1, memoryBytes, regionBytes, null, 1, TcpFrames.DEFAULT_MAX_FRAME, true,
                null, 0);
        }

        /** A node serving tcp on loopback at any free port. */
        public static Config loopback(final String name, final long memoryBytes, final long regionBytes)
        {
            return new Config(name, "127.0.0.1", 0, memoryBytes, regionBytes, null, 2, TcpFrames.DEFAULT_MAX_FRAME, false,
                null, 0);
        }
    }

    private MemoryNode(final Config config)
    {
        this.config = config;
        final String name = config.name() != null ? config.name()
            : "mn@" + config.host() + ":" + (config.port() < 0 ? "local" : config.port());
        final RegionTable table = config.shmFile() == null
            ? RegionTable.allocate(config.memoryBytes(), config.regionBytes(), new ZeroingProgress(name,
                config.memoryBytes()))
            : RegionTable.mapFile(config.shmFile(), config.memoryBytes(), config.regionBytes());
        this.service = new MemoryNodeService(name, table, ProtocolVersion.DEFAULT_LAYOUT).secret(config.secret());
        service.handle(MemoryNodeRpc.SCRATCH, request -> ByteBuffer.allocate(16)
            .putInt(MemoryNodeRpc.SCRATCH_REGION).putLong(MemoryNodeRpc.SCRATCH_OFFSET)
            .putInt(MemoryNodeRpc.SCRATCH_BYTES).flip());
        service.handle(MemoryNodeRpc.FORMAT_REGION, new RegionFormatter(service)::handle);
        this.allocator = new BlockAllocatorService(service);
        service.handle(MemoryNodeRpc.ALLOC_BLOCK, allocator::handle);
        TcpVerbsServer server = null;
        RdmaVerbsServer rdmaServer = null;
        String local = null;
        try
        {
            // The rdma listener registers the regions with the NIC and publishes their rkeys in
            // the hello, so it starts before the tcp server accepts anyone.
            if (config.rdmaHost() != null)
            {
                rdmaServer = RdmaVerbsServer.start(service, config.rdmaHost(), config.rdmaPort());
            }
            if (config.port() >= 0)
            {
                server = TcpVerbsServer.start(service, config.host(), config.port(), config.maxFrame(), config.ioThreads(),
                    config.tls() == null ? null : config.tls().serverContext());
            }
            if (config.registerLocal())
            {
                local = LocalMemoryNodes.register(service);
            }
        }
        catch (final Exception e)
        {
            // Exception, not RuntimeException: Netty's bind rethrows a checked BindException as is.
            if (server != null)
            {
                server.close();
            }
            if (rdmaServer != null)
            {
                rdmaServer.close();
            }
            service.close();
            if (causedBy(e, java.net.BindException.class))
            {
                throw new IllegalStateException("memory node " + name + " cannot listen on " + config.host() + ":"
                    + config.port() + ": the address is in use (another memory node?); give another --port, or"
                    + " --port 0 for a free one", e);
            }
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e.toString(), e);
        }
        this.tcp = server;
        this.rdma = rdmaServer;
        this.localEndpoint = local;
    }

    /** Says in the log, at WARN, that anyone who reaches the node's port can use its memory. */
    void warnUnauthenticated()
    {
        LOG.warn("memory node {} is UNAUTHENTICATED: anyone who reaches {}:{} can read and write all of its memory."
            + " Give it a cluster secret (--secret-file; docs/security.md){}", name(), tcp.host(), tcp.port(),
            isLoopback(tcp.host()) ? "" : "; it listens beyond loopback");
    }

    /** Whether {@code host} names a loopback address (an unknown name does not). */
    static boolean isLoopback(final String host)
    {
        try
        {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        }
        catch (final java.net.UnknownHostException e)
        {
            return false;
        }
    }

    private static boolean causedBy(final Throwable t, final Class<? extends Throwable> type)
    {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause())
        {
            if (type.isInstance(c))
            {
                return true;
            }
        }
        return false;
    }

    public static MemoryNode start(final Config config)
    {
        final MemoryNode node = new MemoryNode(config);
        if (node.tcp != null && config.secret() == null && !isLoopback(node.tcp.host()))
        {
            node.warnUnauthenticated();
        }
        LOG.info("memory node {} serving {} in {} regions{}{}{}", node.name(), Sizes.format(node.service.regions().totalBytes()),
            node.service.regions().count(),
            (node.tcp != null ? " on tcp " + node.tcp.host() + ":" + node.tcp.port()
                + (config.tls() != null ? " with TLS" : "") + (config.secret() != null ? ", authenticated" : "") : "")
                + (node.rdma != null ? " and rdma " + node.rdma.endpoint() : ""),
            node.localEndpoint != null ? " in-JVM as " + node.localEndpoint : "",
            config.shmFile() != null ? ", shared file " + config.shmFile() : "");
        return node;
    }

    public String name()
    {
        return service.name();
    }

    /**
     * The region map gave physical region {@code phys} another role (it joined a region, was
     * promoted, or left one): the allocator's bookkeeping of it is rebuilt from its table on the
     * next ALLOC, since a copy may have replaced the table under it.
     */
    void regionRoleChanged(final int phys)
    {
        allocator.forget(phys);
    }

    /**
     * Whether ALLOC may grant blocks of physical region {@code phys} ({@code why} says why not): the
     * region map makes only the primary of an unsealed region grant. Returns once in force.
     */
    void regionGrants(final int phys, final boolean on, final String why)
    {
        allocator.grants(phys, on, why);
    }

    public MemoryNodeService service()
    {
        return service;
    }

    /** {@code host:port} of the tcp server, or null when there is none. */
    public String tcpEndpoint()
    {
        return tcp == null ? null : tcp.endpoint();
    }

    /** The tcp server, or null when there is none. */
    TcpVerbsServer tcp()
    {
        return tcp;
    }

    /** The tcp port actually bound, or -1. */
    public int tcpPort()
    {
        return tcp == null ? -1 : tcp.port();
    }

    /** {@code mem:NAME}, or null when the node is not registered in this JVM. */
    public String localEndpoint()
    {
        return localEndpoint;
    }

    public Config config()
    {
        return config;
    }

    public TcpVerbsServer tcpServer()
    {
        return tcp;
    }

    /** Stops serving, frees the memory and deletes the shared file. */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (tcp != null)
        {
            tcp.close();
        }
        if (rdma != null)
        {
            rdma.close();
        }
        LocalMemoryNodes.unregister(service);
        service.close();
        LOG.info("memory node {} stopped", name());
    }
}
