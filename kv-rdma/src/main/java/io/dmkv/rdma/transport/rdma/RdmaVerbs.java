package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_READ;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_WRITE;

import java.nio.ByteBuffer;

import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbRules;

/**
 * How one channel's verbs become work requests, and what comes back: the checks against the
 * regions of the node's hello (so the NIC never sees a verb the node would refuse: an error
 * completion kills the queue pair), the encoding of a verb into a send work request on staging
 * memory, and the mapping of error completions to the SPI's exceptions.
 */
final class RdmaVerbs
{
    private final MemoryNodeInfo node;
    private final RegionInfo[] regionsById;
    private final long stagingAddress;
    private final int stagingLkey;

    RdmaVerbs(final MemoryNodeInfo node, final long stagingAddress, final int stagingLkey)
    {
        this.node = node;
        this.stagingAddress = stagingAddress;
        this.stagingLkey = stagingLkey;
        int maxId = -1;
        for (final RegionInfo r : node.regions())
        {
            maxId = Math.max(maxId, r.id());
        }
        this.regionsById = new RegionInfo[maxId + 1];
        for (final RegionInfo r : node.regions())
        {
            regionsById[r.id()] = r;
        }
    }

    /** Bytes of staging memory verb {@code op} of {@code length} bytes needs. */
    static int stagingLength(final byte op, final int length)
    {
        return op == Verb.CAS || op == Verb.FAA ? Verb.ATOMIC_SIZE : length;
    }

    /** Why the memory node would refuse verb {@code i}, judged by the regions of its hello; null if it would not. */
    RemoteAccessException refuse(final VerbBatch batch, final int i, final StagingRing staging)
    {
        final RemoteRegion target = batch.region(i);
        final byte op = batch.op(i);
        final long offset = batch.offset(i);
        final int id = target.id();
        final RegionInfo known = id >= 0 && id < regionsById.length ? regionsById[id] : null;
        final RemoteAccessException.Reason reason = known == null || known.key() != target.key()
            ? RemoteAccessException.Reason.UNKNOWN_REGION
            : VerbRules.check(op, offset, batch.length(i), known.length());
        if (reason != null)
        {
            return new RemoteAccessException(reason, i, VerbRules.describe(reason, node.toString(), id, target.key(),
                op, offset, batch.length(i)));
        }
        if (!staging.fits(stagingLength(op, batch.length(i))))
        {
            return new RemoteAccessException(RemoteAccessException.Reason.BAD_LENGTH, i, Verb.name(op) + " of "
                + batch.length(i) + " bytes on " + target + " is longer than the rdma staging memory ("
                + staging.capacity() + " bytes): raise RdmaOptions.stagingBytes or split the verb");
        }
        if (known.rdmaAddress() == 0)
        {
            return new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, i, target
                + " is not registered with the memory node's RNIC");
        }
        return null;
    }

    /** Writes verb {@code i} of {@code batch} as work request {@code j} of {@code list}. */
    void encode(final WorkRequestList list, final int j, final VerbBatch batch, final int i,
        final int stagingOffset, final long wrId, final int flags)
    {
        final ByteBuffer wrs = list.buffer();
        final int wr = list.wrOffset(j);
        // The hello's registration, not the caller's RemoteRegion: refuse() checked id and key against it.
        final RegionInfo info = regionsById[batch.region(i).id()];
        final long remote = info.rdmaAddress() + batch.offset(i);
        final int rkey = info.rdmaKey();
        final long local = stagingAddress + stagingOffset;
        switch (batch.op(i))
        {
            case Verb.READ:
                SendWrEncoder.writeHeader(wrs, wr, wrId, IBV_WR_RDMA_READ, flags);
                SendWrEncoder.writeRdma(wrs, wr, remote, rkey);
                SendWrEncoder.writeSge(wrs, list.sgeOffset(j), local, batch.length(i), stagingLkey);
                break;
            case Verb.WRITE:
                SendWrEncoder.writeHeader(wrs, wr, wrId, IBV_WR_RDMA_WRITE, flags);
                SendWrEncoder.writeRdma(wrs, wr, remote, rkey);
                SendWrEncoder.writeSge(wrs, list.sgeOffset(j), local, batch.length(i), stagingLkey);
                break;
            case Verb.CAS:
                SendWrEncoder.writeHeader(wrs, wr, wrId, IBV_WR_ATOMIC_CMP_AND_SWP, flags);
                SendWrEncoder.writeAtomic(wrs, wr, remote, batch.operand(i), batch.swap(i), rkey);
                SendWrEncoder.writeSge(wrs, list.sgeOffset(j), local, Verb.ATOMIC_SIZE, stagingLkey);
                break;
            case Verb.FAA:
                SendWrEncoder.writeHeader(wrs, wr, wrId, IBV_WR_ATOMIC_FETCH_AND_ADD, flags);
                SendWrEncoder.writeAtomic(wrs, wr, remote, batch.operand(i), 0L, rkey);
                SendWrEncoder.writeSge(wrs, list.sgeOffset(j), local, Verb.ATOMIC_SIZE, stagingLkey);
                break;
            default:
                throw new IllegalStateException("unknown verb " + batch.op(i));
        }
    }

    /** The exception for an error completion of verb {@code i}. */
    Throwable mapError(final int status, final VerbBatch batch, final int i)
    {
        final String what = Verb.name(batch.op(i)) + " of " + batch.length(i) + " bytes at offset " + batch.offset(i)
            + " of " + batch.region(i);
        switch (status)
        {
            case IbvWcStatus.REM_ACCESS_ERR:
                return new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, i, node
                    + " refused " + what + " (" + IbvWcStatus.name(status) + "): its RNIC does not know rkey 0x"
                    + Integer.toHexString(batch.region(i).info().rdmaKey()) + " for that range (region re-registered "
                    + "or memory node restarted?)");
            case IbvWcStatus.REM_INV_REQ_ERR:
                return new RemoteAccessException(batch.op(i) == Verb.CAS || batch.op(i) == Verb.FAA
                    ? RemoteAccessException.Reason.MISALIGNED : RemoteAccessException.Reason.BAD_LENGTH, i, node
                    + " refused " + what + " as invalid (" + IbvWcStatus.name(status) + ")");
            case IbvWcStatus.REM_OP_ERR:
                return new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_OP, i, node
                    + " could not execute " + what + " (" + IbvWcStatus.name(status) + ")");
            default:
                return new ConnectionException(node + ": " + what + " failed with " + IbvWcStatus.name(status)
                    + " (retry/transport errors mean the memory node or the fabric is unreachable)");
        }
    }
}
