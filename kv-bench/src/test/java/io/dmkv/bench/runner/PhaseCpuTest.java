package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class PhaseCpuTest
{
    /** A /proc/self/task/<tid>/stat line of a thread called {@code name} with these user and system ticks. */
    private static String stat(final String name, final long utime, final long stime)
    {
        return "4242 (" + name + ") S 4200 4200 1000 0 -1 1077936192 2048 0 0 0 " + utime + " " + stime
            + " 0 0 20 0 31 0 123456 5000000000 60000 18446744073709551615 1 1 0 0 0 0 4 0 16902 0 0 0 -1 1 0 0 0 0 0\n";
    }

    @Test
    void theCompilersTicksAreUserPlusSystem()
    {
        assertEquals(37 + 5, PhaseCpu.compilerTicks(stat("C2 CompilerThre", 37, 5)));
        assertEquals(12, PhaseCpu.compilerTicks(stat("C1 CompilerThre", 10, 2)));
        assertEquals(0, PhaseCpu.compilerTicks(stat("dmkv-run-3", 900, 100)), "not a compiler thread");
        assertEquals(0, PhaseCpu.compilerTicks(stat("GC Thread#0", 900, 100)), "not a compiler thread");
    }

    @Test
    void aNameWithSpacesAndParenthesesDoesNotShiftTheFields()
    {
        // The name runs to the last ')': a thread may call itself anything, "x) 1 2 (y" included.
        assertEquals(0, PhaseCpu.compilerTicks(stat("x) 1 2 (y", 900, 100)));
        assertEquals(7, PhaseCpu.compilerTicks(stat("C2 CompilerThre", 3, 4)));
        assertTrue(PhaseCpu.isCompiler("JVMCI CompilerT"));
        assertFalse(PhaseCpu.isCompiler("C2 Compiler"), "a prefix of the name, not the name");
    }

    @Test
    void somethingElseIsRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> PhaseCpu.compilerTicks("no parentheses here"));
        assertThrows(IllegalArgumentException.class, () -> PhaseCpu.compilerTicks("1 (C2 CompilerThre) S 2 3"),
            "too few fields");
        assertThrows(NumberFormatException.class, () -> PhaseCpu.compilerTicks(stat("C2 CompilerThre", 1, 2)
            .replace(" 1 2 0 0 20", " one 2 0 0 20")));
    }

    @Test
    void aPhaseIsTheDifferenceAndNeverNegative()
    {
        final PhaseCpu start = new PhaseCpu(1_000, 300);
        assertEquals(new PhaseCpu(500, 200), new PhaseCpu(1_500, 500).since(start));
        // A compiler thread that exited took its ticks with it: the JIT's part cannot go below 0.
        assertEquals(new PhaseCpu(500, 0), new PhaseCpu(1_500, 100).since(start));
        assertEquals(new PhaseCpu(2_500, 800), new PhaseCpu(1_500, 500).plus(start));
    }

    @Test
    void thisJvmsCompilersHaveWorked()
    {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc here: the compiler's CPU is not measured");
        // Give the compilers something, then look: a JVM that has loaded and run JUnit has compiled for far more
        // than one clock tick (10 ms).
        long sum = 0;
        for (int i = 0; i < 2_000_000; i++)
        {
            sum += Long.toString(i).hashCode();
        }
        final PhaseCpu now = PhaseCpu.now();
        assertTrue(now.jitNs() > 0, "compiler threads' CPU read from /proc (sum " + sum + ")");
        assertTrue(now.jitNs() <= now.processNs(), now.toString());
        assertEquals(0, now.jitNs() % (1_000_000_000L / PhaseCpu.TICKS_PER_SECOND), "whole clock ticks");
    }
}
