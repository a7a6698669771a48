package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.memnode.EmbeddedCluster;

/** {@link KvStore#get(byte[], ByteBuffer)}: the value goes into the caller's buffer. */
@Timeout(120)
class GetIntoBufferTest
{
    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(final int length, final int seed)
    {
        final byte[] v = new byte[length];
        for (int i = 0; i < length; i++)
        {
            v[i] = (byte)(i * 13 + seed);
        }
        return v;
    }

    private static byte[] between(final ByteBuffer buffer, final int from, final int to)
    {
        final byte[] out = new byte[to - from];
        buffer.duplicate().position(from).get(out);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"local", "tcp"})
    void theValueLandsAtThePositionWhichMovesPastIt(final String transport)
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, transport);
            KvStore kv = KvStore.open(KvStoreTest.small(cluster, 2).build()))
        {
            final byte[] big = value(1500, 3);
            kv.put(b("big"), big);
            kv.put(b("small"), b("xyz"));
            for (final ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocate(4096), ByteBuffer.allocateDirect(4096)})
            {
                dst.position(10);
                assertEquals(1500, kv.get(b("big"), dst));
                assertEquals(1510, dst.position());
                assertArrayEquals(big, between(dst, 10, 1510));
                assertEquals(3, kv.get(b("small"), dst), "a second value follows the first");
                assertArrayEquals(b("xyz"), between(dst, 1510, 1513));
                assertEquals(-1, kv.get(b("absent"), dst));
                assertEquals(1513, dst.position(), "an absent key moves nothing");
            }
            kv.put(b("big"), value(1500, 9));
            final ByteBuffer again = ByteBuffer.allocate(1500);
            assertEquals(1500, kv.get(b("big"), again));
            assertArrayEquals(value(1500, 9), again.array(), "a new value, not the cached old one");
        }
    }

    @Test
    void aValueLongerThanTheRoomLeftIsNotCopiedAndItsLengthIsReturned()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 32L << 20, 8L << 20, "local");
            KvStore kv = KvStore.open(KvStoreTest.small(cluster, 1).build()))
        {
            kv.put(b("k"), value(700, 1));
            final ByteBuffer dst = ByteBuffer.allocate(800);
            dst.position(200);
            assertEquals(700, kv.get(b("k"), dst));
            assertEquals(200, dst.position());
            final byte[] untouched = new byte[800];
            assertArrayEquals(untouched, dst.array(), "nothing was written");
            final ByteBuffer exact = ByteBuffer.allocate(700);
            assertEquals(700, kv.get(b("k"), exact));
            assertArrayEquals(value(700, 1), Arrays.copyOf(exact.array(), 700));
            assertThrows(IllegalArgumentException.class, () -> kv.get(b("k"), ByteBuffer.allocate(10).asReadOnlyBuffer()));
            assertThrows(NullPointerException.class, () -> kv.get(b("k"), null));
        }
    }
}
