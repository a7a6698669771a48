package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_END;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_REMOTE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_SWAP_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.OPCODE_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.RDMA_END;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.RDMA_REMOTE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.RDMA_RKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SEND_FLAGS_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_LENGTH_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_LKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_SIZE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.WR_ID_OFFSET;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes the fields of serialised {@code struct ibv_send_wr} and {@code struct ibv_sge} values in
 * place, at the offsets of {@link IbvSendWrDescriptor}. Plain functions over a little-endian
 * {@link ByteBuffer} (absolute puts, position untouched), so they are tested without libdisni and
 * work on DiSNI's native work-request buffer as on any other.
 *
 * <p>DiSNI 2.1 never serialises {@code wr.atomic}; {@link #writeAtomic} is how dmkv's CAS and FAA
 * reach the NIC. Each function writes exactly the bytes of the fields it names and nothing else:
 * {@code next}, {@code sg_list}, {@code num_sge} and {@code imm_data} stay as DiSNI wrote them.
 */
public final class SendWrEncoder
{
    private SendWrEncoder()
    {
    }

    /** Writes {@code wr_id}, {@code opcode} and {@code send_flags} of the request at {@code wrOffset}. */
    public static void writeHeader(final ByteBuffer wrs, final int wrOffset, final long wrId, final int opcode,
        final int sendFlags)
    {
        check(wrs, wrOffset, SEND_FLAGS_OFFSET + 4);
        wrs.putLong(wrOffset + WR_ID_OFFSET, wrId);
        wrs.putInt(wrOffset + OPCODE_OFFSET, opcode);
        wrs.putInt(wrOffset + SEND_FLAGS_OFFSET, sendFlags);
    }

    /** Writes {@code wr.rdma.remote_addr} and {@code wr.rdma.rkey} (READ and WRITE). */
    public static void writeRdma(final ByteBuffer wrs, final int wrOffset, final long remoteAddress, final int rkey)
    {
        check(wrs, wrOffset, RDMA_END);
        wrs.putLong(wrOffset + RDMA_REMOTE_ADDR_OFFSET, remoteAddress);
        wrs.putInt(wrOffset + RDMA_RKEY_OFFSET, rkey);
    }

    /**
     * Writes {@code wr.atomic}: remote_addr, compare_add, swap and rkey. For a CAS
     * {@code compareAdd} is the expected value and {@code swap} the new one; for a FAA
     * {@code compareAdd} is the delta and {@code swap} is ignored by the NIC.
     */
    public static void writeAtomic(final ByteBuffer wrs, final int wrOffset, final long remoteAddress,
        final long compareAdd, final long swap, final int rkey)
    {
        check(wrs, wrOffset, ATOMIC_END);
        wrs.putLong(wrOffset + ATOMIC_REMOTE_ADDR_OFFSET, remoteAddress);
        wrs.putLong(wrOffset + ATOMIC_COMPARE_ADD_OFFSET, compareAdd);
        wrs.putLong(wrOffset + ATOMIC_SWAP_OFFSET, swap);
        wrs.putInt(wrOffset + ATOMIC_RKEY_OFFSET, rkey);
    }

    /** Writes the {@code struct ibv_sge} at {@code sgeOffset}: the local buffer of the request. */
    public static void writeSge(final ByteBuffer wrs, final int sgeOffset, final long address, final int length,
        final int lkey)
    {
        check(wrs, sgeOffset, SGE_SIZE);
        wrs.putLong(sgeOffset + SGE_ADDR_OFFSET, address);
        wrs.putInt(sgeOffset + SGE_LENGTH_OFFSET, length);
        wrs.putInt(sgeOffset + SGE_LKEY_OFFSET, lkey);
    }

    private static void check(final ByteBuffer wrs, final int offset, final int length)
    {
        // The C structs are host order; dmkv only runs where that is little-endian (RdmaSupport).
        if (wrs.order() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new IllegalArgumentException("work request buffers must be little-endian, got " + wrs.order());
        }
        // Checked up front so a bad offset never leaves a half-written request behind.
        if (offset < 0 || offset > wrs.limit() - length)
        {
            throw new IndexOutOfBoundsException("work request fields [" + offset + ", +" + length
                + ") outside a buffer with limit " + wrs.limit());
        }
    }
}
