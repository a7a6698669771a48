package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import com.ibm.disni.verbs.impl.NatIbvSendWR;
import com.ibm.disni.verbs.impl.NatIbvSge;

/**
 * The encoder writes exactly the bytes of the fields it names, little-endian, at the offsets of
 * {@code struct ibv_send_wr} (proved against verbs.h by {@link IbvLayoutNativeTest}), relative to
 * the request's base offset, and touches nothing else.
 */
final class SendWrEncoderTest
{
    private static final byte FILL = (byte)0xA5;
    private static final int BASE = IbvSendWrDescriptor.DISNI_WR_STRIDE;
    private static final int SIZE = 3 * IbvSendWrDescriptor.DISNI_WR_STRIDE + 2 * IbvSendWrDescriptor.SGE_SIZE;

    @Test
    void writeAtomicPutsRemoteAddrCompareAddSwapAndRkeyAtTheAtomicUnionOffsets()
    {
        final ByteBuffer buf = filled();
        final byte[] before = bytes(buf);

        SendWrEncoder.writeAtomic(buf, BASE, 0x1122334455667788L, 0x0102030405060708L, 0xF1F2F3F4F5F6F7F8L, 0xCAFEBABE);

        final byte[] after = bytes(buf);
        assertArrayEquals(le(0x1122334455667788L), slice(after, BASE + 40, 8), "wr.atomic.remote_addr at +40");
        assertArrayEquals(le(0x0102030405060708L), slice(after, BASE + 48, 8), "wr.atomic.compare_add at +48");
        assertArrayEquals(le(0xF1F2F3F4F5F6F7F8L), slice(after, BASE + 56, 8), "wr.atomic.swap at +56");
        assertArrayEquals(new byte[] {(byte)0xBE, (byte)0xBA, (byte)0xFE, (byte)0xCA}, slice(after, BASE + 64, 4),
            "wr.atomic.rkey at +64");
        assertUntouchedOutside(before, after, BASE + 40, BASE + 68);
    }

    @Test
    void writeAtomicForFaaCarriesTheDeltaInCompareAdd()
    {
        final ByteBuffer buf = filled();
        SendWrEncoder.writeAtomic(buf, 0, 0x7000_0000_1000L, -3L, 0L, 42);

        assertEquals(0x7000_0000_1000L, buf.getLong(40));
        assertEquals(-3L, buf.getLong(48));
        assertEquals(0L, buf.getLong(56));
        assertEquals(42, buf.getInt(64));
    }

    @Test
    void writeRdmaPutsRemoteAddrAndRkeyAndLeavesThePaddingAndTheAtomicTail()
    {
        final ByteBuffer buf = filled();
        final byte[] before = bytes(buf);

        SendWrEncoder.writeRdma(buf, BASE, 0x0000_7F12_3456_7800L, 0x01020304);

        final byte[] after = bytes(buf);
        assertArrayEquals(le(0x0000_7F12_3456_7800L), slice(after, BASE + 40, 8), "wr.rdma.remote_addr at +40");
        assertArrayEquals(new byte[] {4, 3, 2, 1}, slice(after, BASE + 48, 4), "wr.rdma.rkey at +48");
        assertUntouchedOutside(before, after, BASE + 40, BASE + 52);
    }

    @Test
    void writeHeaderPutsWrIdOpcodeAndFlagsButNotNextSgListNumSgeOrImmData()
    {
        final ByteBuffer buf = filled();
        final byte[] before = bytes(buf);

        SendWrEncoder.writeHeader(buf, BASE, 0x8000_0000_0000_0001L, IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP,
            IbvSendWrDescriptor.IBV_SEND_SIGNALED);

        final byte[] after = bytes(buf);
        assertArrayEquals(le(0x8000_0000_0000_0001L), slice(after, BASE, 8), "wr_id at +0");
        assertArrayEquals(new byte[] {5, 0, 0, 0}, slice(after, BASE + 28, 4), "opcode at +28");
        assertArrayEquals(new byte[] {2, 0, 0, 0}, slice(after, BASE + 32, 4), "send_flags at +32");
        final byte[] expected = before.clone();
        System.arraycopy(after, BASE, expected, BASE, 8);
        System.arraycopy(after, BASE + 28, expected, BASE + 28, 8);
        assertArrayEquals(expected, after, "only wr_id, opcode and send_flags may change");
    }

    @Test
    void writeSgePutsAddrLengthAndLkey()
    {
        final ByteBuffer buf = filled();
        final byte[] before = bytes(buf);
        final int sge = 3 * IbvSendWrDescriptor.DISNI_WR_STRIDE + IbvSendWrDescriptor.SGE_SIZE;

        SendWrEncoder.writeSge(buf, sge, 0x0000_7F00_DEAD_BEE8L, 4096, 0x0BADF00D);

        final byte[] after = bytes(buf);
        assertArrayEquals(le(0x0000_7F00_DEAD_BEE8L), slice(after, sge, 8), "sge.addr at +0");
        assertArrayEquals(new byte[] {0, 16, 0, 0}, slice(after, sge + 8, 4), "sge.length at +8");
        assertArrayEquals(new byte[] {0x0D, (byte)0xF0, (byte)0xAD, 0x0B}, slice(after, sge + 12, 4), "sge.lkey at +12");
        assertUntouchedOutside(before, after, sge, sge + 16);
    }

    @Test
    void theAtomicRkeyIsNotWhereDisniSerialisesTheRdmaRkey()
    {
        // DiSNI 2.1 writes only wr.rdma: its rkey lands in the first half of compare_add.
        assertEquals(IbvSendWrDescriptor.RDMA_REMOTE_ADDR_OFFSET, NatIbvSendWR.REMOTEADDR_OFFSET);
        assertEquals(IbvSendWrDescriptor.RDMA_RKEY_OFFSET, NatIbvSendWR.RKEY_OFFSET);
        assertEquals(IbvSendWrDescriptor.WR_ID_OFFSET, NatIbvSendWR.WRID_OFFSET);
        assertEquals(IbvSendWrDescriptor.SEND_FLAGS_OFFSET, NatIbvSendWR.SENDFLAGS_OFFSET);
        assertEquals(IbvSendWrDescriptor.DISNI_WR_STRIDE, NatIbvSendWR.CSIZE);
        assertEquals(IbvSendWrDescriptor.SGE_SIZE, NatIbvSge.CSIZE);
        assertEquals(NatIbvSendWR.RKEY_OFFSET, IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET);
        assertNotEquals(NatIbvSendWR.RKEY_OFFSET, IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET);

        final ByteBuffer buf = filled();
        SendWrEncoder.writeRdma(buf, 0, 0x1000, 0x77);
        SendWrEncoder.writeAtomic(buf, 0, 0x1000, 5, 9, 0x77);
        assertEquals(5, buf.getLong(IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET), "the atomic write replaces the "
            + "rdma rkey with the compare value");
        assertEquals(0x77, buf.getInt(IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET));
    }

    @Test
    void writesUseAbsoluteOffsetsAndLeavePositionAndLimitAlone()
    {
        final ByteBuffer buf = filled();
        buf.position(17).limit(SIZE - 3);
        SendWrEncoder.writeAtomic(buf, BASE, 1, 2, 3, 4);
        SendWrEncoder.writeHeader(buf, BASE, 5, 6, 7);
        assertEquals(17, buf.position());
        assertEquals(SIZE - 3, buf.limit());
        assertEquals(1, buf.getLong(BASE + 40));
    }

    @Test
    void aBigEndianBufferIsRefusedBeforeAnyByteIsWritten()
    {
        final ByteBuffer buf = filled().order(ByteOrder.BIG_ENDIAN);
        final byte[] before = bytes(buf);
        assertThrows(IllegalArgumentException.class, () -> SendWrEncoder.writeAtomic(buf, 0, 1, 2, 3, 4));
        assertArrayEquals(before, bytes(buf));
    }

    @Test
    void aRequestThatDoesNotFitIsRefusedBeforeAnyByteIsWritten()
    {
        final ByteBuffer buf = filled();
        final byte[] before = bytes(buf);
        // The atomic union of a request starting 60 bytes before the end would overrun by 8.
        assertThrows(IndexOutOfBoundsException.class, () -> SendWrEncoder.writeAtomic(buf, SIZE - 60, 1, 2, 3, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> SendWrEncoder.writeRdma(buf, -8, 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> SendWrEncoder.writeSge(buf, SIZE - 8, 1, 2, 3));
        assertArrayEquals(before, bytes(buf));
    }

    private static ByteBuffer filled()
    {
        final ByteBuffer buf = ByteBuffer.allocateDirect(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < SIZE; i++)
        {
            buf.put(i, FILL);
        }
        return buf;
    }

    private static byte[] bytes(final ByteBuffer buf)
    {
        final byte[] b = new byte[buf.capacity()];
        for (int i = 0; i < b.length; i++)
        {
            b[i] = buf.get(i);
        }
        return b;
    }

    private static byte[] slice(final byte[] b, final int from, final int length)
    {
        return Arrays.copyOfRange(b, from, from + length);
    }

    private static byte[] le(final long v)
    {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).array();
    }

    private static void assertUntouchedOutside(final byte[] before, final byte[] after, final int from, final int to)
    {
        for (int i = 0; i < before.length; i++)
        {
            if (i < from || i >= to)
            {
                assertEquals(before[i], after[i], "byte " + i + " outside [" + from + ", " + to + ") changed");
            }
        }
    }
}
