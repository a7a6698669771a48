package io.dmkv.bench.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One thread keeping {@code depth} batches in flight: each call waits for the oldest batch,
 * refills it and posts it again, so the score is completed batches per second with the
 * pipeline full. {@code depth=1} is the same work without overlap.
 *
 * <p>{@code api=listener} posts through {@link io.dmkv.rdma.VerbsClient#post} with a reused
 * listener (the allocation-free path protocols use); {@code api=future} through
 * {@link io.dmkv.rdma.VerbsClient#executeAsync}, which completes a new future on the client's
 * completion thread. On {@code local} a post completes inside the call, so depth changes nothing
 * there but the bookkeeping. Not final: JMH subclasses state classes.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
public class VerbsPipelineBenchmark
{
    static final String LISTENER = "listener";
    static final String FUTURE = "future";

    @Param({"local", "tcp"})
    public String transport;

    @Param({"FAA"})
    public VerbOp op;

    /** Payload of a READ or WRITE (and the spacing of the verbs in memory). */
    @Param({"64"})
    public int bytes;

    @Param({"1", "8"})
    public int batch;

    /** Batches in flight. */
    @Param({"1", "16"})
    public int depth;

    /** {@code listener} ({@code post}) or {@code future} ({@code executeAsync}). */
    @Param({"listener", "future"})
    public String api;

    /** {@code verbs}: run them; {@code echo}: the raw baseline. */
    @Param({"verbs"})
    public String work;

    @Param({"1"})
    public int nodes;

    /**
     * {@code none}; on tcp also {@code secret} (the authenticated hello: nothing changes after it),
     * {@code tls} (mutual TLS) or {@code secret+tls}. docs/benchmarks.md, "TLS and the authenticated hello".
     */
    @Param({"none"})
    public String security = VerbsWorkload.NONE;

    private VerbsWorkload workload;
    private boolean future;
    private int next;

    @Setup(Level.Trial)
    public void start()
    {
        if (!LISTENER.equals(api) && !FUTURE.equals(api))
        {
            throw new IllegalArgumentException("api must be '" + LISTENER + "' or '" + FUTURE + "', got '" + api + "'");
        }
        future = FUTURE.equals(api);
        workload = VerbsWorkload.start(transport, nodes, op, bytes, batch, work, depth, security);
        next = 0;
        for (int k = 0; k < depth; k++)
        {
            workload.post(workload.lane(k), future);
        }
    }

    @TearDown(Level.Trial)
    public void stop()
    {
        if (workload != null)
        {
            workload.close();
            workload = null;
        }
    }

    /** Completes the oldest batch in flight and posts it again. */
    @Benchmark
    public long completeOldest(final VerbRate rate)
    {
        final VerbsWorkload.Lane lane = workload.lane(next);
        next = next + 1 == depth ? 0 : next + 1;
        final long sink = workload.await(lane);
        workload.post(lane, future);
        rate.verbs += batch;
        return sink;
    }

    VerbsWorkload workload()
    {
        return workload;
    }
}
