package io.dmkv.rdma;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.agrona.UnsafeAccess;

/**
 * Counts what a channel or a client did: verbs by type, RPCs, payload bytes each way and round
 * trips. A round trip is one batch on a client (however many memory nodes it spans) and one
 * posted frame on a channel. Payload bytes are transport independent: WRITE data and atomic
 * operands out, READ data and atomic results in.
 *
 * <p>Counting is on every verb's path, so it costs no atomic instruction: each thread that counts
 * has its own cell of counters, which only it writes (plain adds, published with opaque stores,
 * as Agrona's counters do), and a {@link #snapshot()} sums the cells. A snapshot taken while
 * threads count may miss their last few counts, never tear one. A thread finds its cell through
 * its {@link VerbThread}, which remembers the cells it used last.
 */
public final class VerbCounters
{
    /** For {@link #part}: count the verbs of every part. */
    public static final int ALL_PARTS = -1;

    private static final int READS = 0;
    private static final int WRITES = 1;
    private static final int CAS = 2;
    private static final int FAA = 3;
    private static final int RPCS = 4;
    private static final int BYTES_OUT = 5;
    private static final int BYTES_IN = 6;
    private static final int ROUND_TRIPS = 7;
    private static final int COUNTERS = 8;
    private static final long BASE = UnsafeAccess.UNSAFE.arrayBaseOffset(long[].class);

    private final ThreadLocal<long[]> cells = ThreadLocal.withInitial(this::newCell);
    private final List<long[]> all = new CopyOnWriteArrayList<>();

    /** The calling thread's cell, from the thread-local ({@link VerbThread} remembers the last few). */
    long[] cellOfCurrentThread()
    {
        return cells.get();
    }

    private long[] cell()
    {
        return VerbThread.current().cell(this);
    }

    private long[] newCell()
    {
        final long[] cell = new long[COUNTERS];
        all.add(cell);
        return cell;
    }

    private static void add(final long[] cell, final int counter, final long delta)
    {
        // Only the cell's thread writes it: a plain read, and an ordered store that a snapshot reads
        // whole. Unsafe rather than a VarHandle: counting runs deep in an inlined round trip, below
        // the JIT's inlining depth, where a VarHandle access is an out-of-line call.
        final long at = BASE + ((long)counter << 3);
        UnsafeAccess.UNSAFE.putOrderedLong(cell, at, UnsafeAccess.UNSAFE.getLong(cell, at) + delta);
    }

    /** Counts one verb and its payload bytes. */
    public void verb(final int op, final int length)
    {
        final long[] cell = cell();
        switch (op)
        {
            case Verb.READ:
                add(cell, READS, 1);
                add(cell, BYTES_IN, length);
                break;
            case Verb.WRITE:
                add(cell, WRITES, 1);
                add(cell, BYTES_OUT, length);
                break;
            case Verb.CAS:
                add(cell, CAS, 1);
                add(cell, BYTES_OUT, 2 * Verb.ATOMIC_SIZE);
                add(cell, BYTES_IN, Verb.ATOMIC_SIZE);
                break;
            case Verb.FAA:
                add(cell, FAA, 1);
                add(cell, BYTES_OUT, Verb.ATOMIC_SIZE);
                add(cell, BYTES_IN, Verb.ATOMIC_SIZE);
                break;
            default:
                break;
        }
    }

    /** Counts a whole batch part at once, and its round trip. */
    public void batch(final long readCount, final long writeCount, final long casCount, final long faaCount,
        final long out, final long in)
    {
        batch(cell(), readCount, writeCount, casCount, faaCount, out, in);
    }

    private static void batch(final long[] cell, final long readCount, final long writeCount, final long casCount,
        final long faaCount, final long out, final long in)
    {
        add(cell, READS, readCount);
        add(cell, WRITES, writeCount);
        add(cell, CAS, casCount);
        add(cell, FAA, faaCount);
        add(cell, BYTES_OUT, out);
        add(cell, BYTES_IN, in);
        add(cell, ROUND_TRIPS, 1);
    }

    /**
     * Counts the first {@code limit} verbs of part {@code part} of {@code batch} (or of the whole
     * batch: {@link #ALL_PARTS}) and one round trip.
     */
    public void part(final VerbBatch batch, final int part, final int limit)
    {
        part(VerbThread.current(), batch, part, limit);
    }

    /** {@link #part(VerbBatch, int, int)} counted by {@code thread}, the calling thread's {@link VerbThread}. */
    public void part(final VerbThread thread, final VerbBatch batch, final int part, final int limit)
    {
        final long[] cell = thread.cell(this);
        if ((part == ALL_PARTS || batch.partCount() == 1) && limit >= batch.size())
        {
            // The whole batch: its running totals, no pass over its verbs.
            batch(cell, batch.reads(), batch.writes(), batch.casCount(), batch.faaCount(), batch.bytesOut(),
                batch.bytesIn());
            return;
        }
        long r = 0;
        long w = 0;
        long c = 0;
        long f = 0;
        long out = 0;
        long in = 0;
        for (int i = 0, n = batch.size(), k = 0; i < n && k < limit; i++)
        {
            if (part != ALL_PARTS && batch.partOf(i) != part)
            {
                continue;
            }
            k++;
            final byte op = batch.op(i);
            final int length = batch.length(i);
            r += op == Verb.READ ? 1 : 0;
            w += op == Verb.WRITE ? 1 : 0;
            c += op == Verb.CAS ? 1 : 0;
            f += op == Verb.FAA ? 1 : 0;
            out += Verb.bytesOut(op, length);
            in += Verb.bytesIn(op, length);
        }
        batch(cell, r, w, c, f, out, in);
    }

    public void rpc(final int requestBytes, final int responseBytes)
    {
        final long[] cell = cell();
        add(cell, RPCS, 1);
        add(cell, BYTES_OUT, requestBytes);
        add(cell, BYTES_IN, responseBytes);
    }

    public void roundTrip()
    {
        add(cell(), ROUND_TRIPS, 1);
    }

    public Snapshot snapshot()
    {
        final long[] sum = new long[COUNTERS];
        for (final long[] cell : all)
        {
            for (int i = 0; i < COUNTERS; i++)
            {
                sum[i] += UnsafeAccess.UNSAFE.getLongVolatile(cell, BASE + ((long)i << 3));
            }
        }
        return new Snapshot(sum[READS], sum[WRITES], sum[CAS], sum[FAA], sum[RPCS], sum[BYTES_OUT], sum[BYTES_IN],
            sum[ROUND_TRIPS]);
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
