package io.dmkv.bench.model;

import java.util.Locale;

import io.dmkv.rdma.VerbCounters;

/**
 * What one operation costs on the network, on average: round trips, verbs by kind and payload
 * bytes each way (WRITE data and atomic operands out; READ data and atomic results in, as
 * {@link VerbCounters} counts them). The input of the {@link NicModel}.
 *
 * @param name     operation or workload.
 * @param rtts     round trips per operation (dependent steps; the verbs of one step run in parallel).
 * @param reads    READs per operation.
 * @param writes   WRITEs per operation.
 * @param atomics  CAS and FAA per operation.
 * @param rpcs     two-sided RPCs per operation.
 * @param bytesOut payload bytes from the client per operation.
 * @param bytesIn  payload bytes to the client per operation.
 */
public record VerbMix(String name, double rtts, double reads, double writes, double atomics, double rpcs,
    double bytesOut, double bytesIn)
{
    /** Messages a NIC handles per operation: every verb, and an RPC as one. */
    public double verbs()
    {
        return reads + writes + atomics + rpcs;
    }

    /** The average operation of {@code ops} operations that cost {@code c} and {@code roundTrips} round trips. */
    public static VerbMix of(final String name, final VerbCounters.Snapshot c, final long ops)
    {
        final double n = Math.max(1, ops);
        return new VerbMix(name, c.roundTrips() / n, c.reads() / n, c.writes() / n, (c.cas() + c.faa()) / n,
            c.rpcs() / n, c.bytesOut() / n, c.bytesIn() / n);
    }

    /** The average operation of a mix: {@code weights[i]} of the operations are {@code mixes[i]}. */
    public static VerbMix blend(final String name, final double[] weights, final VerbMix... mixes)
    {
        if (weights.length != mixes.length || mixes.length == 0)
        {
            throw new IllegalArgumentException("one weight per mix");
        }
        double sum = 0;
        for (final double w : weights)
        {
            sum += w;
        }
        double rtts = 0;
        double reads = 0;
        double writes = 0;
        double atomics = 0;
        double rpcs = 0;
        double out = 0;
        double in = 0;
        for (int i = 0; i < mixes.length; i++)
        {
            final double w = weights[i] / sum;
            final VerbMix m = mixes[i];
            rtts += w * m.rtts;
            reads += w * m.reads;
            writes += w * m.writes;
            atomics += w * m.atomics;
            rpcs += w * m.rpcs;
            out += w * m.bytesOut;
            in += w * m.bytesIn;
        }
        return new VerbMix(name, rtts, reads, writes, atomics, rpcs, out, in);
    }

    /** One line: {@code RTT 3.00, verbs 11.0 (R 2.0, W 4.0, atomic 3.0), B out 3,137, B in 307}. */
    public String summary()
    {
        return String.format(Locale.ROOT, "RTT %.2f, verbs %.2f (READ %.2f, WRITE %.2f, CAS/FAA %.2f%s), B out %,.0f, "
            + "B in %,.0f", rtts, verbs(), reads, writes, atomics, rpcs > 0.005 ? String.format(Locale.ROOT,
                ", RPC %.2f", rpcs) : "", bytesOut, bytesIn);
    }
}
