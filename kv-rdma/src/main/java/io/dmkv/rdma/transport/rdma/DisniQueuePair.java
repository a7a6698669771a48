package io.dmkv.rdma.transport.rdma;

import static io.dmkv.rdma.transport.rdma.IbvSendWrDescriptor.IBV_ACCESS_LOCAL_WRITE;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.agrona.BufferUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ibm.disni.RdmaEndpointGroup;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCRegMr;

import io.dmkv.rdma.ConnectionException;

/**
 * A connected DiSNI RC queue pair with its own completion queue (passive endpoint group: nothing
 * polls it but dmkv's poller) and registered staging memory. Chains of n work requests are built
 * on first use and kept for the life of the queue pair.
 */
final class DisniQueuePair implements RdmaQueuePair
{
    private static final Logger LOG = LoggerFactory.getLogger(DisniQueuePair.class);

    private final RdmaVerbsEndpoint endpoint;
    private final String peer;
    private final ByteBuffer staging;
    private final long stagingAddress;
    private final IbvMr stagingMr;
    private final IbvWC[] completions;
    private final SVCPollCq pollCall;
    private final DisniWorkRequests[] chains;

    private DisniQueuePair(final RdmaVerbsEndpoint endpoint, final String peer, final ByteBuffer staging,
        final IbvMr stagingMr, final IbvWC[] completions, final SVCPollCq pollCall, final int maxWrPerPost)
    {
        this.endpoint = endpoint;
        this.peer = peer;
        this.staging = staging;
        this.stagingAddress = BufferUtil.address(staging);
        this.stagingMr = stagingMr;
        this.completions = completions;
        this.pollCall = pollCall;
        this.chains = new DisniWorkRequests[maxWrPerPost + 1];
    }

    /**
     * Connects a new endpoint of {@code group} to {@code address} within {@code timeout}, then
     * registers staging memory and checks DiSNI's work-request layout once.
     */
    static DisniQueuePair connect(final RdmaEndpointGroup<RdmaVerbsEndpoint> group, final InetSocketAddress address,
        final Duration timeout, final RdmaOptions options)
    {
        final String peer = address.getHostString() + ":" + address.getPort();
        final RdmaVerbsEndpoint endpoint;
        try
        {
            endpoint = group.createEndpoint();
        }
        catch (final IOException e)
        {
            throw new ConnectionException("cannot create an rdma endpoint for " + peer + ": " + e.getMessage(), e);
        }
        awaitConnected(endpoint, address, peer, timeout, options.cmTimeoutMs());

        final ByteBuffer staging = ByteBuffer.allocateDirect(options.stagingBytes()).order(ByteOrder.LITTLE_ENDIAN);
        final IbvMr mr;
        try
        {
            final SVCRegMr reg = endpoint.getPd().regMr(BufferUtil.address(staging), staging.capacity(),
                IBV_ACCESS_LOCAL_WRITE);
            mr = reg.execute().getMr();
            reg.free();
        }
        catch (final IOException | RuntimeException e)
        {
            closeEndpoint(endpoint, peer);
            throw new ConnectionException("cannot register " + staging.capacity() + " bytes of rdma staging memory for "
                + peer + " (" + e.getMessage() + "): is the locked-memory limit (ulimit -l) too low? See "
                + RdmaSupport.DOCS, e);
        }
        try
        {
            final IbvWC[] wcs = new IbvWC[POLL_BATCH];
            for (int i = 0; i < wcs.length; i++)
            {
                wcs[i] = new IbvWC();
            }
            final SVCPollCq poll = endpoint.getCqProvider().getCQ().poll(wcs, wcs.length);
            final DisniQueuePair qp = new DisniQueuePair(endpoint, peer, staging, mr, wcs, poll, options.maxWrPerPost());
            // Build (and so check) the longest chain now: a DiSNI mismatch fails the connect, not a batch.
            qp.workRequests(options.maxWrPerPost());
            return qp;
        }
        catch (final IOException | RuntimeException e)
        {
            closeEndpoint(endpoint, peer);
            deregister(mr, peer);
            throw new ConnectionException("rdma connection to " + peer + " is up but cannot be used: " + e.getMessage(),
                e);
        }
    }

    /**
     * DiSNI's connect waits without bound on some rdma_cm failures, so it runs on its own thread:
     * the endpoint interrupts it when rdma_cm reports a failure, and this caller gives up at the timeout.
     */
    private static void awaitConnected(final RdmaVerbsEndpoint endpoint, final InetSocketAddress address,
        final String peer, final Duration timeout, final int cmTimeoutMs)
    {
        final CompletableFuture<Void> connected = new CompletableFuture<>();
        final Thread connector = new Thread(() ->
        {
            try
            {
                endpoint.connect(address, cmTimeoutMs);
                connected.complete(null);
            }
            catch (final Throwable t)
            {
                connected.completeExceptionally(t);
            }
        }, "dmkv-rdma-connect-" + peer);
        connector.setDaemon(true);
        endpoint.waiter(connector);
        connector.start();
        try
        {
            connected.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        catch (final TimeoutException e)
        {
            abandon(endpoint, connector, peer, cmTimeoutMs);
            throw new ConnectionException("rdma connect to " + peer + " did not complete within " + timeout
                + (endpoint.failure() != null ? " (rdma_cm: " + endpoint.failure() + ")" : "")
                + ": is the memory node's rdma listener up, and is " + address.getHostString()
                + " an address of an RDMA interface on both sides?");
        }
        catch (final ExecutionException e)
        {
            abandon(endpoint, connector, peer, cmTimeoutMs);
            final String failure = endpoint.failure();
            throw new ConnectionException("rdma connect to " + peer + " failed: " + (failure != null
                ? "rdma_cm reported " + failure : String.valueOf(e.getCause())), e.getCause());
        }
        catch (final InterruptedException e)
        {
            abandon(endpoint, connector, peer, cmTimeoutMs);
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while connecting over rdma to " + peer);
        }
        finally
        {
            endpoint.waiter(null);
        }
    }

    private static void abandon(final RdmaVerbsEndpoint endpoint, final Thread connector, final String peer,
        final int cmTimeoutMs)
    {
        connector.interrupt();
        try
        {
            connector.join(cmTimeoutMs);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        closeEndpoint(endpoint, peer);
    }

    @Override
    public WorkRequestList workRequests(final int n) throws IOException
    {
        DisniWorkRequests chain = chains[n];
        if (chain == null)
        {
            final int lkey = stagingMr.getLkey();
            chain = DisniWorkRequests.of(endpoint.postSend(DisniWorkRequests.templates(n, stagingAddress, lkey)), n,
                stagingAddress, lkey);
            chains[n] = chain;
        }
        return chain;
    }

    @Override
    public int poll(final long[] wrIds, final int[] statuses) throws IOException
    {
        final int n = pollCall.execute().getPolls();
        for (int k = 0; k < n; k++)
        {
            final IbvWC wc = completions[k];
            wrIds[k] = wc.getWr_id();
            statuses[k] = wc.getStatus();
        }
        return n;
    }

    @Override
    public ByteBuffer staging()
    {
        return staging;
    }

    @Override
    public long stagingAddress()
    {
        return stagingAddress;
    }

    @Override
    public int stagingLkey()
    {
        return stagingMr.getLkey();
    }

    /** Destroys the queue pair first, so the NIC stops touching staging before it is deregistered. */
    @Override
    public void close()
    {
        closeEndpoint(endpoint, peer);
        deregister(stagingMr, peer);
        for (final DisniWorkRequests chain : chains)
        {
            if (chain != null)
            {
                chain.free();
            }
        }
        pollCall.free();
    }

    private static void closeEndpoint(final RdmaVerbsEndpoint endpoint, final String peer)
    {
        try
        {
            endpoint.close();
        }
        catch (final IOException | RuntimeException e)
        {
            LOG.warn("closing the rdma endpoint to {} failed: {}", peer, e.toString());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        try
        {
            // DiSNI's passive group gives each endpoint its own completion queue and never destroys it.
            if (endpoint.getCqProvider() != null)
            {
                endpoint.getCqProvider().close();
            }
        }
        catch (final IOException | RuntimeException e)
        {
            LOG.warn("destroying the completion queue of {} failed: {}", peer, e.toString());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void deregister(final IbvMr mr, final String peer)
    {
        if (mr == null)
        {
            return;
        }
        try
        {
            mr.deregMr().execute().free();
        }
        catch (final IOException | RuntimeException e)
        {
            LOG.warn("deregistering staging memory for {} failed: {}", peer, e.toString());
        }
    }
}
