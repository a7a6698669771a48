package io.dmkv.computenode;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;

/**
 * A channel over a real one, for test transports that step into the verbs a client sends (hold a
 * part, refuse one): everything goes to the real channel except what a subclass does in
 * {@link #submit}, which ends by calling {@code real().submit} or completing the part itself.
 */
public abstract class ForwardingChannel implements VerbsChannel
{
    private final VerbsChannel real;
    private final List<RemoteRegion> regions = new ArrayList<>();

    protected ForwardingChannel(final VerbsChannel real)
    {
        this.real = real;
        // Batches route by each region's channel: the regions must name this wrapper.
        for (final RemoteRegion r : real.regions())
        {
            regions.add(new RemoteRegion(this, r.info()));
        }
    }

    /** The channel underneath. */
    protected final VerbsChannel real()
    {
        return real;
    }

    @Override
    public abstract void submit(VerbBatch batch, int part);

    @Override
    public MemoryNodeInfo node()
    {
        return real.node();
    }

    @Override
    public List<RemoteRegion> regions()
    {
        return regions;
    }

    @Override
    public RemoteRegion region(final int regionId)
    {
        return regions.get(regionId);
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        return real.rpc(method, request);
    }

    @Override
    public VerbCounters counters()
    {
        return real.counters();
    }

    @Override
    public boolean isOpen()
    {
        return real.isOpen();
    }

    @Override
    public void close()
    {
        real.close();
    }
}
