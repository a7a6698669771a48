package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import com.ibm.disni.util.MemoryAllocation;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatPostSendCall;

/**
 * dmkv's view of DiSNI 2.1's serialised work requests, checked on DiSNI's own serialisation:
 * {@code NatPostSendCall}'s constructor is plain Java (no libdisni), so the real buffer the
 * NIC would be handed can be built and inspected here. Only {@code execute()} needs the library.
 */
final class DisniWorkRequestsTest
{
    private static final long STAGING = 0x7F00_1234_5000L;
    private static final int LKEY = 0x1D;

    @Test
    void disnisSerialisedChainHasTheLayoutDmkvChecksAndWritesInto() throws IOException
    {
        for (final int n : new int[] {1, 2, 32})
        {
            final DisniWorkRequests list = DisniWorkRequests.of(serialise(n), n, STAGING, LKEY);
            assertEquals(n, list.size());
            for (int i = 0; i < n; i++)
            {
                assertEquals(i * IbvSendWrDescriptor.DISNI_WR_STRIDE, list.wrOffset(i), "request " + i + " of " + n);
                assertEquals(n * IbvSendWrDescriptor.DISNI_WR_STRIDE + i * IbvSendWrDescriptor.SGE_SIZE,
                    list.sgeOffset(i), "sge " + i + " of " + n);
            }
        }
    }

    @Test
    void dmkvsViewIsDisnisNativeBufferNotACopy() throws IOException
    {
        final SVCPostSend call = serialise(2);
        final DisniWorkRequests list = DisniWorkRequests.of(call, 2, STAGING, LKEY);
        // DiSNI's own setter writes into its buffer; dmkv must see it at verbs.h's offset.
        call.getWrMod(1).getRdmaMod().setRemote_addr(0x0123_4567_89AB_CDEFL);
        assertEquals(0x0123_4567_89AB_CDEFL, list.buffer().getLong(list.wrOffset(1)
            + IbvSendWrDescriptor.RDMA_REMOTE_ADDR_OFFSET));
        call.getWrMod(0).getSgeMod(0).setLength(4096);
        assertEquals(4096, list.buffer().getInt(list.sgeOffset(0) + IbvSendWrDescriptor.SGE_LENGTH_OFFSET));
    }

    @Test
    void encodingACasIntoDisnisBufferKeepsTheChainIntact() throws IOException
    {
        final DisniWorkRequests list = DisniWorkRequests.of(serialise(2), 2, STAGING, LKEY);
        final ByteBuffer wrs = list.buffer();
        final int wr = list.wrOffset(1);
        final long next0 = wrs.getLong(list.wrOffset(0) + IbvSendWrDescriptor.NEXT_OFFSET);
        final long sgList1 = wrs.getLong(wr + IbvSendWrDescriptor.SG_LIST_OFFSET);

        SendWrEncoder.writeHeader(wrs, wr, 99, IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP,
            IbvSendWrDescriptor.IBV_SEND_SIGNALED);
        SendWrEncoder.writeAtomic(wrs, wr, 0x7000_0000_0040L, 5, 9, 0x4B01);
        SendWrEncoder.writeSge(wrs, list.sgeOffset(1), STAGING + 64, 8, LKEY);

        assertEquals(99, wrs.getLong(wr + IbvSendWrDescriptor.WR_ID_OFFSET));
        assertEquals(IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP, wrs.getInt(wr + IbvSendWrDescriptor.OPCODE_OFFSET));
        assertEquals(5, wrs.getLong(wr + IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET));
        assertEquals(9, wrs.getLong(wr + IbvSendWrDescriptor.ATOMIC_SWAP_OFFSET));
        assertEquals(0x4B01, wrs.getInt(wr + IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET));
        assertEquals(next0, wrs.getLong(list.wrOffset(0) + IbvSendWrDescriptor.NEXT_OFFSET));
        assertEquals(sgList1, wrs.getLong(wr + IbvSendWrDescriptor.SG_LIST_OFFSET));
        assertEquals(1, wrs.getInt(wr + IbvSendWrDescriptor.NUM_SGE_OFFSET));
        assertEquals(0L, wrs.getLong(wr + IbvSendWrDescriptor.NEXT_OFFSET), "the last request still ends the chain");
        assertEquals(STAGING, wrs.getLong(list.sgeOffset(0)), "the other request's sge is untouched");
    }

    @Test
    void aPostSendCallThatIsNotDisnis21IsRefusedAsUnsupported()
    {
        final SVCPostSend foreign = new SVCPostSend()
        {
            @Override
            public SendWRMod getWrMod(final int index)
            {
                throw new AssertionError("not reached");
            }

            @Override
            public SVCPostSend execute()
            {
                throw new AssertionError("not reached");
            }

            @Override
            public boolean isValid()
            {
                return true;
            }

            @Override
            public SVCPostSend free()
            {
                return this;
            }
        };
        final IOException e = assertThrows(IOException.class, () -> DisniWorkRequests.of(foreign, 1, STAGING, LKEY));
        assertTrue(e.getMessage().contains("unsupported DiSNI build"), e.getMessage());
        assertTrue(e.getMessage().contains(RdmaSupport.DOCS), e.getMessage());
    }

    @Test
    void aChainBuiltForOtherStagingIsRefused()
    {
        final IOException e = assertThrows(IOException.class,
            () -> DisniWorkRequests.of(serialise(2), 2, STAGING + 8, LKEY));
        assertTrue(e.getMessage().contains("sge 0"), e.getMessage());
    }

    /** What {@code RdmaEndpoint.postSend} does, minus the queue pair: DiSNI serialises the list. */
    private static SVCPostSend serialise(final int n)
    {
        return new NatPostSendCall(null, null, MemoryAllocation.getInstance(), null,
            DisniWorkRequests.templates(n, STAGING, LKEY));
    }
}
