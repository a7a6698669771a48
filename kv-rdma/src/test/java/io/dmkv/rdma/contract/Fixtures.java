package io.dmkv.rdma.contract;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.local.LocalMemoryNodes;
import io.dmkv.rdma.transport.local.LocalVerbsTransport;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/** Ready-made fixtures: two memory nodes reached by local (in-JVM or shared file) or tcp. */
public final class Fixtures
{
    public static final long NODE_BYTES = (4L << 20) + (512 << 10);
    public static final long REGION_BYTES = 1L << 20;

    private Fixtures()
    {
    }

    /** Memory nodes in this JVM, reached as {@code mem:NAME}. */
    public static TransportFixture localInProcess()
    {
        final List<MemoryNodeService> services = new ArrayList<>();
        final List<String> endpoints = new ArrayList<>();
        for (int i = 0; i < 2; i++)
        {
            final MemoryNodeService s = new MemoryNodeService("mn-" + i + "-" + UUID.randomUUID(),
                RegionTable.allocate(NODE_BYTES, REGION_BYTES), ProtocolVersion.DEFAULT_LAYOUT);
            services.add(s);
            endpoints.add(LocalMemoryNodes.register(s));
        }
        return new Simple(services, endpoints, LocalVerbsTransport::new, List.of(), List.of());
    }

    /** Memory nodes serving tcp on loopback, port 0. */
    public static TransportFixture tcp()
    {
        return served(false, TcpVerbsTransport::new);
    }

    /** Memory nodes backed by shared files, reached by the local transport through their daemon. */
    public static TransportFixture localSharedFile()
    {
        return served(true, LocalVerbsTransport::new);
    }

    private static TransportFixture served(final boolean shm, final Supplier<VerbsTransport> transports)
    {
        final List<MemoryNodeService> services = new ArrayList<>();
        final List<String> endpoints = new ArrayList<>();
        final List<TcpVerbsServer> servers = new ArrayList<>();
        final List<Path> files = new ArrayList<>();
        for (int i = 0; i < 2; i++)
        {
            final RegionTable table;
            if (shm)
            {
                final Path file = shmDir().resolve("dmkv-test-" + UUID.randomUUID() + ".shm");
                files.add(file);
                table = RegionTable.mapFile(file, NODE_BYTES, REGION_BYTES);
            }
            else
            {
                table = RegionTable.allocate(NODE_BYTES, REGION_BYTES);
            }
            final MemoryNodeService s = new MemoryNodeService("mn-" + i, table, ProtocolVersion.DEFAULT_LAYOUT);
            final TcpVerbsServer server = TcpVerbsServer.start(s, "127.0.0.1", 0);
            services.add(s);
            servers.add(server);
            endpoints.add(server.endpoint());
        }
        return new Simple(services, endpoints, transports, servers, files);
    }

    public static Path shmDir()
    {
        final Path dev = Path.of("/dev/shm");
        if (Files.isDirectory(dev) && Files.isWritable(dev))
        {
            return dev;
        }
        try
        {
            return Files.createTempDirectory("dmkv-shm");
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    private static final class Simple implements TransportFixture
    {
        private final List<MemoryNodeService> services;
        private final List<String> endpoints;
        private final Supplier<VerbsTransport> transports;
        private final List<TcpVerbsServer> servers;
        private final List<Path> files;

        Simple(final List<MemoryNodeService> services, final List<String> endpoints,
            final Supplier<VerbsTransport> transports, final List<TcpVerbsServer> servers, final List<Path> files)
        {
            this.services = services;
            this.endpoints = endpoints;
            this.transports = transports;
            this.servers = servers;
            this.files = files;
        }

        @Override
        public List<MemoryNodeService> services()
        {
            return services;
        }

        @Override
        public List<String> endpoints()
        {
            return endpoints;
        }

        @Override
        public VerbsTransport newTransport()
        {
            return transports.get();
        }

        @Override
        public void close()
        {
            servers.forEach(TcpVerbsServer::close);
            for (final MemoryNodeService s : services)
            {
                LocalMemoryNodes.unregister(s);
                s.close();
            }
            for (final Path f : files)
            {
                try
                {
                    Files.deleteIfExists(f);
                }
                catch (final IOException ignored)
                {
                    // best effort; the file lives in a tmpfs
                }
            }
        }
    }
}
