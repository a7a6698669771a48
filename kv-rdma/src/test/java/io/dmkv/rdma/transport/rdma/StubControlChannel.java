package io.dmkv.rdma.transport.rdma;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;

/**
 * Stands in for the tcp control channel of an rdma channel: it has said hello (node info with
 * the regions' NIC addresses and rkeys) and answers every RPC by echoing the request reversed.
 */
final class StubControlChannel implements VerbsChannel
{
    final AtomicInteger closes = new AtomicInteger();
    private final MemoryNodeInfo node;
    private volatile boolean open = true;

    StubControlChannel(final List<RegionInfo> regions)
    {
        this.node = new MemoryNodeInfo("soft-mn", "soft:7410", 1, regions, "", 7471);
    }

    @Override
    public MemoryNodeInfo node()
    {
        return node;
    }

    @Override
    public List<RemoteRegion> regions()
    {
        throw new UnsupportedOperationException("the rdma channel builds its own regions");
    }

    @Override
    public RemoteRegion region(final int regionId)
    {
        throw new UnsupportedOperationException("the rdma channel builds its own regions");
    }

    @Override
    public void submit(final VerbBatch batch, final int part)
    {
        throw new UnsupportedOperationException("verbs must not go over the control channel");
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        final ByteBuffer response = ByteBuffer.allocate(request.remaining());
        for (int i = request.limit() - 1; i >= request.position(); i--)
        {
            response.put(request.get(i));
        }
        return CompletableFuture.completedFuture(response.flip());
    }

    @Override
    public VerbCounters counters()
    {
        return new VerbCounters();
    }

    @Override
    public boolean isOpen()
    {
        return open;
    }

    @Override
    public void close()
    {
        open = false;
        closes.incrementAndGet();
    }
}
