package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;

/**
 * READ, WRITE, CAS and FAA over a real RNIC (or Soft-RoCE) against an {@link RdmaVerbsServer},
 * checked against the memory node's memory itself. Skipped, with the probe's reasons, where rdma
 * cannot start (no RDMA device, no libdisni), or where no IPv4 address of an RDMA interface is
 * found ({@code -Ddmkv.rdma.testHost=ADDR} names one).
 */
final class RdmaHardwareTest
{
    private static final int REGION = 1 << 20;

    private static MemoryNodeService service;
    private static TcpVerbsServer tcp;
    private static RdmaVerbsServer rdma;
    private static RdmaVerbsTransport transport;
    private static VerbsClient client;
    private static String skipReason;

    @BeforeAll
    static void startMemoryNode()
    {
        // No assumption here: a class-level skip would hide the reason; each test reports it instead.
        final RdmaSupport support = RdmaSupport.probe();
        if (!support.isAvailable())
        {
            skipReason = "skipped, no rdma here: " + support.describe();
            return;
        }
        final String host = rdmaHost(support);
        if (host == null)
        {
            skipReason = "skipped: no IPv4 address on an RDMA interface of " + support.devices()
                + "; pass -Ddmkv.rdma.testHost=ADDR";
            return;
        }
        service = new MemoryNodeService("mn-hw", RegionTable.allocate(2L * REGION, REGION), 1);
        rdma = RdmaVerbsServer.start(service, host, 0);
        tcp = TcpVerbsServer.start(service, host, 0);
        transport = new RdmaVerbsTransport();
        client = VerbsClient.connect(transport, List.of(host + ":" + tcp.port()),
            ClientOptions.builder().requestTimeout(Duration.ofSeconds(10)).build());
    }

    @BeforeEach
    void requireRdma()
    {
        Assumptions.assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    static void stopMemoryNode()
    {
        if (client != null)
        {
            client.close();
        }
        if (transport != null)
        {
            transport.close();
        }
        if (tcp != null)
        {
            tcp.close();
        }
        if (rdma != null)
        {
            rdma.close();
        }
        if (service != null)
        {
            service.close();
        }
    }

    @Test
    void theServerPublishesItsPortAndEveryRegionsNicRegistration()
    {
        assertTrue(rdma.port() > 0);
        assertEquals(rdma.port(), service.rdmaPort());
        final List<RegionInfo> infos = service.regionInfos();
        for (int i = 0; i < infos.size(); i++)
        {
            assertEquals(service.regions().regions().get(i).address(), infos.get(i).rdmaAddress());
        }
        assertEquals(rdma.port(), client.channel(0).node().rdmaPort());
    }

    @Test
    void writeReadCasAndFaaRoundTripAgainstTheMemoryNodesMemory()
    {
        final RemoteRegion region = client.channel(0).region(1);
        final UnsafeBuffer src = new UnsafeBuffer(new byte[4096]);
        for (int i = 0; i < 4096; i++)
        {
            src.putByte(i, (byte)(i * 31));
        }
        final VerbBatch writes = new VerbBatch();
        writes.write(region, 8192, src, 0, 4096);
        client.execute(writes);
        final byte[] landed = new byte[4096];
        service.regions().regions().get(1).buffer().getBytes(8192, landed);
        assertArrayEquals(src.byteArray(), landed);

        final UnsafeBuffer dst = new UnsafeBuffer(new byte[4096]);
        final VerbBatch reads = new VerbBatch();
        reads.read(region, 8192, dst, 0, 4096);
        client.execute(reads);
        assertArrayEquals(src.byteArray(), dst.byteArray());

        service.regions().regions().get(1).buffer().putLong(64, 5L);
        final VerbBatch cas = new VerbBatch();
        final int hit = cas.cas(region, 64, 5L, 9L);
        final int miss = cas.cas(region, 64, 5L, 11L);
        client.execute(cas);
        assertEquals(5L, cas.result(hit));
        assertEquals(9L, cas.result(miss));
        assertEquals(9L, service.regions().regions().get(1).buffer().getLongVolatile(64));

        final VerbBatch faa = new VerbBatch();
        final int a = faa.faa(region, 64, 100L);
        final int b = faa.faa(region, 64, -1L);
        client.execute(faa);
        assertEquals(9L, faa.result(a));
        assertEquals(109L, faa.result(b));
        assertEquals(108L, service.regions().regions().get(1).buffer().getLongVolatile(64));
    }

    @Test
    void aBatchOfManyVerbsSpansSeveralDoorbellsAndEveryResultIsRight()
    {
        final RemoteRegion region = client.channel(0).region(0);
        final VerbBatch b = new VerbBatch();
        for (int k = 0; k < 200; k++)
        {
            service.regions().regions().get(0).buffer().putLongVolatile(65_536 + k * 8, k);
            b.faa(region, 65_536 + k * 8, 1000);
        }
        client.execute(b);
        for (int k = 0; k < 200; k++)
        {
            assertEquals(k, b.result(k));
            assertEquals(k + 1000, service.regions().regions().get(0).buffer().getLongVolatile(65_536 + k * 8));
        }
    }

    @Test
    void concurrentFetchAndAddsEachSeeADistinctOldValue() throws Exception
    {
        final RemoteRegion region = client.channel(0).region(0);
        final int threads = 4;
        final int perThread = 1_000;
        final Set<Long> seen = Collections.synchronizedSet(new HashSet<>());
        final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final Thread w = new Thread(() ->
            {
                try
                {
                    final VerbBatch b = new VerbBatch();
                    for (int k = 0; k < perThread; k++)
                    {
                        b.reset();
                        final int i = b.faa(region, 0, 1);
                        client.execute(b);
                        seen.add(b.result(i));
                    }
                }
                catch (final Throwable e)
                {
                    errors.add(e);
                }
            });
            workers.add(w);
            w.start();
        }
        for (final Thread w : workers)
        {
            w.join();
        }
        assertEquals(List.of(), errors);
        assertEquals(threads * perThread, seen.size());
        assertEquals(threads * perThread, service.regions().regions().get(0).buffer().getLongVolatile(0));
    }

    @Test
    void aForgedRegionKeyIsRefusedAndTheQueuePairStaysUsable()
    {
        final RemoteRegion real = client.channel(0).region(0);
        final RegionInfo info = real.info();
        final RemoteRegion forged = new RemoteRegion(real.channel(), new RegionInfo(info.id(), info.key() ^ 0x5A5A,
            info.length(), info.rdmaAddress(), info.rdmaKey()));
        final VerbBatch b = new VerbBatch();
        b.faa(real, 1024, 1);
        b.faa(forged, 1032, 1);
        final long before = service.regions().regions().get(0).buffer().getLongVolatile(1024);
        final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> client.execute(b));
        assertEquals(1, e.verbIndex());
        assertEquals(before + 1, service.regions().regions().get(0).buffer().getLongVolatile(1024));
        assertEquals(0, service.regions().regions().get(0).buffer().getLongVolatile(1032));

        final VerbBatch ok = new VerbBatch();
        ok.faa(real, 1024, 1);
        client.execute(ok);
        assertEquals(before + 1, ok.result(0));
        assertTrue(client.channel(0).isOpen(), "the queue pair never saw the forged verb");
    }

    /** The configured test address, else the first IPv4 address of a netdev behind an RDMA device. */
    private static String rdmaHost(final RdmaSupport support)
    {
        final String configured = System.getProperty("dmkv.rdma.testHost", System.getenv("DMKV_RDMA_TEST_HOST"));
        if (configured != null && !configured.isBlank())
        {
            return configured.trim();
        }
        for (final String device : support.devices())
        {
            for (final String netdev : netdevs(RdmaSupport.SYS_CLASS_INFINIBAND.resolve(device)))
            {
                try
                {
                    final NetworkInterface nic = NetworkInterface.getByName(netdev);
                    if (nic == null || !nic.isUp())
                    {
                        continue;
                    }
                    for (final InetAddress a : Collections.list(nic.getInetAddresses()))
                    {
                        if (a instanceof Inet4Address)
                        {
                            return a.getHostAddress();
                        }
                    }
                }
                catch (final SocketException ignored)
                {
                    // Try the next interface.
                }
            }
        }
        return null;
    }

    /** RoCE and Soft-RoCE name their netdev per GID; InfiniBand and mlx5 Ethernet list it under device/net. */
    private static List<String> netdevs(final Path device)
    {
        final List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ports = Files.newDirectoryStream(device.resolve("ports")))
        {
            for (final Path port : ports)
            {
                final Path ndev = port.resolve("gid_attrs").resolve("ndevs").resolve("0");
                if (Files.isReadable(ndev))
                {
                    names.add(Files.readString(ndev).trim());
                }
            }
        }
        catch (final IOException ignored)
        {
            // No ports directory: fall through to device/net.
        }
        try (DirectoryStream<Path> nets = Files.newDirectoryStream(device.resolve("device").resolve("net")))
        {
            for (final Path net : nets)
            {
                names.add(net.getFileName().toString());
            }
        }
        catch (final IOException ignored)
        {
            // Soft-RoCE devices have no device/net.
        }
        return names;
    }
}
