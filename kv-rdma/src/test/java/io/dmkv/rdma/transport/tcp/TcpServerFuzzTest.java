package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.fuzz.FuzzRotation;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * A hostile client's bytes against a memory node's tcp frame decoder and handler (in memory, the
 * node's own pipeline). The node either answers with well-formed frames and stays open, or sends
 * an ERROR (or HELLO_REFUSED) frame saying why and closes: never closes without a reason (an
 * unexpected exception), never throws out of the pipeline, and leaks no buffer (the module's
 * paranoid leak check).
 *
 * <p>Input: {@code flags:u8} (bit 0: a valid HELLO goes first) then the byte stream, delivered in
 * chunks of {@code 1 + (flags >> 1)} bytes (0: whole).
 */
@ExtendWith(FuzzRotation.class)
class TcpServerFuzzTest
{
    private static final int MAX_FRAME = 64 << 10;
    /** The regions' key, fixed so that a corpus reaches the verbs in every run (keys are random). */
    static final long KEY = 0x1122_3344_5566_7788L;
    private static MemoryNodeService service;
    private static TcpVerbsServer server;

    @BeforeAll
    static void start() throws ReflectiveOperationException
    {
        service = new MemoryNodeService("fuzz", RegionTable.allocate(128 << 10, 64 << 10), ProtocolVersion.DEFAULT_LAYOUT);
        server = TcpVerbsServer.start(service, "127.0.0.1", 0, MAX_FRAME, 1);
        final Field key = MemoryRegion.class.getDeclaredField("key");
        key.setAccessible(true);
        for (final MemoryRegion r : service.regions().regions())
        {
            key.setLong(r, KEY);
        }
    }

    @AfterAll
    static void stop()
    {
        server.close();
        service.close();
    }

    @FuzzTest
    void frames(final byte[] input)
    {
        final EmbeddedChannel ch = new EmbeddedChannel(
            new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, TcpFrames.LENGTH_FIELD, 0, TcpFrames.LENGTH_FIELD),
            new TcpServerHandler(server));
        final List<ByteBuf> answers = new ArrayList<>();
        try
        {
            final int flags = input.length == 0 ? 0 : input[0] & 0xFF;
            if ((flags & 1) != 0)
            {
                final ByteBuf hello = Unpooled.buffer();
                TcpFrames.encodeHello(hello, ProtocolVersion.DEFAULT_LAYOUT, new byte[0]);
                ch.writeInbound(hello);
            }
            final int chunk = (flags >> 1) == 0 ? input.length : 1 + (flags >> 1);
            for (int at = 1; at < input.length && ch.isOpen(); at += chunk)
            {
                ch.writeInbound(Unpooled.wrappedBuffer(input, at, Math.min(chunk, input.length - at)));
                ch.runPendingTasks();
                drain(ch, answers);
            }
            ch.runPendingTasks();
            drain(ch, answers);
            if (!ch.isOpen())
            {
                assertTrue(!answers.isEmpty(), "the node closed the connection without a word");
                final ByteBuf last = answers.get(answers.size() - 1);
                final byte type = last.getByte(TcpFrames.LENGTH_FIELD);
                assertTrue(type == TcpFrames.ERROR || type == TcpFrames.HELLO_REFUSED,
                    "the node closed the connection after frame type " + type + " instead of saying why");
            }
            for (final ByteBuf a : answers)
            {
                checkFrames(a);
            }
            ch.checkException();
        }
        finally
        {
            answers.forEach(ByteBuf::release);
            ch.finishAndReleaseAll();
        }
    }

    private static void drain(final EmbeddedChannel ch, final List<ByteBuf> answers)
    {
        ByteBuf out;
        while ((out = ch.readOutbound()) != null)
        {
            answers.add(out);
        }
    }

    /** Every answer is a sequence of whole frames whose length fields add up. */
    private static void checkFrames(final ByteBuf b)
    {
        int at = b.readerIndex();
        while (at < b.writerIndex())
        {
            final int length = b.getInt(at);
            if (length < 1 || at + TcpFrames.LENGTH_FIELD + length > b.writerIndex())
            {
                fail("malformed answer frame of length " + length + " at " + at + " of " + b.writerIndex());
            }
            at += TcpFrames.LENGTH_FIELD + length;
        }
        assertEquals(b.writerIndex(), at);
    }
}
