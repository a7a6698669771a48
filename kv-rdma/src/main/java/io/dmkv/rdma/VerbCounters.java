package io.dmkv.rdma;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts what a channel or a client did: verbs by type, RPCs, payload bytes each way and round
 * trips. A round trip is one batch on a client (however many memory nodes it spans) and one
 * posted frame on a channel. Payload bytes are transport independent: WRITE data and atomic
 * operands out, READ data and atomic results in.
 */
public final class VerbCounters
{
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder cas = new LongAdder();
    private final LongAdder faa = new LongAdder();
    private final LongAdder rpcs = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder roundTrips = new LongAdder();

    /** Counts one verb and its payload bytes. */
    public void verb(final int op, final int length)
    {
        switch (op)
        {
            case Verb.READ:
                reads.increment();
                bytesIn.add(length);
                break;
            case Verb.WRITE:
                writes.increment();
                bytesOut.add(length);
                break;
            case Verb.CAS:
                cas.increment();
                bytesOut.add(2 * Verb.ATOMIC_SIZE);
                bytesIn.add(Verb.ATOMIC_SIZE);
                break;
            case Verb.FAA:
                faa.increment();
                bytesOut.add(Verb.ATOMIC_SIZE);
                bytesIn.add(Verb.ATOMIC_SIZE);
                break;
            default:
                break;
        }
    }

    /** Counts a whole batch part at once: one update per counter instead of one per verb. */
    public void batch(final long readCount, final long writeCount, final long casCount, final long faaCount,
        final long out, final long in)
    {
        if (readCount != 0)
        {
            reads.add(readCount);
        }
        if (writeCount != 0)
        {
            writes.add(writeCount);
        }
        if (casCount != 0)
        {
            cas.add(casCount);
        }
        if (faaCount != 0)
        {
            faa.add(faaCount);
        }
        bytesOut.add(out);
        bytesIn.add(in);
        roundTrips.increment();
    }

    /**
     * Counts the first {@code limit} verbs of part {@code part} of {@code batch} and one round
     * trip, with one update per counter.
     */
    public void part(final VerbBatch batch, final int part, final int limit)
    {
        long r = 0;
        long w = 0;
        long c = 0;
        long f = 0;
        long out = 0;
        long in = 0;
        for (int i = 0, n = batch.size(), k = 0; i < n && k < limit; i++)
        {
            if (batch.partOf(i) != part)
            {
                continue;
            }
            k++;
            switch (batch.op(i))
            {
                case Verb.READ:
                    r++;
                    in += batch.length(i);
                    break;
                case Verb.WRITE:
                    w++;
                    out += batch.length(i);
                    break;
                case Verb.CAS:
                    c++;
                    out += 2 * Verb.ATOMIC_SIZE;
                    in += Verb.ATOMIC_SIZE;
                    break;
                default:
                    f++;
                    out += Verb.ATOMIC_SIZE;
                    in += Verb.ATOMIC_SIZE;
                    break;
            }
        }
        batch(r, w, c, f, out, in);
    }

    public void rpc(final int requestBytes, final int responseBytes)
    {
        rpcs.increment();
        bytesOut.add(requestBytes);
        bytesIn.add(responseBytes);
    }

    public void roundTrip()
    {
        roundTrips.increment();
    }

    public Snapshot snapshot()
    {
        return new Snapshot(reads.sum(), writes.sum(), cas.sum(), faa.sum(), rpcs.sum(), bytesOut.sum(),
            bytesIn.sum(), roundTrips.sum());
    }

    /** A point-in-time copy; subtract two to measure an interval. */
    public record Snapshot(long reads, long writes, long cas, long faa, long rpcs, long bytesOut, long bytesIn,
        long roundTrips)
    {
        public static final Snapshot ZERO = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0);

        public long verbs()
        {
            return reads + writes + cas + faa;
        }

        public Snapshot minus(final Snapshot o)
        {
            return new Snapshot(reads - o.reads, writes - o.writes, cas - o.cas, faa - o.faa, rpcs - o.rpcs,
                bytesOut - o.bytesOut, bytesIn - o.bytesIn, roundTrips - o.roundTrips);
        }

        public Snapshot plus(final Snapshot o)
        {
            return new Snapshot(reads + o.reads, writes + o.writes, cas + o.cas, faa + o.faa, rpcs + o.rpcs,
                bytesOut + o.bytesOut, bytesIn + o.bytesIn, roundTrips + o.roundTrips);
        }
    }
}
