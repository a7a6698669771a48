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
 * Blocking round trips of one batch of verbs through {@link io.dmkv.rdma.VerbsClient#execute},
 * against the raw baseline on the same path: {@code work=echo} builds and posts the very same
 * batch with {@code echo(true)}, so on {@code tcp} the same frame bytes cross loopback and come
 * back untouched (no verb runs, no result is decoded) and on {@code local} the post completes at
 * once. verbs/echo is then the cost of the verb work over the bare framed round trip.
 *
 * <p>The primary score is batches (round trips) per second; {@code roundTrip:verbs} is verbs per
 * second (batches × {@code batch}). One embedded cluster per trial, in the benchmark's JVM.
 * {@code nodes=2} spreads each batch over two memory nodes (one frame per node). See
 * docs/benchmarks.md for the command and the numbers. Not final: JMH subclasses state classes.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
public class VerbsBenchmark
{
    @Param({"local", "tcp"})
    public String transport;

    @Param({"READ", "WRITE", "CAS", "FAA"})
    public VerbOp op;

    /** Payload of a READ or WRITE (and the spacing of the verbs in memory). */
    @Param({"64"})
    public int bytes;

    /** Verbs per batch (doorbell batch, one round trip). */
    @Param({"1", "8", "32"})
    public int batch;

    /**
     * {@code verbs}: run them; {@code echo}: the raw baseline. Named to sort last: JMH varies the
     * alphabetically last parameter fastest, so each run sits right next to its baseline in time.
     */
    @Param({"verbs", "echo"})
    public String work;

    /** Memory nodes a batch is spread over, round-robin. */
    @Param({"1"})
    public int nodes;

    /**
     * {@code none}; on tcp also {@code secret} (the authenticated hello: nothing changes after it),
     * {@code tls} (mutual TLS) or {@code secret+tls}. docs/benchmarks.md, "TLS and the authenticated hello".
     */
    @Param({"none"})
    public String security = VerbsWorkload.NONE;

    private VerbsWorkload workload;
    private VerbsWorkload.Lane lane;

    @Setup(Level.Trial)
    public void start()
    {
        workload = VerbsWorkload.start(transport, nodes, op, bytes, batch, work, 1, security);
        lane = workload.lane(0);
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

    /** Builds the batch, posts it, waits for it: one round trip. */
    @Benchmark
    public long roundTrip(final VerbRate rate)
    {
        rate.verbs += batch;
        return workload.execute(lane);
    }

    VerbsWorkload workload()
    {
        return workload;
    }
}
