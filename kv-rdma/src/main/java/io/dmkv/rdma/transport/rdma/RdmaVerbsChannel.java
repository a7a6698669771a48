package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_SEND_SIGNALED;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_READ;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_WR_RDMA_WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.server.VerbExecutor;

/**
 * One client connection to a memory node over rdma: the hello and RPCs ride on a control
 * channel (tcp), one-sided verbs go over one RC queue pair.
 *
 * <p>Posting: a batch part becomes one chain of work requests per doorbell (at most
 * {@link RdmaOptions#maxWrPerPost()}), taken from prebuilt chains whose fields are rewritten in
 * place. Only the last request of a chain is signaled: RC completes a send queue in order, so its
 * completion says every earlier request finished. Parts wait, in submission order, while the send
 * queue (credits) or the staging memory is full, which keeps the SPI's in-order contract.
 *
 * <p>Completing: the transport's poller thread calls {@link #pollCompletions()}, which matches
 * completions to posted chains by {@code wr_id}, copies READ data and atomic results out of
 * staging into the batch, expires parts past the request timeout and posts waiting parts. Parts
 * are completed after the lock is released, so a listener that posts again does not deadlock.
 * An error completion leaves an RC queue pair in the error state: the failing verb's part gets
 * the mapped error, every other outstanding part a {@link ConnectionException}, and the channel closes.
 */
final class RdmaVerbsChannel implements VerbsChannel
{
    private static final Logger LOG = LoggerFactory.getLogger(RdmaVerbsChannel.class);

    private final VerbsChannel control;
    private final MemoryNodeInfo node;
    private final List<RemoteRegion> regions;
    private final RegionInfo[] regionsById;
    private final RdmaQueuePair qp;
    private final NanoClock clock;
    private final long timeoutNs;
    private final int sendQueueDepth;
    private final int maxWrPerPost;
    private final VerbCounters counters = new VerbCounters();
    private final ReentrantLock lock = new ReentrantLock();
    private final StagingRing staging;
    private final UnsafeBuffer stagingView;
    private final long stagingAddress;
    private final int stagingLkey;
    private final Chain[] ring;
    private final ArrayDeque<PartState> backlog = new ArrayDeque<>();
    private final long[] polledIds = new long[RdmaQueuePair.POLL_BATCH];
    private final int[] polledStatuses = new int[RdmaQueuePair.POLL_BATCH];
    private final ArrayList<PartState> pollerDone = new ArrayList<>();
    private final Executor releaser;
    private final Consumer<RdmaVerbsChannel> onRelease;
    private final AtomicBoolean released = new AtomicBoolean();
    private int ringHead;
    private int ringSize;
    private int outstandingWrs;
    private long nextWrId = 1;
    private boolean closed;
    private volatile boolean open = true;

    /**
     * @param control   the connected control channel (hello done); owned by this channel.
     * @param qp        the connected queue pair; owned by this channel.
     * @param releaser  where a channel whose queue pair failed releases its resources (not the poller thread).
     * @param onRelease called once when the channel releases its queue pair (the poller forgets it).
     */
    RdmaVerbsChannel(final VerbsChannel control, final RdmaQueuePair qp, final ClientOptions options,
        final RdmaOptions rdma, final Executor releaser, final Consumer<RdmaVerbsChannel> onRelease)
    {
        this.control = control;
        this.node = control.node();
        this.qp = qp;
        this.clock = options.clock();
        this.timeoutNs = options.requestTimeoutNs();
        this.sendQueueDepth = rdma.sendQueueDepth();
        this.maxWrPerPost = rdma.maxWrPerPost();
        this.releaser = releaser;
        this.onRelease = onRelease;
        final ByteBuffer stagingBuffer = qp.staging();
        this.staging = new StagingRing(stagingBuffer.capacity() & ~7);
        this.stagingView = new UnsafeBuffer(stagingBuffer);
        this.stagingAddress = qp.stagingAddress();
        this.stagingLkey = qp.stagingLkey();
        this.ring = new Chain[sendQueueDepth];
        for (int i = 0; i < ring.length; i++)
        {
            ring[i] = new Chain(maxWrPerPost);
        }
        final List<RemoteRegion> list = new ArrayList<>(node.regions().size());
        int maxId = -1;
        for (final RegionInfo r : node.regions())
        {
            list.add(new RemoteRegion(this, r));
            maxId = Math.max(maxId, r.id());
        }
        this.regions = List.copyOf(list);
        this.regionsById = new RegionInfo[maxId + 1];
        for (final RegionInfo r : node.regions())
        {
            regionsById[r.id()] = r;
        }
    }

    @Override
    public MemoryNodeInfo node()
    {
        return node;
    }

    @Override
    public List<RemoteRegion> regions()
    {
        return regions;
    }

    @Override
    public RemoteRegion region(final int regionId)
    {
        for (final RemoteRegion r : regions)
        {
            if (r.id() == regionId)
            {
                return r;
            }
        }
        throw new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, -1, node + " has no region " + regionId);
    }

    /**
     * Posts the part's verbs. A verb this channel can tell the memory node would refuse (unknown
     * region or key, out of bounds, misaligned, longer than staging) is refused here, with the
     * tcp transport's semantics: the verbs before it run, it and the ones after it do not, and the
     * part completes with the refusal. The NIC would refuse it too, but an error completion kills
     * the queue pair, so catching it first keeps the connection usable.
     */
    @Override
    public void submit(final VerbBatch batch, final int part)
    {
        int first = -1;
        int count = 0;
        RemoteAccessException refusal = null;
        for (int i = 0, n = batch.size(); i < n; i++)
        {
            if (batch.partOf(i) != part)
            {
                continue;
            }
            refusal = refuse(batch, i);
            if (refusal != null)
            {
                break;
            }
            if (first < 0)
            {
                first = i;
            }
            count++;
        }
        if (count == 0)
        {
            batch.partCompleted(part, refusal);
            return;
        }

        final PartState ps = new PartState(batch, part, first, count, clock.nanoTime() + timeoutNs, refusal);
        final ArrayList<PartState> done = new ArrayList<>(0);
        lock.lock();
        try
        {
            if (closed)
            {
                fail(ps, new ConnectionException("rdma channel to " + node + " is closed"), done);
            }
            else
            {
                for (int i = first, counted = 0; counted < count; i++)
                {
                    if (batch.partOf(i) == part)
                    {
                        counters.verb(batch.op(i), batch.length(i));
                        counted++;
                    }
                }
                counters.roundTrip();
                backlog.addLast(ps);
                drainBacklog(done);
            }
        }
        finally
        {
            lock.unlock();
        }
        deliver(done);
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        if (!open)
        {
            return CompletableFuture.failedFuture(new ConnectionException("rdma channel to " + node + " is closed"));
        }
        final int requestBytes = request.remaining();
        return control.rpc(method, request).thenApply(response ->
        {
            counters.rpc(requestBytes, response.remaining());
            return response;
        });
    }

    @Override
    public VerbCounters counters()
    {
        return counters;
    }

    @Override
    public boolean isOpen()
    {
        return open && control.isOpen();
    }

    /** Closes the channel: parts in flight fail with {@link ConnectionException}, then the queue pair goes. */
    @Override
    public void close()
    {
        final ArrayList<PartState> done = new ArrayList<>(0);
        lock.lock();
        try
        {
            if (!closed)
            {
                closed = true;
                open = false;
                failAll(new ConnectionException("rdma channel to " + node + " was closed with the batch in flight"), done);
            }
        }
        finally
        {
            lock.unlock();
        }
        deliver(done);
        release();
    }

    /**
     * Polls the completion queue once, completes what finished, expires what is late and posts
     * what was waiting. Called by one poller thread; returns the work done (0 when idle).
     */
    int pollCompletions()
    {
        if (!open)
        {
            return 0;
        }
        final ArrayList<PartState> done = pollerDone;
        int work = 0;
        lock.lock();
        try
        {
            if (closed || (ringSize == 0 && backlog.isEmpty()))
            {
                return 0;
            }
            int n;
            try
            {
                n = qp.poll(polledIds, polledStatuses);
            }
            catch (final IOException | RuntimeException e)
            {
                broken("polling the completion queue failed: " + e.getMessage(), e, done);
                n = 0;
            }
            for (int k = 0; k < n && !closed; k++)
            {
                if (polledStatuses[k] == IbvWcStatus.SUCCESS)
                {
                    completeThrough(polledIds[k], done);
                }
                else
                {
                    failAt(polledIds[k], polledStatuses[k], done);
                }
            }
            work += n;
            if (!closed)
            {
                work += expire(clock.nanoTime(), done);
                drainBacklog(done);
            }
        }
        finally
        {
            lock.unlock();
        }
        deliver(done);
        return work;
    }

    /** Work requests posted and not yet completed (for tests and diagnostics). */
    int outstandingWorkRequests()
    {
        lock.lock();
        try
        {
            return outstandingWrs;
        }
        finally
        {
            lock.unlock();
        }
    }

    @Override
    public String toString()
    {
        return "rdma channel to " + node;
    }

    /** Why the memory node would refuse verb {@code i}, judged by the regions of its hello; null if it would not. */
    private RemoteAccessException refuse(final VerbBatch batch, final int i)
    {
        final RemoteRegion target = batch.region(i);
        final byte op = batch.op(i);
        final long offset = batch.offset(i);
        final int length = stagingLength(op, batch.length(i));
        final int id = target.id();
        final RegionInfo known = id >= 0 && id < regionsById.length ? regionsById[id] : null;
        RemoteAccessException.Reason reason = null;
        if (known == null || known.key() != target.key())
        {
            reason = RemoteAccessException.Reason.UNKNOWN_REGION;
        }
        else if (offset < 0 || offset > known.length() - length)
        {
            reason = RemoteAccessException.Reason.OUT_OF_BOUNDS;
        }
        else if ((op == Verb.CAS || op == Verb.FAA) && (offset & (Verb.ATOMIC_SIZE - 1)) != 0)
        {
            reason = RemoteAccessException.Reason.MISALIGNED;
        }
        if (reason != null)
        {
            return new RemoteAccessException(reason, i, VerbExecutor.describe(reason, node.toString(), id, target.key(),
                op, offset, batch.length(i)));
        }
        if (!staging.fits(length))
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

    /** Posts waiting parts, oldest first, as far as credits and staging allow. */
    private void drainBacklog(final ArrayList<PartState> done)
    {
        while (!closed && !backlog.isEmpty())
        {
            final PartState ps = backlog.peekFirst();
            if (ps.finished)
            {
                backlog.pollFirst();
                continue;
            }
            if (!postChain(ps, done))
            {
                return;
            }
            if (ps.toPost == 0)
            {
                backlog.pollFirst();
            }
        }
    }

    /** Posts the next chain of {@code ps}'s verbs; false when nothing could be posted now. */
    private boolean postChain(final PartState ps, final ArrayList<PartState> done)
    {
        final int credits = sendQueueDepth - outstandingWrs;
        if (credits <= 0 || ringSize == ring.length)
        {
            return false;
        }
        final int limit = Math.min(Math.min(credits, maxWrPerPost), ps.toPost);
        final Chain chain = ring[(ringHead + ringSize) % ring.length];
        final VerbBatch batch = ps.batch;
        int k = 0;
        int i = ps.nextVerb;
        for (final int n = batch.size(); i < n && k < limit; i++)
        {
            if (batch.partOf(i) != ps.part)
            {
                continue;
            }
            final byte op = batch.op(i);
            final int offset = staging.allocate(stagingLength(op, batch.length(i)));
            if (offset < 0)
            {
                break;
            }
            if (op == Verb.WRITE)
            {
                stagingView.putBytes(offset, batch.buffer(i), batch.bufferOffset(i), batch.length(i));
            }
            chain.verbs[k] = i;
            chain.stagingOffsets[k] = offset;
            k++;
        }
        if (k == 0)
        {
            return false;
        }
        ps.nextVerb = i;
        ps.toPost -= k;

        final long firstId = nextWrId;
        nextWrId += k;
        chain.part = ps;
        chain.count = k;
        chain.firstWrId = firstId;
        chain.lastWrId = firstId + k - 1;
        chain.stagingMark = staging.mark();
        chain.lastOfPart = ps.toPost == 0;
        ringSize++;
        outstandingWrs += k;
        try
        {
            final WorkRequestList list = qp.workRequests(k);
            for (int j = 0; j < k; j++)
            {
                encode(list, j, batch, chain.verbs[j], chain.stagingOffsets[j], firstId + j,
                    j == k - 1 ? IBV_SEND_SIGNALED : 0);
            }
            list.post();
        }
        catch (final IOException | RuntimeException e)
        {
            broken("posting " + k + " work requests failed: " + e.getMessage(), e, done);
            return false;
        }
        return true;
    }

    private void encode(final WorkRequestList list, final int j, final VerbBatch batch, final int i,
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

    /** Every chain whose last request is at or before {@code wrId} finished (RC completes in order). */
    private void completeThrough(final long wrId, final ArrayList<PartState> done)
    {
        while (ringSize > 0)
        {
            final Chain chain = ring[ringHead];
            if (chain.lastWrId > wrId)
            {
                return;
            }
            final PartState ps = chain.part;
            if (!ps.finished)
            {
                final VerbBatch batch = ps.batch;
                for (int j = 0; j < chain.count; j++)
                {
                    final int i = chain.verbs[j];
                    final int offset = chain.stagingOffsets[j];
                    switch (batch.op(i))
                    {
                        case Verb.READ:
                            stagingView.getBytes(offset, batch.readBuffer(i), batch.bufferOffset(i), batch.length(i));
                            break;
                        case Verb.CAS:
                        case Verb.FAA:
                            batch.setResult(i, stagingView.getLong(offset));
                            break;
                        default:
                            break;
                    }
                }
                if (chain.lastOfPart)
                {
                    ps.finished = true;
                    ps.error = ps.refusal;
                    done.add(ps);
                }
            }
            retireHead(chain);
        }
    }

    /** An error completion for {@code wrId}: the queue pair is now in the error state. */
    private void failAt(final long wrId, final int status, final ArrayList<PartState> done)
    {
        // Requests before the failing one completed successfully: deliver their parts first.
        completeThrough(wrId - 1, done);
        Throwable error = null;
        if (ringSize > 0)
        {
            final Chain chain = ring[ringHead];
            if (wrId >= chain.firstWrId && wrId <= chain.lastWrId)
            {
                final int i = chain.verbs[(int)(wrId - chain.firstWrId)];
                error = mapError(status, chain.part.batch, i);
                fail(chain.part, error, done);
            }
        }
        broken(IbvWcStatus.name(status) + " on work request " + wrId, error, done);
    }

    private Throwable mapError(final int status, final VerbBatch batch, final int i)
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

    /** Fails parts past their deadline. Chains stay until the NIC completes them: it may still use their staging. */
    private int expire(final long now, final ArrayList<PartState> done)
    {
        int expired = 0;
        for (int k = 0; k < ringSize; k++)
        {
            final PartState ps = ring[(ringHead + k) % ring.length].part;
            if (ps.finished)
            {
                continue;
            }
            if (now - ps.deadlineNs < 0)
            {
                // Parts are posted in submission order, so later deadlines are no earlier.
                return expired;
            }
            timeout(ps, done);
            expired++;
        }
        for (final PartState ps : backlog)
        {
            if (ps.finished)
            {
                continue;
            }
            if (now - ps.deadlineNs < 0)
            {
                break;
            }
            timeout(ps, done);
            expired++;
        }
        return expired;
    }

    private void timeout(final PartState ps, final ArrayList<PartState> done)
    {
        fail(ps, new VerbsTimeoutException("rdma batch part of " + ps.verbs + " verbs to " + node
            + " got no completion within " + (timeoutNs / 1_000_000) + " ms (" + outstandingWrs
            + " work requests outstanding; verbs already posted may still be applied)"), done);
    }

    /** The queue pair is unusable: fail everything and release it off the caller's thread. */
    private void broken(final String reason, final Throwable cause, final ArrayList<PartState> done)
    {
        if (closed)
        {
            return;
        }
        closed = true;
        open = false;
        LOG.warn("rdma channel to {} failed: {}", node, reason);
        failAll(new ConnectionException("rdma queue pair to " + node + " failed (" + reason + "); the channel is "
            + "closed, reconnect", cause), done);
        releaser.execute(this::release);
    }

    private void failAll(final Throwable error, final ArrayList<PartState> done)
    {
        for (int k = 0; k < ringSize; k++)
        {
            final Chain chain = ring[(ringHead + k) % ring.length];
            fail(chain.part, error, done);
            chain.part = null;
        }
        ringSize = 0;
        for (final PartState ps : backlog)
        {
            fail(ps, error, done);
        }
        backlog.clear();
    }

    private static void fail(final PartState ps, final Throwable error, final ArrayList<PartState> done)
    {
        if (!ps.finished)
        {
            ps.finished = true;
            ps.error = error;
            done.add(ps);
        }
    }

    private void retireHead(final Chain chain)
    {
        outstandingWrs -= chain.count;
        staging.releaseTo(chain.stagingMark);
        chain.part = null;
        ringHead = (ringHead + 1) % ring.length;
        ringSize--;
    }

    /** Completes parts outside the lock: listeners may post again on this very channel. */
    private static void deliver(final ArrayList<PartState> done)
    {
        for (int k = 0, n = done.size(); k < n; k++)
        {
            final PartState ps = done.get(k);
            ps.batch.partCompleted(ps.part, ps.error);
        }
        done.clear();
    }

    private void release()
    {
        if (!released.compareAndSet(false, true))
        {
            return;
        }
        try
        {
            onRelease.accept(this);
        }
        finally
        {
            try
            {
                qp.close();
            }
            finally
            {
                control.close();
            }
        }
    }

    private static int stagingLength(final byte op, final int length)
    {
        return op == Verb.CAS || op == Verb.FAA ? Verb.ATOMIC_SIZE : length;
    }

    /** One batch part as it passes through the channel. */
    private static final class PartState
    {
        final VerbBatch batch;
        final int part;
        final int verbs;
        final long deadlineNs;
        final RemoteAccessException refusal;
        int nextVerb;
        int toPost;
        boolean finished;
        Throwable error;

        PartState(final VerbBatch batch, final int part, final int first, final int verbs, final long deadlineNs,
            final RemoteAccessException refusal)
        {
            this.refusal = refusal;
            this.batch = batch;
            this.part = part;
            this.nextVerb = first;
            this.verbs = verbs;
            this.toPost = verbs;
            this.deadlineNs = deadlineNs;
        }
    }

    /** One posted chain of work requests: preallocated, reused round the ring. */
    private static final class Chain
    {
        final int[] verbs;
        final int[] stagingOffsets;
        PartState part;
        int count;
        long firstWrId;
        long lastWrId;
        long stagingMark;
        boolean lastOfPart;

        Chain(final int capacity)
        {
            verbs = new int[capacity];
            stagingOffsets = new int[capacity];
        }
    }
}
