// Just over 500 lines: posting (prebuilt work-request chains, credits, staging) and completing
// (matching wr_ids, copying staged results, expiry) share one lock and one in-order list of
// parts; split, each half would need the other's state behind that lock.
package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_SEND_SIGNALED;

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
import java.util.function.Function;

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
import io.dmkv.rdma.transport.InFlightParts;

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
    private final RdmaVerbs verbs;
    private final RdmaQueuePair qp;
    private final NanoClock clock;
    private final long timeoutNs;
    private final int sendQueueDepth;
    private final int maxWrPerPost;
    private final VerbCounters counters = new VerbCounters();
    private final ReentrantLock lock = new ReentrantLock();
    private final StagingRing staging;
    private final UnsafeBuffer stagingView;
    private final RdmaChainRing ring;
    private final ArrayDeque<RdmaPart> backlog = new ArrayDeque<>();
    /** Every part accepted and not finished, posted or waiting, in submission order. */
    private final InFlightParts<RdmaPart> parts = new InFlightParts<>();
    private final long[] polledIds = new long[RdmaQueuePair.POLL_BATCH];
    private final int[] polledStatuses = new int[RdmaQueuePair.POLL_BATCH];
    private final ArrayList<RdmaPart> pollerDone = new ArrayList<>();
    private final Function<RdmaPart, Throwable> timeoutError;
    private final Executor releaser;
    private final Consumer<RdmaVerbsChannel> onRelease;
    private final AtomicBoolean released = new AtomicBoolean();
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
        this.verbs = new RdmaVerbs(node, qp.stagingAddress(), qp.stagingLkey());
        this.ring = new RdmaChainRing(sendQueueDepth, maxWrPerPost);
        this.timeoutError = ps -> new VerbsTimeoutException("rdma batch part of " + ps.verbs + " verbs to " + node
            + " got no completion within " + (timeoutNs / 1_000_000) + " ms (" + ring.outstanding()
            + " work requests outstanding; verbs already posted may still be applied)");
        final List<RemoteRegion> list = new ArrayList<>(node.regions().size());
        for (final RegionInfo r : node.regions())
        {
            list.add(new RemoteRegion(this, r));
        }
        this.regions = List.copyOf(list);
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
            refusal = verbs.refuse(batch, i, staging);
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

        final RdmaPart ps = new RdmaPart(batch, part, first, count, clock.nanoTime() + timeoutNs, refusal);
        final ArrayList<RdmaPart> done = new ArrayList<>(0);
        lock.lock();
        try
        {
            if (closed)
            {
                fail(ps, new ConnectionException("rdma channel to " + node + " is closed"), done);
            }
            else
            {
                counters.part(batch, part, count);
                parts.add(ps);
                backlog.addLast(ps);
                drainBacklog(done);
            }
        }
        finally
        {
            lock.unlock();
        }
        InFlightParts.deliver(done);
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
        final ArrayList<RdmaPart> done = new ArrayList<>(0);
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
        InFlightParts.deliver(done);
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
        final ArrayList<RdmaPart> done = pollerDone;
        int work = 0;
        lock.lock();
        try
        {
            if (closed || (ring.isEmpty() && backlog.isEmpty()))
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
                // Expired parts' chains stay until the NIC completes them: it may still use their staging.
                work += parts.expire(clock.nanoTime(), timeoutError, done);
                drainBacklog(done);
            }
        }
        finally
        {
            lock.unlock();
        }
        InFlightParts.deliver(done);
        return work;
    }

    /** Work requests posted and not yet completed (for tests and diagnostics). */
    int outstandingWorkRequests()
    {
        lock.lock();
        try
        {
            return ring.outstanding();
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

    /** Posts waiting parts, oldest first, as far as credits and staging allow. */
    private void drainBacklog(final ArrayList<RdmaPart> done)
    {
        while (!closed && !backlog.isEmpty())
        {
            final RdmaPart ps = backlog.peekFirst();
            if (ps.finished())
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
    private boolean postChain(final RdmaPart ps, final ArrayList<RdmaPart> done)
    {
        final int credits = sendQueueDepth - ring.outstanding();
        if (credits <= 0 || ring.isFull())
        {
            return false;
        }
        final int limit = Math.min(Math.min(credits, maxWrPerPost), ps.toPost);
        final RdmaChain chain = ring.tail();
        final VerbBatch batch = ps.batch();
        int k = 0;
        int i = ps.nextVerb;
        for (final int n = batch.size(); i < n && k < limit; i++)
        {
            if (batch.partOf(i) != ps.part())
            {
                continue;
            }
            final byte op = batch.op(i);
            final int offset = staging.allocate(RdmaVerbs.stagingLength(op, batch.length(i)));
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
        ring.push(chain);
        try
        {
            final WorkRequestList list = qp.workRequests(k);
            for (int j = 0; j < k; j++)
            {
                verbs.encode(list, j, batch, chain.verbs[j], chain.stagingOffsets[j], firstId + j,
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

    /** Every chain whose last request is at or before {@code wrId} finished (RC completes in order). */
    private void completeThrough(final long wrId, final ArrayList<RdmaPart> done)
    {
        RdmaChain chain;
        while ((chain = ring.head()) != null)
        {
            if (chain.lastWrId > wrId)
            {
                break;
            }
            final RdmaPart ps = chain.part;
            if (!ps.finished())
            {
                chain.copyResults(stagingView);
                if (chain.lastOfPart && ps.finish(ps.refusal))
                {
                    done.add(ps);
                }
            }
            ring.retireHead(staging);
        }
        parts.dropFinished();
    }

    /** An error completion for {@code wrId}: the queue pair is now in the error state. */
    private void failAt(final long wrId, final int status, final ArrayList<RdmaPart> done)
    {
        // Requests before the failing one completed successfully: deliver their parts first.
        completeThrough(wrId - 1, done);
        Throwable error = null;
        final RdmaChain chain = ring.head();
        if (chain != null)
        {
            if (wrId >= chain.firstWrId && wrId <= chain.lastWrId)
            {
                final int i = chain.verbs[(int)(wrId - chain.firstWrId)];
                error = verbs.mapError(status, chain.part.batch(), i);
                fail(chain.part, error, done);
            }
        }
        broken(IbvWcStatus.name(status) + " on work request " + wrId, error, done);
    }

    /** The queue pair is unusable: fail everything and release it off the caller's thread. */
    private void broken(final String reason, final Throwable cause, final ArrayList<RdmaPart> done)
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

    private void failAll(final Throwable error, final ArrayList<RdmaPart> done)
    {
        parts.failAll(error, done);
        ring.clear();
        backlog.clear();
    }

    private static void fail(final RdmaPart ps, final Throwable error, final ArrayList<RdmaPart> done)
    {
        if (ps.finish(error))
        {
            done.add(ps);
        }
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
}
