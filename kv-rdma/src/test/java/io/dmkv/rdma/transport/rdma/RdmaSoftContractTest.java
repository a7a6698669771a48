package io.dmkv.rdma.transport.rdma;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.contract.Fixtures;
import io.dmkv.rdma.contract.TransportFixture;
import io.dmkv.rdma.contract.VerbsContractTest;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * The verbs contract on the rdma transport, with every queue pair a {@link SoftRnic} over the
 * memory node's own memory. Everything else is production code: {@link RdmaVerbsTransport}
 * (hello over tcp, the rdma fields of the hello, the poller thread), {@link RdmaVerbsChannel}
 * and the work requests it encodes. What this cannot show is DiSNI and a NIC doing their part;
 * {@link RdmaHardwareTest} does, where there is one.
 */
final class RdmaSoftContractTest extends VerbsContractTest
{
    /** The rdma port the memory nodes announce; the software NIC never listens on it. */
    private static final int ANNOUNCED_PORT = 4791;

    @Override
    protected TransportFixture createFixture()
    {
        return new SoftRdmaFixture();
    }

    /** Two memory nodes serving tcp on loopback and "registered" with the software NIC. */
    private static final class SoftRdmaFixture implements TransportFixture
    {
        private final List<MemoryNodeService> services = new ArrayList<>();
        private final List<TcpVerbsServer> servers = new ArrayList<>();
        private final List<String> endpoints = new ArrayList<>();

        SoftRdmaFixture()
        {
            for (int i = 0; i < 2; i++)
            {
                final MemoryNodeService s = new MemoryNodeService("mn-" + i,
                    RegionTable.allocate(Fixtures.NODE_BYTES, Fixtures.REGION_BYTES), ProtocolVersion.DEFAULT_LAYOUT);
                final int n = s.regions().count();
                final long[] addresses = new long[n];
                final int[] rkeys = new int[n];
                for (final MemoryRegion r : s.regions().regions())
                {
                    addresses[r.id()] = r.address();
                    rkeys[r.id()] = SoftRnic.rkeyOf(r.id());
                }
                s.rdmaRegistered(ANNOUNCED_PORT, addresses, rkeys);
                final TcpVerbsServer server = TcpVerbsServer.start(s, "127.0.0.1", 0);
                services.add(s);
                servers.add(server);
                endpoints.add(server.endpoint());
            }
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
            final RdmaOptions options = RdmaOptions.defaults();
            return new RdmaVerbsTransport(options, new TcpVerbsTransport(), () -> new QueuePairFactory()
            {
                @Override
                public RdmaQueuePair connect(final MemoryNodeInfo node, final InetSocketAddress address,
                    final ClientOptions clientOptions)
                {
                    for (final MemoryNodeService s : services)
                    {
                        if (s.name().equals(node.name()) && address.getPort() == ANNOUNCED_PORT)
                        {
                            return new SoftRnic(s.regions(), options.sendQueueDepth(), options.stagingBytes());
                        }
                    }
                    throw new ConnectionException("no software NIC for " + node + " at " + address);
                }

                @Override
                public void close()
                {
                }
            });
        }

        @Override
        public void close()
        {
            servers.forEach(TcpVerbsServer::close);
            services.forEach(MemoryNodeService::close);
        }
    }
}
