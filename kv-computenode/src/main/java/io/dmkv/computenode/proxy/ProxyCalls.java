package io.dmkv.computenode.proxy;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTimeoutException;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * This compute node's connections to other proxies' ports (tcp, whatever the memory nodes'
 * transport: the proxy port is always tcp), opened on first use and again after one broke.
 */
final class ProxyCalls implements AutoCloseable
{
    private final TcpVerbsTransport transport = new TcpVerbsTransport();
    private final ClientOptions options;
    private final Map<String, VerbsChannel> channels = new ConcurrentHashMap<>();
    private final LongAdder rpcs = new LongAdder();

    ProxyCalls(final ClientOptions options)
    {
        this.options = options;
    }

    /** The request never left: the proxy could not be reached (a write's outcome is known: not applied). */
    static final class NotDelivered extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        NotDelivered(final String message, final Throwable cause)
        {
            super(message, cause);
        }
    }

    /**
     * Calls {@code method} on the proxy at {@code endpoint} and waits for its reply.
     *
     * @throws NotDelivered        when no connection to the proxy could be made.
     * @throws HandshakeException  when the proxy refused this node's hello (a configuration error).
     * @throws VerbsException      when the request was sent but not answered in the request
     *                             timeout (the outcome of a write is then unknown to the caller).
     */
    ProxyRpc.Reply call(final String endpoint, final int method, final ByteBuffer request)
    {
        VerbsChannel c = channels.get(endpoint);
        if (c == null || !c.isOpen())
        {
            if (c != null)
            {
                channels.remove(endpoint, c);
                c.close();
            }
            try
            {
                c = channels.computeIfAbsent(endpoint, e -> transport.connect(e, options));
            }
            catch (final ConnectionException e)
            {
                throw new NotDelivered("proxy " + endpoint + " cannot be reached: " + e.getMessage(), e);
            }
        }
        rpcs.increment();
        ThreadCounters.current().countRpc(request.remaining());
        try
        {
            return ProxyRpc.parseReply(c.rpc(method, request).get(options.requestTimeout().toNanos(),
                TimeUnit.NANOSECONDS));
        }
        catch (final TimeoutException e)
        {
            throw new VerbsTimeoutException("proxy " + endpoint + " did not answer in " + options.requestTimeout());
        }
        catch (final ExecutionException e)
        {
            if (e.getCause() instanceof VerbsException v)
            {
                throw v;
            }
            throw new ConnectionException("proxy " + endpoint + ": " + e.getCause(), e.getCause());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new ConnectionException("interrupted while calling proxy " + endpoint, e);
        }
    }

    /**
     * The call without waiting, when a connection to the proxy is open; null when there is none
     * yet (connecting blocks: the caller takes its blocking path).
     */
    java.util.concurrent.CompletableFuture<ProxyRpc.Reply> callAsync(final String endpoint, final int method,
        final ByteBuffer request, final ThreadCounters attributeTo)
    {
        final VerbsChannel c = channels.get(endpoint);
        if (c == null || !c.isOpen())
        {
            return null;
        }
        rpcs.increment();
        attributeTo.countRpc(request.remaining());
        return c.rpc(method, request).thenApply(ProxyRpc::parseReply);
    }

    /** The open connection to the proxy at {@code endpoint}, or null (connecting blocks: see {@link #call}). */
    VerbsChannel open(final String endpoint)
    {
        final VerbsChannel c = channels.get(endpoint);
        return c != null && c.isOpen() ? c : null;
    }

    /** RPCs sent to other proxies. */
    long rpcs()
    {
        return rpcs.sum();
    }

    @Override
    public void close()
    {
        channels.values().forEach(VerbsChannel::close);
        channels.clear();
        transport.close();
    }
}
