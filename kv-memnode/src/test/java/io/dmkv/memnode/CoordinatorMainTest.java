package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MemberInfo;

/** {@code scripts/coordinator} as a user runs it: a child JVM serving ZooKeeper until SIGTERM. */
@Timeout(120)
class CoordinatorMainTest
{
    private static final Pattern READY = Pattern.compile("coordinator ready on (\\S+) ");
    private static final Pattern DATA = Pattern.compile("data in (\\S+), deleted on exit");

    @Test
    void servesMembersAndStopsCleanlyOnSigtermDeletingItsTemporaryData() throws Exception
    {
        final Process p = MemoryNodeMainTest.start(CoordinatorMain.class, "--host", "127.0.0.1", "--port", "0",
            "--tick", "100ms");
        try
        {
            final String endpoint = MemoryNodeMainTest.awaitLine(p, READY);
            try (Coordinator c = Coordinator.open(CoordinatorSettings.of(endpoint)))
            {
                c.members().register(MemberInfo.memoryNode("mn0", "127.0.0.1:7410", List.of(0), 0));
                assertEquals(1, c.members().alive(MemberInfo.Kind.MEMORY_NODE).size());
            }
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the coordinator stops on SIGTERM");
        }
        finally
        {
            p.destroyForcibly();
        }
    }

    @Test
    void helpNamesEveryOptionAndTheDataDirectoryIsTemporaryByDefault() throws Exception
    {
        final Process help = MemoryNodeMainTest.start(CoordinatorMain.class, "--help");
        final String text = new String(help.getInputStream().readAllBytes());
        assertTrue(help.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, help.exitValue());
        for (final String option : List.of("--host", "--port", "--data-dir", "--tick"))
        {
            assertTrue(text.contains(option), "help lacks " + option);
        }
        final Process p = MemoryNodeMainTest.start(CoordinatorMain.class, "--host", "127.0.0.1", "--port", "0");
        try
        {
            final Path data = Path.of(MemoryNodeMainTest.awaitLine(p, DATA));
            assertTrue(Files.isDirectory(data));
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertFalse(Files.exists(data), "the temporary data directory is deleted on SIGTERM");
        }
        finally
        {
            p.destroyForcibly();
        }
    }
}
