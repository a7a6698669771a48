package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_REMOTE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.ATOMIC_SWAP_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.DISNI_WR_STRIDE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_SEND_SIGNALED;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_READ;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_WRITE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.NEXT_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.NUM_SGE_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.OPCODE_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.RDMA_REMOTE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.RDMA_RKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SEND_FLAGS_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_ADDR_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_LENGTH_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_LKEY_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SGE_SIZE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.SG_LIST_OFFSET;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.WR_ID_OFFSET;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;

/**
 * A software RNIC behind {@link RdmaQueuePair}, for testing the channel where no hardware exists.
 * It lays out work request chains as DiSNI 2.1 does (72-byte stride, then the sges, linked by
 * absolute {@code next} and {@code sg_list} pointers) and executes what the channel encoded by
 * reading the raw {@code struct ibv_send_wr} bytes, following the pointers like a NIC: opcode,
 * flags, {@code wr.rdma} or {@code wr.atomic}, the sge. It behaves as an RC queue pair: in-order
 * execution, completions only for signaled requests (and for errors), an error state that
 * flushes everything after the first error, and a send queue that refuses to overflow.
 */
final class SoftRnic implements RdmaQueuePair
{
    static final int LKEY = 0x5EED;
    private static final int RKEY_BASE = 0x4B00;

    private final int sendQueueDepth;
    private final ByteBuffer staging;
    private final long stagingAddress;
    private final UnsafeBuffer stagingView;
    private final Map<Integer, MemoryRegion> regionsByRkey = new HashMap<>();
    private final List<RegionInfo> infos = new ArrayList<>();
    private final Map<Integer, Chain> chains = new HashMap<>();
    private final ArrayDeque<Wr> held = new ArrayDeque<>();
    private final ArrayDeque<long[]> completionQueue = new ArrayDeque<>();
    private final ArrayDeque<Long> sendQueue = new ArrayDeque<>();
    private final List<Wr> executed = new ArrayList<>();
    private boolean hold;
    private boolean errorState;
    private boolean closed;
    private int posts;
    private int signaled;

    SoftRnic(final RegionTable memory, final int sendQueueDepth, final int stagingBytes)
    {
        this.sendQueueDepth = sendQueueDepth;
        this.staging = ByteBuffer.allocateDirect(stagingBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.stagingAddress = BufferUtil.address(staging);
        this.stagingView = new UnsafeBuffer(staging);
        for (final MemoryRegion r : memory.regions())
        {
            final int rkey = rkeyOf(r.id());
            regionsByRkey.put(rkey, r);
            infos.add(new RegionInfo(r.id(), r.key(), r.length(), r.address(), rkey));
        }
    }

    /** The rkey this NIC gives region {@code regionId}. */
    static int rkeyOf(final int regionId)
    {
        return RKEY_BASE + regionId;
    }

    /** What the memory node's hello would say about its regions. */
    List<RegionInfo> regionInfos()
    {
        return infos;
    }

    /** Forgets a registration, as a restarted memory node's NIC would: later access with it fails. */
    synchronized void revoke(final int rkey)
    {
        regionsByRkey.remove(rkey);
    }

    /** While holding, posted requests wait in the send queue until {@link #execute()}. */
    synchronized void hold(final boolean on)
    {
        hold = on;
    }

    /** Executes every held request, in order. */
    synchronized void execute()
    {
        while (!held.isEmpty())
        {
            run(held.pollFirst());
        }
    }

    synchronized int posts()
    {
        return posts;
    }

    synchronized int signaledRequests()
    {
        return signaled;
    }

    /** Requests executed so far, as the NIC decoded them. */
    synchronized List<Wr> executed()
    {
        return new ArrayList<>(executed);
    }

    synchronized boolean isClosed()
    {
        return closed;
    }

    @Override
    public synchronized WorkRequestList workRequests(final int n)
    {
        return chains.computeIfAbsent(n, Chain::new);
    }

    @Override
    public synchronized int poll(final long[] wrIds, final int[] statuses) throws IOException
    {
        if (closed)
        {
            throw new IOException("polling a destroyed completion queue");
        }
        int k = 0;
        while (k < wrIds.length && !completionQueue.isEmpty())
        {
            final long[] c = completionQueue.pollFirst();
            wrIds[k] = c[0];
            statuses[k] = (int)c[1];
            // A polled completion frees the send-queue slots of its request and of all before it.
            while (!sendQueue.isEmpty() && sendQueue.peekFirst() <= c[0])
            {
                sendQueue.pollFirst();
            }
            k++;
        }
        return k;
    }

    @Override
    public ByteBuffer staging()
    {
        return staging;
    }

    @Override
    public long stagingAddress()
    {
        return stagingAddress;
    }

    @Override
    public int stagingLkey()
    {
        return LKEY;
    }

    @Override
    public synchronized void close()
    {
        closed = true;
    }

    private synchronized void post(final Chain chain) throws IOException
    {
        if (closed)
        {
            throw new IOException("Trying to post send on closed QP");
        }
        posts++;
        final UnsafeBuffer wrs = new UnsafeBuffer(chain.buffer);
        final long base = BufferUtil.address(chain.buffer);
        final List<Wr> decoded = new ArrayList<>();
        // Follow next pointers from the head, as ibv_post_send does; decode now, as a NIC copies WQEs.
        long address = base;
        while (address != 0)
        {
            final int wr = (int)(address - base);
            if (wr < 0 || wr >= chain.buffer.capacity())
            {
                throw new IOException("next pointer 0x" + Long.toHexString(address) + " leaves the chain");
            }
            if (wrs.getInt(wr + NUM_SGE_OFFSET) != 1)
            {
                throw new IOException("num_sge " + wrs.getInt(wr + NUM_SGE_OFFSET));
            }
            final int sge = (int)(wrs.getLong(wr + SG_LIST_OFFSET) - base);
            decoded.add(new Wr(wrs.getLong(wr + WR_ID_OFFSET), wrs.getInt(wr + OPCODE_OFFSET),
                wrs.getInt(wr + SEND_FLAGS_OFFSET), wrs.getLong(wr + RDMA_REMOTE_ADDR_OFFSET),
                wrs.getInt(wr + RDMA_RKEY_OFFSET), wrs.getLong(wr + ATOMIC_REMOTE_ADDR_OFFSET),
                wrs.getLong(wr + ATOMIC_COMPARE_ADD_OFFSET), wrs.getLong(wr + ATOMIC_SWAP_OFFSET),
                wrs.getInt(wr + ATOMIC_RKEY_OFFSET), wrs.getLong(sge + SGE_ADDR_OFFSET),
                wrs.getInt(sge + SGE_LENGTH_OFFSET), wrs.getInt(sge + SGE_LKEY_OFFSET)));
            address = wrs.getLong(wr + NEXT_OFFSET);
        }
        if (sendQueue.size() + decoded.size() > sendQueueDepth)
        {
            // ibv_post_send's ENOMEM: the channel's credits must never let this happen.
            throw new IOException("ibv_post_send failed: Cannot allocate memory (send queue of " + sendQueueDepth
                + " overflowed by " + (sendQueue.size() + decoded.size() - sendQueueDepth) + ")");
        }
        for (final Wr w : decoded)
        {
            sendQueue.addLast(w.wrId);
            if ((w.flags & IBV_SEND_SIGNALED) != 0)
            {
                signaled++;
            }
            if (hold)
            {
                held.addLast(w);
            }
            else
            {
                run(w);
            }
        }
    }

    private void run(final Wr w)
    {
        executed.add(w);
        final boolean signaledWr = (w.flags & IBV_SEND_SIGNALED) != 0;
        if (errorState)
        {
            if (signaledWr)
            {
                completionQueue.addLast(new long[] {w.wrId, IbvWcStatus.WR_FLUSH_ERR});
            }
            return;
        }
        final int status = perform(w);
        if (status != IbvWcStatus.SUCCESS)
        {
            errorState = true;
            completionQueue.addLast(new long[] {w.wrId, status});
        }
        else if (signaledWr)
        {
            completionQueue.addLast(new long[] {w.wrId, IbvWcStatus.SUCCESS});
        }
    }

    private int perform(final Wr w)
    {
        if (w.sgeLkey != LKEY || w.sgeAddr < stagingAddress || w.sgeAddr + w.sgeLength > stagingAddress
            + staging.capacity())
        {
            return IbvWcStatus.LOC_PROT_ERR;
        }
        final int local = (int)(w.sgeAddr - stagingAddress);
        final boolean atomic = w.opcode == IBV_WR_ATOMIC_CMP_AND_SWP || w.opcode == IBV_WR_ATOMIC_FETCH_AND_ADD;
        final long remote = atomic ? w.atomicRemoteAddr : w.rdmaRemoteAddr;
        final int rkey = atomic ? w.atomicRkey : w.rdmaRkey;
        final int length = atomic ? 8 : w.sgeLength;
        if (atomic && w.sgeLength != 8)
        {
            return IbvWcStatus.LOC_LEN_ERR;
        }
        final MemoryRegion region = regionsByRkey.get(rkey);
        if (region == null || remote < region.address() || remote + length > region.address() + region.length())
        {
            return IbvWcStatus.REM_ACCESS_ERR;
        }
        final int offset = (int)(remote - region.address());
        final AtomicBuffer memory = region.buffer();
        switch (w.opcode)
        {
            case IBV_WR_RDMA_READ:
                VarHandle.acquireFence();
                memory.getBytes(offset, stagingView, local, length);
                return IbvWcStatus.SUCCESS;
            case IBV_WR_RDMA_WRITE:
                // As a NIC writes a WRITE's payload in address order: the last byte lands last.
                memory.putBytes(offset, stagingView, local, length - 1);
                memory.putByteVolatile(offset + length - 1, stagingView.getByte(local + length - 1));
                return IbvWcStatus.SUCCESS;
            case IBV_WR_ATOMIC_CMP_AND_SWP:
            case IBV_WR_ATOMIC_FETCH_AND_ADD:
                if ((offset & 7) != 0)
                {
                    return IbvWcStatus.REM_INV_REQ_ERR;
                }
                stagingView.putLong(local, w.opcode == IBV_WR_ATOMIC_FETCH_AND_ADD
                    ? memory.getAndAddLong(offset, w.compareAdd) : cas(memory, offset, w.compareAdd, w.swap));
                return IbvWcStatus.SUCCESS;
            default:
                return IbvWcStatus.LOC_QP_OP_ERR;
        }
    }

    private static long cas(final AtomicBuffer memory, final int offset, final long expected, final long desired)
    {
        while (true)
        {
            final long current = memory.getLongVolatile(offset);
            if (current != expected || memory.compareAndSetLong(offset, expected, desired))
            {
                return current;
            }
        }
    }

    /** One work request as the NIC read it. */
    record Wr(long wrId, int opcode, int flags, long rdmaRemoteAddr, int rdmaRkey, long atomicRemoteAddr,
        long compareAdd, long swap, int atomicRkey, long sgeAddr, int sgeLength, int sgeLkey)
    {
    }

    /** A chain laid out as DiSNI 2.1 serialises one. */
    private final class Chain implements WorkRequestList
    {
        private final ByteBuffer buffer;
        private final int n;

        Chain(final int n)
        {
            this.n = n;
            this.buffer = ByteBuffer.allocateDirect(n * (DISNI_WR_STRIDE + SGE_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
            final long base = BufferUtil.address(buffer);
            for (int i = 0; i < n; i++)
            {
                final int wr = wrOffset(i);
                buffer.putLong(wr + NEXT_OFFSET, i + 1 < n ? base + wrOffset(i + 1) : 0);
                buffer.putLong(wr + SG_LIST_OFFSET, base + sgeOffset(i));
                buffer.putInt(wr + NUM_SGE_OFFSET, 1);
                buffer.putInt(wr + OPCODE_OFFSET, IBV_WR_RDMA_READ);
                buffer.putLong(sgeOffset(i) + SGE_ADDR_OFFSET, stagingAddress);
                buffer.putInt(sgeOffset(i) + SGE_LENGTH_OFFSET, 8);
                buffer.putInt(sgeOffset(i) + SGE_LKEY_OFFSET, LKEY);
            }
        }

        @Override
        public int size()
        {
            return n;
        }

        @Override
        public ByteBuffer buffer()
        {
            return buffer;
        }

        @Override
        public int wrOffset(final int i)
        {
            return i * DISNI_WR_STRIDE;
        }

        @Override
        public int sgeOffset(final int i)
        {
            return n * DISNI_WR_STRIDE + i * SGE_SIZE;
        }

        @Override
        public void post() throws IOException
        {
            SoftRnic.this.post(this);
        }
    }
}
