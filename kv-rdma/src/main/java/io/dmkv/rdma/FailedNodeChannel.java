package io.dmkv.rdma;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The channel of a memory node that failed and that the cluster's map no longer routes to (or
 * routes to only for regions it lost): a client joining a degraded cluster holds one in the
 * node's place, so node indexes keep their meaning. It connects to nothing; every verb and RPC
 * fails with {@link ConnectionException} naming the node.
 */
public final class FailedNodeChannel implements VerbsChannel
{
    private final MemoryNodeInfo node;
    private final VerbCounters counters = new VerbCounters();
    private final Map<Integer, RemoteRegion> regions = new ConcurrentHashMap<>();

    /** @param name the node's name, for messages. */
    public FailedNodeChannel(final String name)
    {
        this.node = new MemoryNodeInfo(name, "failed", 0, List.of(), "", 0);
    }

    @Override
    public MemoryNodeInfo node()
    {
        return node;
    }

    @Override
    public List<RemoteRegion> regions()
    {
        return List.of();
    }

    /** A handle whose verbs fail: the map may still name the node for a region it lost. */
    @Override
    public RemoteRegion region(final int regionId)
    {
        return regions.computeIfAbsent(regionId, id -> new RemoteRegion(this, new RegionInfo(id, 0, 0, 0, 0)));
    }

    @Override
    public void submit(final VerbBatch batch, final int part)
    {
        batch.partCompleted(part, failure());
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        return CompletableFuture.failedFuture(failure());
    }

    @Override
    public VerbCounters counters()
    {
        return counters;
    }

    @Override
    public boolean isOpen()
    {
        return false;
    }

    @Override
    public void close()
    {
    }

    private ConnectionException failure()
    {
        return new ConnectionException("memory node " + node.name() + " failed: the cluster no longer has it");
    }
}
