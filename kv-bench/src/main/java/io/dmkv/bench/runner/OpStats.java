package io.dmkv.bench.runner;

import org.HdrHistogram.Histogram;

/**
 * What one thread measured for one kind of operation: latencies and the verbs it cost.
 * Merged across threads (and processes) after a run.
 */
public final class OpStats
{
    /** Latencies up to one minute, three significant digits. */
    public static final long MAX_LATENCY_NS = 60_000_000_000L;

    final String name;
    final Histogram latencyNs = new Histogram(MAX_LATENCY_NS, 3);
    long ops;
    long errors;
    long roundTrips;
    long verbs;
    long bytesOut;
    long bytesIn;
    long rpcs;

    OpStats(final String name)
    {
        this.name = name;
    }

    public String name()
    {
        return name;
    }

    public long ops()
    {
        return ops;
    }

    public long errors()
    {
        return errors;
    }

    public Histogram latencyNs()
    {
        return latencyNs;
    }

    public long roundTrips()
    {
        return roundTrips;
    }

    public long verbs()
    {
        return verbs;
    }

    public long bytesOut()
    {
        return bytesOut;
    }

    public long bytesIn()
    {
        return bytesIn;
    }

    public long rpcs()
    {
        return rpcs;
    }

    void add(final OpStats o)
    {
        latencyNs.add(o.latencyNs);
        ops += o.ops;
        errors += o.errors;
        roundTrips += o.roundTrips;
        verbs += o.verbs;
        bytesOut += o.bytesOut;
        bytesIn += o.bytesIn;
        rpcs += o.rpcs;
    }
}
