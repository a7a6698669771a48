package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.dmkv.MemoryFullException;

/** Failed operations are counted per kind, and the first failure of each kind is printed once. */
class WorkloadRunnerErrorsTest
{
    @Test
    void theFirstFailureOfEachKindIsPrintedAndEveryOneCounted()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final PrintStream saved = System.err;
        final RunResult r;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try
        {
            // Every other operation is an INSERT that fails; the rest are READs that succeed.
            r = WorkloadRunner.run("run", List.of("READ", "INSERT"), 4, 4_000, null, thread -> seq ->
            {
                if (seq % 2 == 1)
                {
                    throw new WorkloadException(1, new MemoryFullException("no free block in any region"));
                }
                return 0;
            }, WorkloadRunner.Progress.NONE);
        }
        finally
        {
            System.setErr(saved);
        }
        final String printed = err.toString(StandardCharsets.UTF_8);
        assertEquals(2_000, r.ops().get(0).ops());
        assertEquals(2_000, r.ops().get(1).errors());
        assertEquals(1, printed.lines().filter(l -> l.contains(": INSERT failed (later failures")).count(), printed);
        assertTrue(printed.contains("no free block in any region"), printed);
    }
}
