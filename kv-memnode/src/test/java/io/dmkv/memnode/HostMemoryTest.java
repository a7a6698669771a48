package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostMemoryTest
{
    private static void write(final Path root, final String file, final String text) throws IOException
    {
        final Path p = root.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void cgroupV2TakesTheSmallestLimitAlongThePath(@TempDir final Path root) throws IOException
    {
        write(root, "proc/meminfo", "MemTotal:       24683784 kB\nMemFree:  1000 kB\n");
        write(root, "proc/self/cgroup", "0::/jobs/worker\n");
        write(root, "sys/fs/cgroup/memory.max", "max\n");
        write(root, "sys/fs/cgroup/jobs/memory.max", "8589934592\n");
        write(root, "sys/fs/cgroup/jobs/worker/memory.max", "max\n");
        final HostMemory m = HostMemory.probe(root);
        assertEquals(24683784L * 1024, m.physicalBytes());
        assertEquals(8L << 30, m.cgroupBytes(), "the parent's limit binds the child");
        assertEquals(8L << 30, m.usableBytes());
        assertTrue(m.describe().contains("cgroup limit 8 GiB"), m.describe());
    }

    @Test
    void cgroupV1UnlimitedIsNoLimitAndPhysicalMemoryDecides(@TempDir final Path root) throws IOException
    {
        write(root, "proc/meminfo", "MemTotal:       4194304 kB\n");
        write(root, "proc/self/cgroup", "5:devices:/\n4:memory:/process_api/abc\n0::/\n");
        write(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        write(root, "sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes", "9223372036854771712\n");
        final HostMemory unlimited = HostMemory.probe(root);
        assertEquals(-1, unlimited.cgroupBytes());
        assertEquals(4L << 30, unlimited.usableBytes());
        assertTrue(unlimited.describe().contains("cgroup limit none"), unlimited.describe());
        write(root, "sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes", "1073741824\n");
        assertEquals(1L << 30, HostMemory.probe(root).usableBytes());
    }

    @Test
    void memoryAboveWhatTheHostCanGiveIsRefusedUnlessForced()
    {
        final HostMemory small = new HostMemory(64L << 20, 32L << 20, Path.of("/sys/fs/cgroup/memory.max"));
        assertNull(MemoryNodeMain.memoryProblem(32L << 20, small));
        final String problem = MemoryNodeMain.memoryProblem(48L << 20, small);
        assertTrue(problem.contains("--memory 48 MiB is more than this host can give: 32 MiB")
            && problem.contains("--force"), problem);
        assertNull(MemoryNodeMain.memoryProblem(1L << 50, new HostMemory(-1, -1, null)), "unknown: no check");

        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        final int exit;
        try
        {
            exit = MemoryNodeMain.run(new String[] {"--host", "127.0.0.1", "--port", "0", "--memory", "48M"}, small);
        }
        finally
        {
            System.setErr(err);
        }
        assertEquals(2, exit, "refused as bad usage, before any memory is taken");
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("--force"), captured.toString(StandardCharsets.UTF_8));
    }
}
