package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.TransportUnavailableException;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * The probe says exactly what is missing, and selecting rdma where it cannot start fails with
 * {@link TransportUnavailableException} pointing at the docs, for the client transport and the
 * memory node's server alike.
 */
final class RdmaSupportTest
{
    @Test
    void anEmptyDeviceDirectoryIsReportedAsNoRdmaDevice(@TempDir final Path dir)
    {
        final RdmaSupport s = RdmaSupport.probe(dir);
        assertFalse(s.isAvailable());
        assertTrue(s.missing().contains(RdmaSupport.Requirement.RDMA_DEVICE));
        assertTrue(s.problem(RdmaSupport.Requirement.RDMA_DEVICE).contains(dir.toString()),
            s.problem(RdmaSupport.Requirement.RDMA_DEVICE));
        assertTrue(s.problem(RdmaSupport.Requirement.RDMA_DEVICE).contains("is empty"));
        assertEquals(List.of(), s.devices());
    }

    @Test
    void aMissingDeviceDirectoryIsReportedWithItsPath(@TempDir final Path dir)
    {
        final Path absent = dir.resolve("infiniband");
        final RdmaSupport s = RdmaSupport.probe(absent);
        assertTrue(s.problem(RdmaSupport.Requirement.RDMA_DEVICE).contains(absent + " does not exist"),
            s.problem(RdmaSupport.Requirement.RDMA_DEVICE));
        assertTrue(s.describe().contains(RdmaSupport.DOCS));
    }

    @Test
    void devicesUnderTheDirectoryAreListedAndSatisfyTheDeviceRequirement(@TempDir final Path dir) throws IOException
    {
        Files.createDirectory(dir.resolve("rxe0"));
        Files.createDirectory(dir.resolve("mlx5_0"));
        final RdmaSupport s = RdmaSupport.probe(dir);
        assertEquals(List.of("mlx5_0", "rxe0"), s.devices());
        assertFalse(s.missing().contains(RdmaSupport.Requirement.RDMA_DEVICE));
        assertNull(s.problem(RdmaSupport.Requirement.RDMA_DEVICE));
    }

    @Test
    void theProbeOfThisMachineNamesEveryMissingPiece()
    {
        final RdmaSupport s = RdmaSupport.probe();
        assertSame(s, RdmaSupport.probe(), "probed once per JVM");
        assertEquals(s.missing().isEmpty(), s.isAvailable());
        if (!hasDevices())
        {
            assertTrue(s.missing().contains(RdmaSupport.Requirement.RDMA_DEVICE), s.describe());
            assertTrue(s.describe().contains("/sys/class/infiniband"), s.describe());
        }
        if (!libdisniOnLibraryPath())
        {
            assertTrue(s.missing().contains(RdmaSupport.Requirement.LIBDISNI), s.describe());
            assertTrue(s.describe().contains("libdisni"), s.describe());
            assertTrue(s.describe().contains("java.library.path"), s.describe());
        }
        if (!s.isAvailable())
        {
            final TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
                () -> s.requireAvailable("the rdma transport"));
            assertTrue(e.getMessage().startsWith("cannot start the rdma transport: rdma unavailable: "), e.getMessage());
        }
    }

    @Test
    void requireAvailableNamesWhatWasStartedEveryProblemAndTheDocs()
    {
        final RdmaSupport s = unavailable();
        final TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
            () -> s.requireAvailable("the thing"));
        assertTrue(e.getMessage().contains("cannot start the thing"), e.getMessage());
        assertTrue(e.getMessage().contains("no RDMA device: nowhere"), e.getMessage());
        assertTrue(e.getMessage().contains("libdisni is not loadable"), e.getMessage());
        assertTrue(e.getMessage().contains(RdmaSupport.DOCS), e.getMessage());
    }

    @Test
    void selectingTheRdmaTransportWhereRdmaCannotStartThrowsTransportUnavailable()
    {
        final RdmaSupport probe = RdmaSupport.probe();
        Assumptions.assumeFalse(probe.isAvailable(), "rdma is available here: the unavailable path cannot be shown");
        final TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
            RdmaVerbsTransport::new);
        assertTrue(e.getMessage().contains(RdmaSupport.DOCS), e.getMessage());
        for (final RdmaSupport.Requirement r : probe.missing())
        {
            assertTrue(e.getMessage().contains(probe.problem(r)), "message names " + r + ": " + e.getMessage());
        }
    }

    @Test
    void aRefusedTransportClosesTheControlTransportItWasGiven()
    {
        final AtomicInteger closed = new AtomicInteger();
        final VerbsTransport control = new VerbsTransport()
        {
            @Override
            public String name()
            {
                return "control";
            }

            @Override
            public VerbsChannel connect(final String endpoint, final ClientOptions options)
            {
                throw new AssertionError("never connected");
            }

            @Override
            public void close()
            {
                closed.incrementAndGet();
            }
        };
        assertThrows(TransportUnavailableException.class,
            () -> new RdmaVerbsTransport(unavailable(), RdmaOptions.defaults(), control));
        assertEquals(1, closed.get());
    }

    @Test
    void theRdmaServerRefusesToStartWithoutRdmaAndPublishesNothing()
    {
        try (MemoryNodeService service = new MemoryNodeService("mn-test", RegionTable.allocate(1 << 16, 1 << 16), 1))
        {
            final TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
                () -> RdmaVerbsServer.start(unavailable(), service, "127.0.0.1", 0, RdmaOptions.defaults()));
            assertTrue(e.getMessage().contains("rdma server of memory node mn-test"), e.getMessage());
            assertTrue(e.getMessage().contains(RdmaSupport.DOCS), e.getMessage());
            assertEquals(0, service.rdmaPort());
            assertEquals(0, service.regionInfos().get(0).rdmaKey());
        }
    }

    @Test
    void theRdmaServerOnThisMachineFailsWithTransportUnavailableWhenRdmaIsMissing()
    {
        final RdmaSupport probe = RdmaSupport.probe();
        Assumptions.assumeFalse(probe.isAvailable(), "rdma is available here: the unavailable path cannot be shown");
        try (MemoryNodeService service = new MemoryNodeService("mn-here", RegionTable.allocate(1 << 16, 1 << 16), 1))
        {
            final TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
                () -> RdmaVerbsServer.start(service, "127.0.0.1", 0));
            assertTrue(e.getMessage().contains(probe.describe()), e.getMessage());
            assertEquals(0, service.rdmaPort());
        }
    }

    @Test
    void theServerRefusesTheWildcardAddress()
    {
        final RdmaSupport available = new RdmaSupport(List.of("rxe0"), Map.of());
        try (MemoryNodeService service = new MemoryNodeService("mn-any", RegionTable.allocate(1 << 16, 1 << 16), 1))
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RdmaVerbsServer.start(available, service, "0.0.0.0", 0, RdmaOptions.defaults()));
            assertTrue(e.getMessage().contains("wildcard"), e.getMessage());
        }
    }

    private static RdmaSupport unavailable()
    {
        return new RdmaSupport(List.of(), Map.of(
            RdmaSupport.Requirement.RDMA_DEVICE, "no RDMA device: nowhere",
            RdmaSupport.Requirement.LIBDISNI, "libdisni is not loadable (test)"));
    }

    private static boolean hasDevices()
    {
        final String[] entries = RdmaSupport.SYS_CLASS_INFINIBAND.toFile().list();
        return entries != null && entries.length > 0;
    }

    private static boolean libdisniOnLibraryPath()
    {
        final String name = System.mapLibraryName("disni");
        for (final String dir : System.getProperty("java.library.path", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.exists(Path.of(dir, name)))
            {
                return true;
            }
        }
        return false;
    }
}
