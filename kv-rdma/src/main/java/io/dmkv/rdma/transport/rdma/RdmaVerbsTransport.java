package io.dmkv.rdma.transport.rdma;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.agrona.concurrent.AgentRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.transport.Endpoints;
import io.dmkv.rdma.transport.control.ControlChannels;

/**
 * The {@code rdma} transport: one-sided verbs over DiSNI RC queue pairs on real RNICs (or
 * Soft-RoCE). A client first connects over tcp to the memory node's daemon, whose hello carries
 * the regions' NIC addresses and rkeys and the node's rdma port; RPCs stay on that tcp channel,
 * and one queue pair per channel connects to {@code host:rdmaPort}.
 *
 * <p>Endpoints come from a DiSNI <em>passive</em> group: nothing in DiSNI polls their completion
 * queues, one poller thread of this transport does, with an Agrona idle strategy. An active group
 * would add a DiSNI thread that blocks on completion events (an interrupt and a wake-up per
 * completion) and then hands each completion to us anyway; polling ourselves saves those
 * microseconds and lets the same thread expire late batches.
 *
 * <p>Constructing the transport where rdma cannot start (no RNIC, no libdisni) throws
 * {@link io.dmkv.rdma.TransportUnavailableException} naming what is missing; see {@code docs/rdma.md}.
 */
public final class RdmaVerbsTransport implements VerbsTransport
{
    /** The transport's name in configuration. */
    public static final String NAME = "rdma";

    private static final Logger LOG = LoggerFactory.getLogger(RdmaVerbsTransport.class);

    private final RdmaOptions options;
    private final QueuePairFactory queuePairs;
    private final RdmaCompletionPoller poller = new RdmaCompletionPoller();
    private final AgentRunner pollerRunner;
    private final ExecutorService releaser;
    private final ControlChannels control;
    private boolean closed;

    /** An rdma transport with default options; hellos and RPCs over a tcp transport of its own. */
    public RdmaVerbsTransport()
    {
        this(RdmaOptions.defaults());
    }

    /** An rdma transport with {@code options}; hellos and RPCs over a tcp transport of its own. */
    public RdmaVerbsTransport(final RdmaOptions options)
    {
        this(options, null);
    }

    /**
     * An rdma transport whose hellos and RPCs go over {@code control} (null: a tcp transport of
     * its own). Takes ownership of {@code control}: it is closed with this transport, and when
     * this constructor fails.
     *
     * @throws io.dmkv.rdma.TransportUnavailableException if rdma cannot start here (see {@link RdmaSupport}).
     */
    public RdmaVerbsTransport(final RdmaOptions options, final VerbsTransport control)
    {
        this(RdmaSupport.probe(), options, control);
    }

    RdmaVerbsTransport(final RdmaSupport support, final RdmaOptions options, final VerbsTransport control)
    {
        this(options, control, () ->
        {
            support.requireAvailable("the rdma transport");
            return new DisniQueuePairFactory(options);
        });
    }

    /** With queue pairs from {@code queuePairs} (tests: a software RNIC); the factory is closed with this. */
    RdmaVerbsTransport(final RdmaOptions options, final VerbsTransport control,
        final Supplier<QueuePairFactory> queuePairs)
    {
        this.options = Objects.requireNonNull(options, "options");
        this.control = new ControlChannels(NAME, control);
        try
        {
            this.queuePairs = queuePairs.get();
        }
        catch (final RuntimeException e)
        {
            this.control.close();
            throw e;
        }
        this.releaser = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-rdma-release");
            t.setDaemon(true);
            return t;
        });
        this.pollerRunner = new AgentRunner(options.idleStrategy().get(),
            t -> LOG.error("rdma completion poller failed", t), null, poller);
        AgentRunner.startOnThread(pollerRunner, r ->
        {
            final Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name()
    {
        return NAME;
    }

    /** The tuning every channel of this transport uses. */
    public RdmaOptions options()
    {
        return options;
    }

    /**
     * Says hello over tcp at {@code endpoint} ({@code host:port} of the memory node daemon), then
     * connects a queue pair to {@code host} at the rdma port from the hello. {@code host} must be
     * an address rdma_cm can route over: the IP of the node's RDMA interface (IPoIB or the RoCE netdev).
     */
    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions clientOptions)
    {
        synchronized (this)
        {
            if (closed)
            {
                throw new ConnectionException("rdma transport is closed");
            }
        }
        final String host = Endpoints.host(endpoint);
        final VerbsChannel hello = control.connect(endpoint, clientOptions);
        try
        {
            final MemoryNodeInfo node = hello.node();
            if (node.rdmaPort() <= 0)
            {
                throw new ConnectionException(node + " serves no rdma (its hello says rdma port 0): start the memory node "
                    + "with its rdma server (RdmaVerbsServer) on an RDMA interface, or use the tcp transport");
            }
            for (final RegionInfo r : node.regions())
            {
                if (r.rdmaAddress() == 0)
                {
                    throw new ConnectionException(node + " did not register region " + r.id() + " with its RNIC");
                }
            }
            final InetSocketAddress address = new InetSocketAddress(host, node.rdmaPort());
            if (address.isUnresolved())
            {
                throw new ConnectionException("cannot resolve " + host + " for rdma to " + node);
            }
            final RdmaQueuePair qp = queuePairs.connect(node, address, clientOptions);
            final RdmaVerbsChannel channel = new RdmaVerbsChannel(hello, qp, clientOptions, options, releaser,
                poller::remove);
            poller.add(channel);
            synchronized (this)
            {
                if (closed)
                {
                    channel.close();
                    throw new ConnectionException("rdma transport was closed while connecting to " + node);
                }
            }
            return channel;
        }
        catch (final RuntimeException e)
        {
            hello.close();
            throw e;
        }
    }

    /** Closes every channel (batches in flight fail), stops the poller and releases DiSNI. */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        for (final RdmaVerbsChannel channel : poller.channels())
        {
            channel.close();
        }
        pollerRunner.close();
        releaser.shutdown();
        try
        {
            releaser.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        queuePairs.close();
        control.close();
    }
}
