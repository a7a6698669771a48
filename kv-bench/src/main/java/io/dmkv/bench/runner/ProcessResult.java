package io.dmkv.bench.runner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.zip.DataFormatException;

import org.HdrHistogram.Histogram;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.dmkv.rdma.VerbCounters;

/**
 * What one process measured in one phase, in a form that crosses process boundaries: every
 * operation kind's counters and its latency histogram (HdrHistogram's compressed encoding, in
 * base64), the store's verb counters, and the wall-clock interval of the phase. A client process
 * writes it as JSON; {@link #merge} adds the results of all processes into one.
 *
 * @param process     index of the process (0 for an in-process run).
 * @param threads     threads the process ran.
 * @param startEpochNs when the phase started, in nanoseconds since the epoch.
 * @param endEpochNs   when it ended.
 * @param misses      operations that found no key (all kinds).
 * @param counters    the store's verbs over the phase, by kind (background work included).
 * @param ops         per operation kind, in the phase's order.
 * @param cpuNs       CPU time the process spent during the phase, all its threads (the client, and in FlexKV
 *                    mode the proxy serving other processes), or 0 if unknown.
 * @param jitCpuNs    of {@code cpuNs}, the JIT compiler's threads ({@link PhaseCpu}), or 0 if unknown.
 */
public record ProcessResult(int process, int threads, long startEpochNs, long endEpochNs, long misses,
    Counters counters, List<Op> ops, long cpuNs, long jitCpuNs)
{
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One operation kind. Counter sums; {@code misses} are operations that found no key;
     * {@code histogram} is the encoded latency histogram (ns).
     */
    public record Op(String name, long ops, long errors, long misses, long roundTrips, long verbs, long bytesOut,
        long bytesIn, long rpcs, String histogram)
    {
    }

    /** {@link VerbCounters.Snapshot} as JSON. */
    public record Counters(long reads, long writes, long cas, long faa, long rpcs, long bytesOut, long bytesIn,
        long roundTrips)
    {
        public static Counters of(final VerbCounters.Snapshot s)
        {
            return new Counters(s.reads(), s.writes(), s.cas(), s.faa(), s.rpcs(), s.bytesOut(), s.bytesIn(),
                s.roundTrips());
        }

        public VerbCounters.Snapshot snapshot()
        {
            return new VerbCounters.Snapshot(reads, writes, cas, faa, rpcs, bytesOut, bytesIn, roundTrips);
        }
    }

    /** Nanoseconds since the epoch, now (microsecond resolution on Linux). */
    public static long epochNanos()
    {
        final Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * The result of a phase run in this process.
     *
     * @param misses operations that found no key, by kind in the order of {@code r.ops()}.
     * @param cpu    CPU time of this process over the phase ({@link PhaseCpu#since}; {@link PhaseCpu#ZERO} if unknown).
     */
    public static ProcessResult of(final int process, final RunResult r, final long startEpochNs, final long[] misses,
        final VerbCounters.Snapshot counters, final PhaseCpu cpu)
    {
        final List<Op> ops = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < r.ops().size(); i++)
        {
            final OpStats s = r.ops().get(i);
            final long m = i < misses.length ? misses[i] : 0;
            total += m;
            ops.add(new Op(s.name(), s.ops(), s.errors(), m, s.roundTrips(), s.verbs(), s.bytesOut(), s.bytesIn(),
                s.rpcs(), encode(s.latencyNs())));
        }
        return new ProcessResult(process, r.threads(), startEpochNs, startEpochNs + r.elapsedNs(), total,
            Counters.of(counters), List.copyOf(ops), cpu.processNs(), cpu.jitNs());
    }

    /** HdrHistogram's compressed encoding, in base64. */
    public static String encode(final Histogram h)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        final int length = h.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
    }

    /** The histogram {@link #encode} encoded. */
    public static Histogram decode(final String base64)
    {
        try
        {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)),
                OpStats.MAX_LATENCY_NS);
        }
        catch (final DataFormatException | IllegalArgumentException e)
        {
            throw new IllegalArgumentException("not an encoded latency histogram: " + e.getMessage(), e);
        }
    }

    public void write(final Path file) throws IOException
    {
        final Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
    }

    public static ProcessResult read(final Path file) throws IOException
    {
        return JSON.readValue(file.toFile(), ProcessResult.class);
    }

    /**
     * A phase merged over processes.
     *
     * @param opMisses misses by operation kind, in the order of {@code result.ops()}.
     * @param cpuNs    CPU time of all processes over the phase (0 if unknown).
     * @param jitCpuNs of {@code cpuNs}, their JIT compilers' (0 if unknown).
     */
    public record Merged(RunResult result, int processes, VerbCounters.Snapshot counters, long misses,
        List<Long> opMisses, long cpuNs, long jitCpuNs)
    {
        /** Client-process CPU per operation, µs (NaN if unknown). */
        public double cpuMicrosPerOp()
        {
            return cpuNs <= 0 || result.totalOps() == 0 ? Double.NaN : cpuNs / 1e3 / result.totalOps();
        }
    }

    /**
     * Adds the results of several processes that ran the same phase at the same time: operation
     * counts, counters and histograms add up; the phase lasted from the earliest start to the
     * latest end, so its throughput is all operations over that wall time.
     *
     * @throws IllegalArgumentException if the processes ran different operation kinds.
     */
    public static Merged merge(final String phase, final List<ProcessResult> parts)
    {
        if (parts.isEmpty())
        {
            throw new IllegalArgumentException("nothing to merge");
        }
        final List<Op> first = parts.get(0).ops();
        final OpStats[] merged = new OpStats[first.size()];
        for (int i = 0; i < merged.length; i++)
        {
            merged[i] = new OpStats(first.get(i).name());
        }
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        int threads = 0;
        long misses = 0;
        long cpu = 0;
        long jit = 0;
        VerbCounters.Snapshot counters = VerbCounters.Snapshot.ZERO;
        final long[] opMisses = new long[merged.length];
        for (final ProcessResult p : parts)
        {
            if (p.ops().size() != merged.length)
            {
                throw new IllegalArgumentException("process " + p.process() + " ran " + p.ops().size()
                    + " kinds of operation, process " + parts.get(0).process() + " ran " + merged.length);
            }
            for (int i = 0; i < merged.length; i++)
            {
                final Op o = p.ops().get(i);
                if (!o.name().equals(merged[i].name()))
                {
                    throw new IllegalArgumentException("process " + p.process() + " has " + o.name() + " where "
                        + merged[i].name() + " was expected");
                }
                final OpStats s = merged[i];
                s.latencyNs.add(decode(o.histogram()));
                s.ops += o.ops();
                s.errors += o.errors();
                s.roundTrips += o.roundTrips();
                s.verbs += o.verbs();
                s.bytesOut += o.bytesOut();
                s.bytesIn += o.bytesIn();
                s.rpcs += o.rpcs();
                opMisses[i] += o.misses();
            }
            start = Math.min(start, p.startEpochNs());
            end = Math.max(end, p.endEpochNs());
            threads += p.threads();
            misses += p.misses();
            cpu += p.cpuNs();
            jit += p.jitCpuNs();
            counters = counters.plus(p.counters().snapshot());
        }
        return new Merged(new RunResult(phase, threads, Math.max(0, end - start), List.of(merged)), parts.size(),
            counters, misses, Arrays.stream(opMisses).boxed().toList(), cpu, jit);
    }
}
