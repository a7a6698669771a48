package io.dmkv.memnode;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.dmkv.core.config.Sizes;

/**
 * How much memory this process can have: the host's physical memory and the memory limit of
 * its cgroup (v2 {@code memory.max}, or v1 {@code memory.limit_in_bytes}; the smallest along the
 * cgroup's path, since a parent's limit binds its children). A memory node zeroes all of its
 * memory when it starts, so asking for more than this ends with the OOM killer.
 *
 * @param physicalBytes  total physical memory (MemTotal), or -1 when unknown.
 * @param cgroupBytes    the cgroup's memory limit, or -1 when there is none.
 * @param cgroupFile     the file the cgroup limit came from (for messages), or null.
 */
public record HostMemory(long physicalBytes, long cgroupBytes, Path cgroupFile)
{
    /** cgroup v1 writes "no limit" as a page-rounded Long.MAX_VALUE; anything this large is none. */
    private static final long NO_LIMIT = 1L << 62;

    /** This host and process, read from {@code /proc} and {@code /sys/fs/cgroup}. */
    public static HostMemory probe()
    {
        return probe(Path.of("/"));
    }

    /** As {@link #probe()}, with {@code /proc} and {@code /sys} under {@code root} (tests use a fake tree). */
    static HostMemory probe(final Path root)
    {
        long physical = memTotal(root.resolve("proc/meminfo"));
        if (physical < 0 && ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os)
        {
            physical = os.getTotalMemorySize();
        }
        long limit = -1;
        Path from = null;
        for (final String line : lines(root.resolve("proc/self/cgroup")))
        {
            final String[] f = line.split(":", 3);
            if (f.length < 3)
            {
                continue;
            }
            final Path dir;
            final String file;
            if (f[0].equals("0") && f[1].isEmpty())
            {
                dir = root.resolve("sys/fs/cgroup");
                file = "memory.max";
            }
            else if (List.of(f[1].split(",")).contains("memory"))
            {
                dir = root.resolve("sys/fs/cgroup/memory");
                file = "memory.limit_in_bytes";
            }
            else
            {
                continue;
            }
            // The cgroup's own directory and each parent up to the hierarchy's root.
            Path p = dir.resolve(f[2].replaceFirst("^/+", ""));
            while (p.startsWith(dir))
            {
                final long l = limit(p.resolve(file));
                if (l >= 0 && (limit < 0 || l < limit))
                {
                    limit = l;
                    from = p.resolve(file);
                }
                if (p.equals(dir))
                {
                    break;
                }
                p = p.getParent();
            }
        }
        return new HostMemory(physical, limit, from);
    }

    /** The most memory a node here can register: the smaller of the two, or -1 when neither is known. */
    public long usableBytes()
    {
        if (physicalBytes < 0)
        {
            return cgroupBytes;
        }
        return cgroupBytes < 0 ? physicalBytes : Math.min(physicalBytes, cgroupBytes);
    }

    /** E.g. "23.5 GiB (physical memory 23.5 GiB; cgroup limit: none)". */
    public String describe()
    {
        return Sizes.format(usableBytes()) + " (physical memory "
            + (physicalBytes < 0 ? "unknown" : Sizes.format(physicalBytes)) + "; cgroup limit "
            + (cgroupBytes < 0 ? "none" : Sizes.format(cgroupBytes) + " in " + cgroupFile) + ")";
    }

    private static long memTotal(final Path meminfo)
    {
        for (final String line : lines(meminfo))
        {
            if (line.startsWith("MemTotal:"))
            {
                final String[] f = line.substring("MemTotal:".length()).trim().split("\\s+");
                try
                {
                    return Long.parseLong(f[0]) * (f.length > 1 && f[1].equalsIgnoreCase("kB") ? 1024 : 1);
                }
                catch (final NumberFormatException e)
                {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** A cgroup limit file's value; -1 for "max", a huge number, a missing or unreadable file. */
    private static long limit(final Path file)
    {
        final List<String> l = lines(file);
        if (l.isEmpty())
        {
            return -1;
        }
        try
        {
            final long v = Long.parseLong(l.get(0).trim());
            return v >= NO_LIMIT ? -1 : v;
        }
        catch (final NumberFormatException e)
        {
            return -1;
        }
    }

    private static List<String> lines(final Path file)
    {
        try
        {
            return Files.isReadable(file) ? Files.readAllLines(file) : List.of();
        }
        catch (final IOException | RuntimeException e)
        {
            return List.of();
        }
    }
}
