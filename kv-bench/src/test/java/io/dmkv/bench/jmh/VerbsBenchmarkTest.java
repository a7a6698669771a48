package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs {@link VerbsBenchmark#roundTrip} twice (untimed) for every transport, verb and batch size,
 * on both paths, and checks what it did: the benchmark must measure the verbs it claims to.
 */
class VerbsBenchmarkTest
{
    private static final int BYTES = 64;

    static Stream<Arguments> cases()
    {
        final List<Arguments> cases = new ArrayList<>();
        for (final String transport : new String[] {"local", "tcp"})
        {
            for (final VerbOp op : VerbOp.values())
            {
                for (final int batch : new int[] {1, 8, 32})
                {
                    cases.add(Arguments.of(transport, op, batch, 1, VerbsWorkload.NONE));
                }
                cases.add(Arguments.of(transport, op, 8, 2, VerbsWorkload.NONE));
            }
        }
        for (final String security : new String[] {VerbsWorkload.SECRET, VerbsWorkload.TLS, VerbsWorkload.SECRET_TLS})
        {
            cases.add(Arguments.of("tcp", VerbOp.READ, 8, 1, security));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} batch={2} nodes={3} security={4}")
    @MethodSource("cases")
    void roundTripRunsEveryVerbOfItsBatch(final String transport, final VerbOp op, final int batch, final int nodes,
        final String security)
    {
        final VerbsBenchmark bench = started(transport, op, batch, nodes, VerbsWorkload.VERBS, security);
        try
        {
            final VerbsWorkload w = bench.workload();
            final VerbsWorkload.Lane lane = w.lane(0);
            final long executedBefore = w.verbsExecuted();
            final VerbRate rate = new VerbRate();
            final long first = bench.roundTrip(rate);
            final long second = bench.roundTrip(rate);

            assertEquals(2L * batch, rate.verbs, "verbs counted for JMH");
            assertEquals(2L * batch, w.verbsExecuted() - executedBefore, "verbs the channels executed");
            switch (op)
            {
                case READ:
                    for (int i = 0; i < batch; i++)
                    {
                        for (int j = 0; j < BYTES; j++)
                        {
                            assertEquals(VerbsWorkload.pattern(w.offset(lane, i) + j), lane.local.getByte(i * BYTES + j),
                                "byte " + j + " of READ " + i);
                        }
                    }
                    assertEquals(lane.local.getLong(0), second);
                    break;
                case WRITE:
                    for (int i = 0; i < batch; i++)
                    {
                        assertArrayEquals(localBytes(lane, i), w.readRemote(w.node(i), w.offset(lane, i), BYTES),
                            "memory after WRITE " + i);
                    }
                    break;
                default:
                    assertEquals(0, first, "old value returned by the first " + op);
                    assertEquals(1, second, "old value returned by the second " + op);
                    for (int i = 0; i < batch; i++)
                    {
                        assertEquals(1, lane.batch.result(i), "old value of " + op + " " + i + " the second time");
                        assertEquals(2, remoteLong(w, lane, i), "word of " + op + " " + i + " after two round trips");
                    }
                    break;
            }
        }
        finally
        {
            bench.stop();
        }
    }

    @ParameterizedTest(name = "{0} {1} batch={2} nodes={3} security={4}")
    @MethodSource("cases")
    void echoRoundTripRunsNoVerb(final String transport, final VerbOp op, final int batch, final int nodes,
        final String security)
    {
        final VerbsBenchmark bench = started(transport, op, batch, nodes, VerbsWorkload.ECHO, security);
        try
        {
            final VerbsWorkload w = bench.workload();
            final VerbsWorkload.Lane lane = w.lane(0);
            final long executedBefore = w.verbsExecuted();
            final VerbRate rate = new VerbRate();
            final long first = bench.roundTrip(rate);
            final long second = bench.roundTrip(rate);

            assertEquals(2L * batch, rate.verbs, "verbs counted for JMH");
            assertEquals(0, w.verbsExecuted() - executedBefore, "verbs the channels executed");
            for (int i = 0; i < batch; i++)
            {
                final byte[] remote = w.readRemote(w.node(i), w.offset(lane, i), BYTES);
                switch (op)
                {
                    case READ:
                        assertArrayEquals(new byte[BYTES], localBytes(lane, i), "READ destination " + i + " untouched");
                        break;
                    case WRITE:
                        assertArrayEquals(new byte[BYTES], remote, "memory under WRITE " + i + " untouched");
                        break;
                    default:
                        assertEquals(0, first);
                        assertEquals(0, second);
                        assertEquals(0, remoteLong(w, lane, i), "word of " + op + " " + i + " untouched");
                        break;
                }
            }
        }
        finally
        {
            bench.stop();
        }
    }

    private static VerbsBenchmark started(final String transport, final VerbOp op, final int batch, final int nodes,
        final String mode, final String security)
    {
        final VerbsBenchmark bench = new VerbsBenchmark();
        bench.transport = transport;
        bench.op = op;
        bench.bytes = BYTES;
        bench.batch = batch;
        bench.work = mode;
        bench.nodes = nodes;
        bench.security = security;
        bench.start();
        return bench;
    }

    static byte[] localBytes(final VerbsWorkload.Lane lane, final int i)
    {
        final byte[] b = new byte[BYTES];
        lane.local.getBytes(i * BYTES, b);
        return b;
    }

    static long remoteLong(final VerbsWorkload w, final VerbsWorkload.Lane lane, final int i)
    {
        return new UnsafeBuffer(w.readRemote(w.node(i), w.offset(lane, i), 8)).getLong(0);
    }
}
