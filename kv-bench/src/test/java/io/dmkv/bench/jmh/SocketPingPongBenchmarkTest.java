package io.dmkv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SocketPingPongBenchmarkTest
{
    @Test
    void everyRoundTripBringsTheMessageBackWhole() throws Exception
    {
        final SocketPingPongBenchmark bench = new SocketPingPongBenchmark();
        bench.bytes = 93;
        bench.start();
        try
        {
            byte[] first = null;
            for (int i = 0; i < 100; i++)
            {
                final byte[] answer = bench.roundTrip();
                assertEquals(93, answer.length);
                assertEquals((byte)7, answer[0]);
                assertEquals((byte)(92 * 31 + 7), answer[92]);
                if (first == null)
                {
                    first = answer.clone();
                }
                assertArrayEquals(first, answer);
            }
        }
        finally
        {
            bench.stop();
        }
    }
}
