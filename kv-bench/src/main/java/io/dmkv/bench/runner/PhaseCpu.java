package io.dmkv.bench.runner;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time this JVM has used so far: all its threads, and apart from them its JIT compiler's
 * threads, so that a run can say how much of its CPU went to compiling rather than to its
 * operations (a warm-up too short for the JIT: docs/bench-runner.md, "The warm-up"). Two of these
 * taken around a phase give the phase's CPU ({@link #since}).
 *
 * <p>The compiler's CPU is read from {@code /proc/self/task/<tid>/stat} (Linux; 0 elsewhere): the
 * user and system ticks of the threads HotSpot names {@code C1 CompilerThread<n>}, {@code C2
 * CompilerThread<n>} (JVMCI's too). A compiler thread that exits during the phase (HotSpot removes
 * idle ones on machines with many cores) takes its ticks with it, so the figure is a lower bound.
 *
 * @param processNs all threads, in nanoseconds (0 where the JVM cannot say).
 * @param jitNs     the JIT compiler's threads, in nanoseconds (0 where unknown).
 */
public record PhaseCpu(long processNs, long jitNs)
{
    /** Nothing measured. */
    public static final PhaseCpu ZERO = new PhaseCpu(0, 0);

    /** Linux's clock ticks per second in {@code /proc} (USER_HZ, 100 on every mainstream kernel build). */
    static final long TICKS_PER_SECOND = 100;

    private static final Path TASKS = Path.of("/proc/self/task");

    /** This JVM's CPU time so far. */
    public static PhaseCpu now()
    {
        long process = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
        {
            process = Math.max(0, os.getProcessCpuTime());
        }
        return new PhaseCpu(process, jitNanos());
    }

    /** The CPU used between {@code start} and this (never negative: see the class comment). */
    public PhaseCpu since(final PhaseCpu start)
    {
        return new PhaseCpu(Math.max(0, processNs - start.processNs), Math.max(0, jitNs - start.jitNs));
    }

    /** The sum of two phases' CPU (processes that ran side by side). */
    public PhaseCpu plus(final PhaseCpu other)
    {
        return new PhaseCpu(processNs + other.processNs, jitNs + other.jitNs);
    }

    /** CPU time of the JIT compiler's threads so far, in nanoseconds (0 where /proc does not say). */
    static long jitNanos()
    {
        if (!Files.isDirectory(TASKS))
        {
            return 0;
        }
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS))
        {
            for (final Path task : tasks)
            {
                try
                {
                    ticks += compilerTicks(Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII));
                }
                catch (final IOException | RuntimeException gone)
                {
                    // The thread ended between the listing and the read: its ticks are gone either way.
                }
            }
        }
        catch (final IOException e)
        {
            return 0;
        }
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    /**
     * The user + system ticks of a thread's {@code stat} line if the thread is a JIT compiler
     * thread, else 0. The thread's name sits between the first {@code (} and the last {@code )}
     * and may hold spaces and parentheses; {@code utime} and {@code stime} are fields 14 and 15.
     *
     * @throws IllegalArgumentException if the line is not a {@code stat} line.
     */
    static long compilerTicks(final String stat)
    {
        final int open = stat.indexOf('(');
        final int close = stat.lastIndexOf(')');
        if (open < 0 || close < open)
        {
            throw new IllegalArgumentException("not a /proc stat line: " + stat);
        }
        final String name = stat.substring(open + 1, close);
        if (!isCompiler(name))
        {
            return 0;
        }
        final String[] f = stat.substring(close + 1).trim().split(" +");
        if (f.length < 13)
        {
            throw new IllegalArgumentException("a /proc stat line with " + (f.length + 2) + " fields: " + stat);
        }
        // f[0] is field 3 (state): utime (14) is f[11], stime (15) f[12].
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** Whether a thread name (as /proc gives it: at most 15 characters) is one of HotSpot's compiler threads. */
    static boolean isCompiler(final String name)
    {
        return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")
            || name.startsWith("JVMCI CompilerT") || name.startsWith("JVMCI-native Co");
    }
}
