package io.dmkv.rdma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whoever maps a memory node's shared file needs no key, so only the node's user may open it. */
class SharedFilePermissionsTest
{
    @Test
    void theSharedFileIsTheOwnersOnlyEvenWhenItExistedBefore(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("mn.shm");
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-")));
        try (RegionTable table = RegionTable.mapFile(file, 1 << 20, 1 << 20))
        {
            assertEquals(1, table.count());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
    }
}
