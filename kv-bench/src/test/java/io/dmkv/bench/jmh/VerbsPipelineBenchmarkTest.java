package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs {@link VerbsPipelineBenchmark#completeOldest} for three turns of its ring of batches
 * (untimed) and checks that every batch ran once per post, in order, through either API.
 */
class VerbsPipelineBenchmarkTest
{
    private static final int BYTES = 64;
    private static final int BATCH = 8;
    private static final int TURNS = 3;

    static Stream<Arguments> cases()
    {
        final List<Arguments> cases = new ArrayList<>();
        for (final String transport : new String[] {"local", "tcp"})
        {
            for (final String api : new String[] {VerbsPipelineBenchmark.LISTENER, VerbsPipelineBenchmark.FUTURE})
            {
                for (final int depth : new int[] {1, 16})
                {
                    for (final VerbOp op : VerbOp.values())
                    {
                        cases.add(Arguments.of(transport, api, depth, op, 1));
                    }
                }
            }
            cases.add(Arguments.of(transport, VerbsPipelineBenchmark.LISTENER, 16, VerbOp.FAA, 2));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} depth={2} {3} nodes={4}")
    @MethodSource("cases")
    void everyPostedBatchRunsOnceAndInOrder(final String transport, final String api, final int depth, final VerbOp op,
        final int nodes)
    {
        final VerbsPipelineBenchmark bench = new VerbsPipelineBenchmark();
        bench.transport = transport;
        bench.api = api;
        bench.depth = depth;
        bench.op = op;
        bench.bytes = BYTES;
        bench.batch = BATCH;
        bench.work = VerbsWorkload.VERBS;
        bench.nodes = nodes;
        bench.start();
        try
        {
            final VerbsWorkload w = bench.workload();
            final VerbRate rate = new VerbRate();
            final long[] sinks = new long[TURNS * depth];
            for (int c = 0; c < sinks.length; c++)
            {
                sinks[c] = bench.completeOldest(rate);
            }
            w.drain();

            final int postsPerLane = TURNS + 1;
            assertEquals((long)TURNS * depth * BATCH, rate.verbs, "verbs counted for JMH");
            assertEquals((long)postsPerLane * depth * BATCH, w.verbsExecuted(), "verbs the channels executed");
            for (int k = 0; k < depth; k++)
            {
                final VerbsWorkload.Lane lane = w.lane(k);
                for (int i = 0; i < BATCH; i++)
                {
                    switch (op)
                    {
                        case READ:
                            for (int j = 0; j < BYTES; j++)
                            {
                                assertEquals(VerbsWorkload.pattern(w.offset(lane, i) + j),
                                    lane.local.getByte(i * BYTES + j), "lane " + k + " READ " + i + " byte " + j);
                            }
                            break;
                        case WRITE:
                            assertArrayEquals(VerbsBenchmarkTest.localBytes(lane, i),
                                w.readRemote(w.node(i), w.offset(lane, i), BYTES), "lane " + k + " WRITE " + i);
                            break;
                        default:
                            assertEquals(postsPerLane, VerbsBenchmarkTest.remoteLong(w, lane, i),
                                "lane " + k + " " + op + " " + i + " after " + postsPerLane + " posts");
                            break;
                    }
                }
            }
            if (op == VerbOp.FAA || op == VerbOp.CAS)
            {
                for (int c = 0; c < sinks.length; c++)
                {
                    assertEquals(c / depth, sinks[c], "old value seen by completion " + c);
                }
            }
        }
        finally
        {
            bench.stop();
        }
    }
}
