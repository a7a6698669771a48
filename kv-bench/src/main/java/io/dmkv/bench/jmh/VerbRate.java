package io.dmkv.bench.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Verbs completed, reported by JMH next to the primary score as {@code <benchmark>:verbs} in the
 * same unit: the per-verb throughput, where the primary score counts batches (round trips).
 * Not final: JMH subclasses its state classes.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class VerbRate
{
    /** Verbs completed in the current iteration. */
    public long verbs;

    @Setup(Level.Iteration)
    public void clear()
    {
        verbs = 0;
    }
}
