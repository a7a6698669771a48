package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_ACCESS_LOCAL_WRITE;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_ACCESS_REMOTE_ATOMIC;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_ACCESS_REMOTE_READ;
import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_ACCESS_REMOTE_WRITE;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.SVCRegMr;

import io.dmkv.rdma.TransportUnavailableException;
import io.dmkv.rdma.security.RefusalLog;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;

/**
 * The memory node's side of the {@code rdma} transport. It registers every region of a
 * {@link MemoryNodeService} with the RNIC, accepts RC connections, and publishes the port, the
 * regions' addresses and their rkeys through {@link MemoryNodeService#rdmaRegistered}, so the
 * node's tcp hello tells clients where to connect. After that the CPU does nothing per verb:
 * READ, WRITE, CAS and FAA are served by the NIC.
 *
 * <p>Regions are registered by virtual address ({@code IbvPd.regMr(address, length, access)})
 * straight from the region's off-heap memory, with LOCAL_WRITE, REMOTE_READ, REMOTE_WRITE and
 * REMOTE_ATOMIC: DiSNI's endpoint default lacks REMOTE_ATOMIC, without which every CAS and FAA
 * fails with a remote access error. Registration pins the memory, so the locked-memory limit
 * must cover all regions (see {@code docs/rdma.md}).
 *
 * <p>The protection domain is the one DiSNI creates for the device the listening address
 * belongs to; DiSNI shares one per device, so accepted queue pairs use it too. That is why the
 * server binds to one interface address, never the wildcard.
 */
public final class RdmaVerbsServer implements AutoCloseable
{
    /** The access every region is registered with. */
    public static final int REGION_ACCESS = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE
        | IBV_ACCESS_REMOTE_ATOMIC;

    private static final Logger LOG = LoggerFactory.getLogger(RdmaVerbsServer.class);
    private static final int BACKLOG = 128;
    /** Accepted queue pairs post nothing: one-sided verbs are served without receive or send work. */
    private static final int SERVER_QUEUE_DEPTH = 4;

    private final MemoryNodeService service;
    private final String host;
    private final Set<RdmaVerbsEndpoint> connections = ConcurrentHashMap.newKeySet();
    private final List<IbvMr> registrations = new ArrayList<>();
    private final LongAdder accepted = new LongAdder();
    private final RefusalLog refusals = new RefusalLog(LOG, 60, TimeUnit.SECONDS);
    private final Thread acceptor;
    private final ExecutorService reaper;
    private RdmaPassiveEndpointGroup<RdmaVerbsEndpoint> group;
    private RdmaServerEndpoint<RdmaVerbsEndpoint> listener;
    private int port;
    private long[] addresses;
    private int[] rkeys;
    private volatile boolean closed;

    private RdmaVerbsServer(final MemoryNodeService service, final String host)
    {
        this.service = service;
        this.host = host;
        this.acceptor = new Thread(this::acceptLoop, "dmkv-rdma-accept-" + service.name());
        this.acceptor.setDaemon(true);
        this.reaper = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-rdma-reap-" + service.name());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers {@code service}'s regions and listens for rdma connections on {@code host:port}.
     *
     * @param host the IP address (or name) of an RDMA-capable interface: rdma_cm picks the device by it.
     * @param port the port to listen on, 0 for any free port ({@link #port()} tells which).
     * @throws TransportUnavailableException if rdma cannot start here, or the listener or the
     *                                       registration fails; the message says what to fix.
     */
    public static RdmaVerbsServer start(final MemoryNodeService service, final String host, final int port)
    {
        return start(RdmaSupport.probe(), service, host, port, RdmaOptions.defaults());
    }

    /** As {@link #start(MemoryNodeService, String, int)}, with {@code options}' connection-manager timeout. */
    public static RdmaVerbsServer start(final MemoryNodeService service, final String host, final int port,
        final RdmaOptions options)
    {
        return start(RdmaSupport.probe(), service, host, port, options);
    }

    static RdmaVerbsServer start(final RdmaSupport support, final MemoryNodeService service, final String host,
        final int port, final RdmaOptions options)
    {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65_535)
        {
            throw new IllegalArgumentException("rdma port must be in 0..65535: " + port);
        }
        support.requireAvailable("the rdma server of memory node " + service.name());
        final InetAddress address = bindAddress(host);
        final RdmaVerbsServer server = new RdmaVerbsServer(service, host);
        try
        {
            server.listen(new InetSocketAddress(address, port), options);
            server.register();
        }
        catch (final RuntimeException e)
        {
            server.release();
            throw e;
        }
        service.rdmaRegistered(server.port, server.addresses, server.rkeys);
        server.acceptor.start();
        LOG.info("memory node {} serves rdma on {}:{} ({} regions registered)", service.name(), host, server.port,
            server.registrations.size());
        return server;
    }

    /** The port clients connect their queue pairs to. */
    public int port()
    {
        return port;
    }

    /** The address the listener is bound to, as given. */
    public String host()
    {
        return host;
    }

    /** {@code host:port} of the rdma listener. */
    public String endpoint()
    {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** The memory node whose regions this server registered. */
    public MemoryNodeService service()
    {
        return service;
    }

    /** Connections accepted since start. */
    public long connectionsAccepted()
    {
        return accepted.sum();
    }

    /** Connections open now. */
    public int connections()
    {
        return connections.size();
    }

    /**
     * Stops serving: unpublishes the registration (hellos say rdma port 0 again), disconnects every
     * client queue pair, then deregisters the regions. Call before closing the service.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final int n = service.regions().count();
        service.rdmaRegistered(0, new long[n], new int[n]);
        acceptor.interrupt();
        try
        {
            acceptor.join(TimeUnit.SECONDS.toMillis(2));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        release();
    }

    private void listen(final InetSocketAddress address, final RdmaOptions options)
    {
        try
        {
            group = new RdmaPassiveEndpointGroup<>(options.cmTimeoutMs(), SERVER_QUEUE_DEPTH, 1, SERVER_QUEUE_DEPTH);
            group.init((id, serverSide) ->
            {
                final RdmaVerbsEndpoint endpoint = new RdmaVerbsEndpoint(group, id, serverSide);
                if (serverSide)
                {
                    // Until ESTABLISHED, a failure of this connection must wake the acceptor out of DiSNI's accept.
                    endpoint.waiter(acceptor);
                    endpoint.onDisconnect(this::reap);
                    connections.add(endpoint);
                }
                return endpoint;
            });
            listener = group.createServerEndpoint();
            listener.bind(address, BACKLOG);
            final SocketAddress bound = listener.getSrcAddr();
            port = bound instanceof InetSocketAddress && ((InetSocketAddress)bound).getPort() != 0
                ? ((InetSocketAddress)bound).getPort() : address.getPort();
        }
        catch (final Exception e)
        {
            throw new TransportUnavailableException("memory node " + service.name() + " cannot listen for rdma on "
                + address + " (" + e + "): is it the address of an RDMA interface, and is the port free? See "
                + RdmaSupport.DOCS, e);
        }
        if (port == 0)
        {
            throw new TransportUnavailableException("memory node " + service.name() + ": the rdma listener on "
                + address + " did not report its port");
        }
    }

    private void register()
    {
        final IbvPd pd = listener.getPd();
        final int n = service.regions().count();
        addresses = new long[n];
        rkeys = new int[n];
        for (final MemoryRegion region : service.regions().regions())
        {
            try
            {
                final SVCRegMr call = pd.regMr(region.address(), region.length(), REGION_ACCESS);
                final IbvMr mr = call.execute().getMr();
                call.free();
                registrations.add(mr);
                addresses[region.id()] = mr.getAddr();
                rkeys[region.id()] = mr.getRkey();
            }
            catch (final IOException | RuntimeException e)
            {
                throw new TransportUnavailableException("memory node " + service.name() + " cannot register region "
                    + region.id() + " (" + region.length() + " bytes at 0x" + Long.toHexString(region.address())
                    + ") with the RNIC (" + e.getMessage() + "): raise the locked-memory limit (ulimit -l, "
                    + "/etc/security/limits.conf) to cover every region; see " + RdmaSupport.DOCS, e);
            }
        }
    }

    private void acceptLoop()
    {
        while (!closed)
        {
            try
            {
                final RdmaVerbsEndpoint endpoint = listener.accept();
                accepted.increment();
                final SocketAddress peer = endpoint.getDstAddr();
                if (!service.admitsQueuePairFrom(peer))
                {
                    // rdma_cm authenticates nobody: a queue pair is for hosts that passed the hello.
                    refusals.refused(peer, "memory node " + service.name() + " refused an rdma queue pair: its host"
                        + " has no authenticated control connection open");
                    reap(endpoint);
                }
            }
            catch (final IOException | RuntimeException e)
            {
                // DiSNI wraps our interrupt (a failed handshake, or close) in an IOException.
                if (closed)
                {
                    return;
                }
                Thread.interrupted();
                LOG.debug("memory node {}: an rdma handshake failed: {}", service.name(), e.toString());
                for (final RdmaVerbsEndpoint endpoint : connections)
                {
                    // Only endpoints DiSNI already took out of its accept queue (they have a queue pair):
                    // destroying one still queued would hand DiSNI a freed rdma_cm id later.
                    if (endpoint.failure() != null && !endpoint.isConnected() && endpoint.getQp() != null)
                    {
                        reap(endpoint);
                    }
                }
            }
        }
    }

    /** Frees a disconnected client's queue pair off DiSNI's connection-manager thread. */
    private void reap(final RdmaVerbsEndpoint endpoint)
    {
        if (connections.remove(endpoint))
        {
            try
            {
                reaper.execute(() -> closeEndpoint(endpoint));
            }
            catch (final RuntimeException e)
            {
                closeEndpoint(endpoint);
            }
        }
    }

    private void closeEndpoint(final RdmaVerbsEndpoint endpoint)
    {
        try
        {
            endpoint.close();
            if (endpoint.getCqProvider() != null)
            {
                endpoint.getCqProvider().close();
            }
        }
        catch (final IOException | RuntimeException e)
        {
            LOG.debug("memory node {}: closing an rdma connection failed: {}", service.name(), e.toString());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Queue pairs first, then registrations: no client may touch memory being deregistered. */
    private void release()
    {
        if (listener != null)
        {
            try
            {
                listener.close();
            }
            catch (final IOException | RuntimeException e)
            {
                LOG.debug("closing the rdma listener failed: {}", e.toString());
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
        reaper.shutdown();
        try
        {
            reaper.awaitTermination(2, TimeUnit.SECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        for (final RdmaVerbsEndpoint endpoint : connections)
        {
            closeEndpoint(endpoint);
        }
        connections.clear();
        for (final IbvMr mr : registrations)
        {
            try
            {
                mr.deregMr().execute().free();
            }
            catch (final IOException | RuntimeException e)
            {
                LOG.warn("memory node {}: deregistering a region failed: {}", service.name(), e.toString());
            }
        }
        registrations.clear();
        if (group != null)
        {
            try
            {
                group.close();
            }
            catch (final IOException | RuntimeException e)
            {
                LOG.debug("closing the DiSNI endpoint group failed: {}", e.toString());
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static InetAddress bindAddress(final String host)
    {
        final InetAddress address;
        try
        {
            address = InetAddress.getByName(host);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalArgumentException("cannot resolve rdma listen address '" + host + "'", e);
        }
        if (address.isAnyLocalAddress())
        {
            throw new IllegalArgumentException("the rdma server needs the address of an RDMA interface, not the "
                + "wildcard " + host + ": rdma_cm picks the device (and so the protection domain) by address");
        }
        return address;
    }
}
