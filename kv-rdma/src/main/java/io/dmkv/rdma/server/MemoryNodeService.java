package io.dmkv.rdma.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcHandler;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.security.ClusterSecret;

/**
 * What a memory node serves, whatever the transport: its regions, its RPC methods and its hello
 * policy. Servers (tcp, rdma) and the in-JVM registry (local) expose one service each.
 */
public final class MemoryNodeService implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(MemoryNodeService.class);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String name;
    private final RegionTable regions;
    private final int layoutVersion;
    private final Map<Integer, RpcHandler> handlers = new ConcurrentHashMap<>();
    private final Map<Integer, InlineRpcHandler> inline = new ConcurrentHashMap<>();
    private final ExecutorService rpcWorkers;
    private volatile ClusterSecret secret;
    /** Hosts with an authenticated control connection open, and how many each has. */
    private final Map<InetAddress, AtomicInteger> authenticatedHosts = new ConcurrentHashMap<>();
    private volatile long[] rdmaAddresses;
    private volatile int[] rdmaKeys;
    private volatile int rdmaPort;

    public MemoryNodeService(final String name, final RegionTable regions, final int layoutVersion)
    {
        this(name, regions, layoutVersion, 2);
    }

    /** @param rpcThreads workers that run the RPC handlers (they may block briefly). */
    public MemoryNodeService(final String name, final RegionTable regions, final int layoutVersion,
        final int rpcThreads)
    {
        this.name = Objects.requireNonNull(name, "name");
        this.regions = Objects.requireNonNull(regions, "regions");
        this.layoutVersion = layoutVersion;
        final int id = IDS.incrementAndGet();
        this.rpcWorkers = Executors.newFixedThreadPool(rpcThreads, r ->
        {
            final Thread t = new Thread(r, "dmkv-rpc-" + name + "-" + id);
            t.setDaemon(true);
            return t;
        });
    }

    public String name()
    {
        return name;
    }

    public RegionTable regions()
    {
        return regions;
    }

    public int layoutVersion()
    {
        return layoutVersion;
    }

    /** Registers the handler of RPC {@code method}, replacing any earlier one. */
    public MemoryNodeService handle(final int method, final RpcHandler handler)
    {
        handlers.put(method, Objects.requireNonNull(handler, "handler"));
        return this;
    }

    /**
     * An RPC method's first try, on the thread that received the request (a network thread): it
     * must not block. It answers with a future (completed now or later, from any thread), or with
     * null to pass the request on to the method's {@link RpcHandler} on a worker thread.
     */
    @FunctionalInterface
    public interface InlineRpcHandler
    {
        CompletableFuture<ByteBuffer> tryHandle(ByteBuffer request);
    }

    /** Registers the inline first try of RPC {@code method} (its {@link #handle} handler takes what it passes on). */
    public MemoryNodeService handleInline(final int method, final InlineRpcHandler handler)
    {
        inline.put(method, Objects.requireNonNull(handler, "handler"));
        return this;
    }

    /**
     * Requires every peer to prove it holds {@code clusterSecret} in the hello before it learns
     * anything (null: no authentication; anyone who reaches the node may use its memory).
     */
    public MemoryNodeService secret(final ClusterSecret clusterSecret)
    {
        secret = clusterSecret;
        return this;
    }

    /** The cluster secret hellos must prove, or null. */
    public ClusterSecret secret()
    {
        return secret;
    }

    /**
     * Notes that a peer at {@code peer} passed the hello's authentication on a connection that
     * stays open until the returned action runs. The rdma listener admits queue pairs only from
     * such hosts ({@link #admitsQueuePairFrom}).
     */
    public Runnable authenticated(final SocketAddress peer)
    {
        final InetAddress host = peer instanceof InetSocketAddress i ? i.getAddress() : null;
        if (host == null)
        {
            return () -> { };
        }
        authenticatedHosts.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
        return () -> authenticatedHosts.computeIfPresent(host, (h, n) -> n.decrementAndGet() == 0 ? null : n);
    }

    /**
     * Whether a queue pair from {@code peer} may connect: always without a secret; with one, only
     * while that host holds an authenticated control connection (rdma_cm itself authenticates
     * nobody; docs/security.md).
     */
    public boolean admitsQueuePairFrom(final SocketAddress peer)
    {
        return secret == null
            || peer instanceof InetSocketAddress i && i.getAddress() != null && authenticatedHosts.containsKey(i.getAddress());
    }

    /** Records how an rdma server registered the regions, for the hello. */
    public void rdmaRegistered(final int port, final long[] addresses, final int[] keys)
    {
        rdmaAddresses = addresses.clone();
        rdmaKeys = keys.clone();
        rdmaPort = port;
    }

    public int rdmaPort()
    {
        return rdmaPort;
    }

    public List<RegionInfo> regionInfos()
    {
        return regions.infos(rdmaAddresses, rdmaKeys);
    }

    public String shmFile()
    {
        return regions.shmFile() == null ? "" : regions.shmFile().toAbsolutePath().toString();
    }

    /**
     * Returns null when a hello's versions allow it to proceed, else why it is refused. The answer
     * goes to a peer that may not be authenticated yet, so it names no more than the versions.
     */
    public String checkHello(final int magic, final int protocol, final int layout)
    {
        if (magic != ProtocolVersion.MAGIC)
        {
            return "not a dmkv client (bad hello magic 0x" + Integer.toHexString(magic) + ")";
        }
        if (protocol != ProtocolVersion.PROTOCOL)
        {
            return "protocol version mismatch: the memory node speaks " + ProtocolVersion.PROTOCOL
                + ", the client speaks " + protocol;
        }
        if (layout != layoutVersion)
        {
            return "layout version mismatch: the memory node has layout " + layoutVersion + ", the client expects "
                + layout;
        }
        if (regions.isRevoked())
        {
            return io.dmkv.rdma.HandshakeException.FENCED + ": it lost touch with the coordinator and refuses clients until it is"
                + " back in the cluster";
        }
        return null;
    }

    /**
     * Runs RPC {@code method} on a worker thread. The future completes with the response, or
     * with an {@link RpcException} carrying the status to answer with.
     */
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        final InlineRpcHandler first = inline.get(method);
        if (first != null)
        {
            try
            {
                final CompletableFuture<ByteBuffer> answered = first.tryHandle(request);
                if (answered != null)
                {
                    return answered;
                }
            }
            catch (final RpcException e)
            {
                return CompletableFuture.failedFuture(e);
            }
            catch (final RuntimeException e)
            {
                LOG.warn("RPC {} failed on memory node {}", method, name, e);
                return CompletableFuture.failedFuture(new RpcException(RpcStatus.FAILED,
                    "RPC " + method + " failed on memory node " + name + ": " + e));
            }
        }
        final RpcHandler h = handlers.get(method);
        if (h == null)
        {
            return CompletableFuture.failedFuture(new RpcException(RpcStatus.UNKNOWN_METHOD,
                "memory node " + name + " has no RPC method " + method));
        }
        final CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
        try
        {
            rpcWorkers.execute(() ->
            {
                try
                {
                    f.complete(h.handle(request));
                }
                catch (final RpcException e)
                {
                    f.completeExceptionally(e);
                }
                catch (final RuntimeException e)
                {
                    LOG.warn("RPC {} failed on memory node {}", method, name, e);
                    f.completeExceptionally(new RpcException(RpcStatus.FAILED,
                        "RPC " + method + " failed on memory node " + name + ": " + e));
                }
            });
        }
        catch (final RejectedExecutionException e)
        {
            f.completeExceptionally(new RpcException(RpcStatus.FAILED, "memory node " + name + " is shutting down"));
        }
        return f;
    }

    /** Stops the RPC workers and frees the memory. Stop the servers first. */
    @Override
    public void close()
    {
        rpcWorkers.shutdownNow();
        regions.close();
    }
}
