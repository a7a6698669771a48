package io.dmkv.rdma.transport.tcp;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsTimeoutException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The RPCs of one tcp client connection: sent with an id, matched to their answer by it (RPCs
 * may be answered out of order: the memory node runs them on workers), timed out by the
 * channel's sweep and failed together when the connection goes.
 */
final class TcpRpcs
{
    private final Map<Long, PendingRpc> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Supplier<? extends RuntimeException> closed;
    private final VerbCounters counters;
    private final Consumer<ByteBuf> writer;

    /** @param writer sends a frame on the connection, ordered with its other writes. */
    TcpRpcs(final Supplier<? extends RuntimeException> closed, final VerbCounters counters,
        final Consumer<ByteBuf> writer)
    {
        this.closed = closed;
        this.counters = counters;
        this.writer = writer;
    }

    CompletableFuture<ByteBuffer> send(final ByteBufAllocator alloc, final int method, final ByteBuffer request,
        final long deadlineNs)
    {
        final long id = ids.incrementAndGet();
        final int requestBytes = request.remaining();
        final PendingRpc p = new PendingRpc(method, requestBytes, deadlineNs);
        pending.put(id, p);
        final ByteBuf frame = alloc.buffer(TcpFrames.rpcRequestLength(requestBytes));
        TcpFrames.encodeRpcRequest(frame, id, method, request);
        try
        {
            // A frame the connection cannot write fails with the connection (failAll).
            writer.accept(frame);
        }
        catch (final RejectedExecutionException e)
        {
            frame.release();
            fail(id);
        }
        return p.future;
    }

    private void fail(final long id)
    {
        final PendingRpc gone = pending.remove(id);
        if (gone != null)
        {
            gone.future.completeExceptionally(closed.get());
        }
    }

    /** An RPC_RESP body (after the type byte). */
    void response(final ByteBuf in)
    {
        final long id = in.readLong();
        final int status = in.readUnsignedByte();
        final PendingRpc p = pending.remove(id);
        if (p == null)
        {
            return;
        }
        if (status == RpcStatus.OK)
        {
            final ByteBuffer response = ByteBuffer.allocate(in.readableBytes());
            in.readBytes(response);
            response.flip();
            counters.rpc(p.requestBytes, response.remaining());
            p.future.complete(response);
        }
        else
        {
            counters.rpc(p.requestBytes, in.readableBytes());
            p.future.completeExceptionally(new RpcException(status, in.toString(StandardCharsets.UTF_8)));
        }
    }

    /** Fails RPCs past their deadline; {@code what} ends the message ("to memory node ... timed out ..."). */
    void expire(final long nowNs, final String what)
    {
        for (final Map.Entry<Long, PendingRpc> e : pending.entrySet())
        {
            final PendingRpc p = e.getValue();
            if (nowNs - p.deadlineNs >= 0 && pending.remove(e.getKey(), p))
            {
                p.future.completeExceptionally(new VerbsTimeoutException("RPC " + p.method + " " + what));
            }
        }
    }

    void failAll()
    {
        for (final Long id : pending.keySet())
        {
            final PendingRpc r = pending.remove(id);
            if (r != null)
            {
                r.future.completeExceptionally(closed.get());
            }
        }
    }

    private static final class PendingRpc
    {
        final CompletableFuture<ByteBuffer> future = new CompletableFuture<>();
        final int method;
        final int requestBytes;
        final long deadlineNs;

        PendingRpc(final int method, final int requestBytes, final long deadlineNs)
        {
            this.method = method;
            this.requestBytes = requestBytes;
            this.deadlineNs = deadlineNs;
        }
    }
}
