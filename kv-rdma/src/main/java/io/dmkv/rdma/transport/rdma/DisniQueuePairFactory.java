package io.dmkv.rdma.transport.rdma;

import java.io.IOException;
import java.net.InetSocketAddress;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ibm.disni.RdmaPassiveEndpointGroup;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.TransportUnavailableException;

/**
 * DiSNI queue pairs from one passive endpoint group: each endpoint gets its own send queue and
 * completion queue of {@link RdmaOptions#sendQueueDepth()} entries, one sge per request.
 */
final class DisniQueuePairFactory implements QueuePairFactory
{
    private static final Logger LOG = LoggerFactory.getLogger(DisniQueuePairFactory.class);

    private final RdmaOptions options;
    private final RdmaPassiveEndpointGroup<RdmaVerbsEndpoint> group;

    /** @throws TransportUnavailableException if DiSNI cannot create its group (rdma_cm unusable). */
    DisniQueuePairFactory(final RdmaOptions options)
    {
        this.options = options;
        try
        {
            final RdmaPassiveEndpointGroup<RdmaVerbsEndpoint> g = new RdmaPassiveEndpointGroup<>(options.cmTimeoutMs(),
                options.sendQueueDepth(), 1, options.sendQueueDepth());
            g.init((id, serverSide) -> new RdmaVerbsEndpoint(g, id, serverSide));
            this.group = g;
        }
        catch (final IOException | RuntimeException | LinkageError e)
        {
            throw new TransportUnavailableException("cannot create a DiSNI endpoint group (" + e + "); see "
                + RdmaSupport.DOCS, e);
        }
    }

    @Override
    public RdmaQueuePair connect(final MemoryNodeInfo node, final InetSocketAddress address,
        final ClientOptions clientOptions)
    {
        return DisniQueuePair.connect(group, address, clientOptions.connectTimeout(), options);
    }

    @Override
    public void close()
    {
        try
        {
            group.close();
        }
        catch (final IOException | RuntimeException e)
        {
            LOG.warn("closing the DiSNI endpoint group failed: {}", e.toString());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
