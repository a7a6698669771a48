package io.dmkv.rdma.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/** The leak check sees a real leak, so a quiet run means none happened. */
class NettyLeakCheckTest
{
    @Test
    void aBufferNeverReleasedIsReportedWithWhereItWasTouched() throws Exception
    {
        NettyLeakCheck.install();
        NettyLeakCheck.takeLeaks();
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        leakOne();
        final List<String> leaks = NettyLeakCheck.takeLeaks();
        assertEquals(1, leaks.size(), String.join("\n", leaks));
        assertTrue(leaks.get(0).contains("LEAK of ByteBuf") && leaks.get(0).contains("leakOne"), leaks.get(0));
        assertEquals(List.of(), NettyLeakCheck.takeLeaks(), "a leak is reported once");
    }

    private static void leakOne()
    {
        final ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(64);
        b.writeLong(42);
        b.touch("leakOne");
    }
}
