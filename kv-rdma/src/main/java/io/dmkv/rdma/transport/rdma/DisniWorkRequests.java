package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_END;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.NEXT_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.NUM_SGE_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_LKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_SIZE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SG_LIST_OFFSET;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;

import org.agrona.BufferUtil;

import com.ibm.disni.util.MemBuf;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import com.ibm.disni.verbs.impl.NatIbvSge;
import com.ibm.disni.verbs.impl.NatPostSendCall;

import io.dmkv.rdma.Verb;

/**
 * A {@link WorkRequestList} over one of DiSNI's stateful post-send calls.
 *
 * <p>DiSNI 2.1 serialises the list once, in {@code NatPostSendCall}'s constructor, into a
 * native buffer held in its private field {@code cmd}, and only offers setters for wr_id,
 * send_flags, the rdma union and the sge: no opcode setter and no atomic fields at all. dmkv
 * needs both, so it reaches the buffer by reflection (the jar is on the class path, in the
 * unnamed module: no JVM flag needed) and writes every field itself with {@link SendWrEncoder}.
 * Because the opcode is rewritten per post, one chain of n requests serves every mix of verbs.
 *
 * <p>Reflection into another library's internals is only safe if the layout is what we think,
 * so {@link #of} checks it against the serialised bytes before the list is ever posted: the
 * {@code next} and {@code sg_list} pointers, {@code num_sge}, the sge fields, and that the atomic
 * union of each request fits before the next one starts.
 */
final class DisniWorkRequests implements WorkRequestList
{
    private static final Field CMD = commandField();

    private final SVCPostSend call;
    private final ByteBuffer buffer;
    private final int[] wrOffsets;
    private final int[] sgeOffsets;

    private DisniWorkRequests(final SVCPostSend call, final ByteBuffer buffer, final int[] wrOffsets,
        final int[] sgeOffsets)
    {
        this.call = call;
        this.buffer = buffer;
        this.wrOffsets = wrOffsets;
        this.sgeOffsets = sgeOffsets;
    }

    /**
     * The requests dmkv has DiSNI serialise: {@code n} requests of one sge each, pointing at
     * {@code sgeAddress} with {@code lkey}. Their opcode, flags and targets are placeholders,
     * rewritten before every post.
     */
    static List<IbvSendWR> templates(final int n, final long sgeAddress, final int lkey)
    {
        final List<IbvSendWR> wrs = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
        {
            final IbvSge sge = new IbvSge();
            sge.setAddr(sgeAddress);
            sge.setLength(Verb.ATOMIC_SIZE);
            sge.setLkey(lkey);
            final LinkedList<IbvSge> sges = new LinkedList<>();
            sges.add(sge);
            final IbvSendWR wr = new IbvSendWR();
            wr.setSg_list(sges);
            wr.setNum_sge(1);
            wr.setOpcode(IbvSendWrDescriptor.IBV_WR_RDMA_READ);
            wr.setSend_flags(0);
            wrs.add(wr);
        }
        return wrs;
    }

    /**
     * Wraps {@code call}, which DiSNI built from {@code n} requests of one sge each pointing at
     * {@code sgeAddress} with {@code lkey}; throws {@link IOException} if its layout is not DiSNI 2.1's.
     */
    static DisniWorkRequests of(final SVCPostSend call, final int n, final long sgeAddress, final int lkey)
        throws IOException
    {
        if (CMD == null || !(call instanceof NatPostSendCall))
        {
            throw new IOException(unsupported("post-send call is " + call.getClass().getName()
                + ", without the private MemBuf cmd of NatPostSendCall"));
        }
        final ByteBuffer native0;
        try
        {
            native0 = ((MemBuf)CMD.get(call)).getBuffer();
        }
        catch (final IllegalAccessException | ClassCastException e)
        {
            throw new IOException(unsupported("cannot read NatPostSendCall.cmd: " + e), e);
        }
        if (!native0.isDirect())
        {
            throw new IOException(unsupported("the serialised work requests are not in native memory"));
        }
        // A private view: our order and bounds, never DiSNI's position.
        final ByteBuffer buffer = native0.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
        final long base = BufferUtil.address(buffer);

        final int[] wrOffsets = new int[n];
        final int[] sgeOffsets = new int[n];
        for (int i = 0; i < n; i++)
        {
            final SVCPostSend.SendWRMod mod = call.getWrMod(i);
            if (!(mod instanceof NatIbvSendWR) || !(mod.getSgeMod(0) instanceof NatIbvSge))
            {
                throw new IOException(unsupported("work request " + i + " is " + mod.getClass().getName()));
            }
            wrOffsets[i] = ((NatIbvSendWR)mod).getBufPosition();
            sgeOffsets[i] = ((NatIbvSge)mod.getSgeMod(0)).getBufPosition();
        }
        for (int i = 0; i < n; i++)
        {
            final int wr = wrOffsets[i];
            final int sge = sgeOffsets[i];
            final int end = i + 1 < n ? wrOffsets[i + 1] : sgeOffsets[0];
            check(wr >= 0 && wr + ATOMIC_END <= end, "request " + i + " at " + wr + " leaves no room for wr.atomic "
                + "before byte " + end);
            check(sge >= 0 && sge + SGE_SIZE <= buffer.limit(), "sge " + i + " at " + sge + " is outside the buffer");
            final long next = buffer.getLong(wr + NEXT_OFFSET);
            check(next == (i + 1 < n ? base + wrOffsets[i + 1] : 0), "request " + i + " links to 0x"
                + Long.toHexString(next));
            check(buffer.getLong(wr + SG_LIST_OFFSET) == base + sge, "request " + i + " has sg_list 0x"
                + Long.toHexString(buffer.getLong(wr + SG_LIST_OFFSET)));
            check(buffer.getInt(wr + NUM_SGE_OFFSET) == 1, "request " + i + " has num_sge "
                + buffer.getInt(wr + NUM_SGE_OFFSET));
            check(buffer.getLong(sge + SGE_ADDR_OFFSET) == sgeAddress && buffer.getInt(sge + SGE_LKEY_OFFSET) == lkey,
                "sge " + i + " does not hold the address and lkey it was built with");
        }
        return new DisniWorkRequests(call, buffer, wrOffsets, sgeOffsets);
    }

    @Override
    public int size()
    {
        return wrOffsets.length;
    }

    @Override
    public ByteBuffer buffer()
    {
        return buffer;
    }

    @Override
    public int wrOffset(final int i)
    {
        return wrOffsets[i];
    }

    @Override
    public int sgeOffset(final int i)
    {
        return sgeOffsets[i];
    }

    @Override
    public void post() throws IOException
    {
        call.execute();
    }

    /** Frees DiSNI's native copy of the list. */
    void free()
    {
        call.free();
    }

    private static void check(final boolean condition, final String what) throws IOException
    {
        if (!condition)
        {
            throw new IOException(unsupported("serialised work requests are not laid out as expected: " + what));
        }
    }

    private static String unsupported(final String what)
    {
        return "unsupported DiSNI build (" + what + "); dmkv's rdma transport needs com.ibm.disni:disni:2.1, see "
            + RdmaSupport.DOCS;
    }

    private static Field commandField()
    {
        try
        {
            final Field f = NatPostSendCall.class.getDeclaredField("cmd");
            f.setAccessible(true);
            return f;
        }
        catch (final NoSuchFieldException | RuntimeException e)
        {
            return null;
        }
    }
}
