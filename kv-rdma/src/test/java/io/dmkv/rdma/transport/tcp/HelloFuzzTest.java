package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.fuzz.FuzzRotation;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The body of a HELLO as a memory node decodes and checks it: a truncated body is an
 * {@link IndexOutOfBoundsException} (the handler's "truncated frame"), a nonce longer than a
 * hello field may be an {@link IllegalArgumentException} saying so, anything else is accepted
 * only with the right magic, protocol and layout, and refused with a message otherwise.
 */
@ExtendWith(FuzzRotation.class)
class HelloFuzzTest
{
    private static MemoryNodeService service;

    @BeforeAll
    static void start()
    {
        service = new MemoryNodeService("fuzz", RegionTable.empty(), ProtocolVersion.DEFAULT_LAYOUT);
    }

    @AfterAll
    static void stop()
    {
        service.close();
    }

    @FuzzTest
    void hello(final byte[] body)
    {
        final ByteBuf in = Unpooled.wrappedBuffer(body);
        final TcpFrames.Hello hello;
        try
        {
            hello = TcpFrames.decodeHello(in);
        }
        catch (final IndexOutOfBoundsException truncated)
        {
            return;
        }
        catch (final IllegalArgumentException tooLong)
        {
            assertTrue(tooLong.getMessage().startsWith("a hello field of "), tooLong.getMessage());
            return;
        }
        final String refused = service.checkHello(hello.magic(), hello.protocol(), hello.layout());
        final boolean right = hello.magic() == ProtocolVersion.MAGIC && hello.protocol() == ProtocolVersion.PROTOCOL
            && hello.layout() == ProtocolVersion.DEFAULT_LAYOUT;
        assertEquals(right, refused == null, "accepted or refused wrongly: " + refused);
    }
}
