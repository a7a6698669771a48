package io.dmkv.rdma.transport.tcp;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.security.RefusalLog;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.server.MemoryNodeService;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;

/**
 * Serves a memory node's verbs and RPCs over tcp (Netty). Each connection's frames are handled
 * in order on one event loop, which is what gives the transport RDMA RC's in-order completion.
 * A bad client gets an error frame and a closed connection; the server goes on.
 */
public final class TcpVerbsServer implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(TcpVerbsServer.class);
    /** How long a new connection may take to say hello before it is closed. */
    static final long HELLO_TIMEOUT_MS = 10_000;
    /** A refusal (hello, verb, bad frame) is logged at most once per peer host in this many seconds. */
    static final long REFUSAL_LOG_PERIOD_S = 60;

    private final MemoryNodeService service;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel listener;
    private final int maxFrame;
    private final LongAdder connections = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();
    private final LongAdder answersDirect = new LongAdder();
    private final LongAdder answersSplit = new LongAdder();
    private final RefusalLog helloRefusals;
    private final RefusalLog verbRefusals;
    private final RefusalLog errors;

    private TcpVerbsServer(final MemoryNodeService service, final String host, final int port, final int maxFrame,
        final int ioThreads, final SslContext tls)
    {
        this.service = service;
        this.maxFrame = maxFrame;
        this.helloRefusals = new RefusalLog(LOG, REFUSAL_LOG_PERIOD_S, TimeUnit.SECONDS);
        this.verbRefusals = new RefusalLog(LOG, REFUSAL_LOG_PERIOD_S, TimeUnit.SECONDS);
        this.errors = new RefusalLog(LOG, REFUSAL_LOG_PERIOD_S, TimeUnit.SECONDS);
        this.boss = TcpIo.group(1, "dmkv-mn-accept-" + service.name());
        this.workers = TcpIo.group(ioThreads, "dmkv-mn-io-" + service.name());
        final ServerBootstrap b = new ServerBootstrap()
            .group(boss, workers)
            .channel(TcpIo.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.ALLOCATOR, TcpIo.ALLOCATOR)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    connections.increment();
                    if (tls != null)
                    {
                        ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                    }
                    ch.pipeline().addLast(HelloGuard.NAME, HelloGuard.server());
                    ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(maxFrame, 0,
                        TcpFrames.LENGTH_FIELD, 0, TcpFrames.LENGTH_FIELD));
                    ch.pipeline().addLast("verbs", new TcpServerHandler(TcpVerbsServer.this));
                    ch.eventLoop().schedule(() ->
                    {
                        final TcpServerHandler h = (TcpServerHandler)ch.pipeline().get("verbs");
                        if (h != null && !h.helloDone() && ch.isActive())
                        {
                            LOG.warn("{}: closing {} which sent no hello in {} ms", service.name(), ch.remoteAddress(),
                                HELLO_TIMEOUT_MS);
                            ch.close();
                        }
                    }, HELLO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                }
            });
        try
        {
            this.listener = b.bind(host, port).syncUninterruptibly().channel();
        }
        catch (final Exception e)
        {
            // Exception: Netty rethrows a checked exception of the bind (BindException on NIO, a
            // NativeIoException on epoll) as it is.
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new ConnectionException("memory node " + service.name() + " cannot listen on " + host + ":" + port
                + ": " + e.getMessage(), asBindException(e));
        }
    }

    /** An address in use as NIO reports it (a {@link BindException}), whichever transport found it. */
    private static Throwable asBindException(final Exception e)
    {
        if (e instanceof BindException || !String.valueOf(e.getMessage()).contains("Address already in use"))
        {
            return e;
        }
        final BindException bind = new BindException(e.getMessage());
        bind.initCause(e);
        return bind;
    }

    /** Starts serving {@code service} on {@code host:port} (port 0: any free port). */
    public static TcpVerbsServer start(final MemoryNodeService service, final String host, final int port)
    {
        return start(service, host, port, TcpFrames.DEFAULT_MAX_FRAME, TcpIo.defaultIoThreads());
    }

    /** With the default frame limit and threads, and TLS with {@code tls}'s server side (null: plain tcp). */
    public static TcpVerbsServer start(final MemoryNodeService service, final String host, final int port,
        final TlsConfig tls)
    {
        return start(service, host, port, TcpFrames.DEFAULT_MAX_FRAME, TcpIo.defaultIoThreads(),
            tls == null ? null : tls.serverContext());
    }

    public static TcpVerbsServer start(final MemoryNodeService service, final String host, final int port,
        final int maxFrame, final int ioThreads)
    {
        return start(service, host, port, maxFrame, ioThreads, null);
    }

    /** As above, with TLS on every connection when {@code tls} is not null. */
    public static TcpVerbsServer start(final MemoryNodeService service, final String host, final int port,
        final int maxFrame, final int ioThreads, final SslContext tls)
    {
        if (maxFrame < 1024)
        {
            throw new IllegalArgumentException("max frame must be at least 1024 bytes: " + maxFrame);
        }
        if (ioThreads < 1)
        {
            throw new IllegalArgumentException("io threads must be at least 1: " + ioThreads);
        }
        return new TcpVerbsServer(service, host, port, maxFrame, ioThreads, tls);
    }

    public MemoryNodeService service()
    {
        return service;
    }

    public int port()
    {
        return ((InetSocketAddress)listener.localAddress()).getPort();
    }

    public String host()
    {
        return ((InetSocketAddress)listener.localAddress()).getHostString();
    }

    /** {@code host:port} as clients should name this node. */
    public String endpoint()
    {
        final InetSocketAddress a = (InetSocketAddress)listener.localAddress();
        final String h = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return h + ":" + a.getPort();
    }

    int maxFrame()
    {
        return maxFrame;
    }

    void protocolError(final SocketAddress peer, final String why)
    {
        protocolErrors.increment();
        errors.refused(peer, service.name() + ": closed a connection: " + why);
    }

    void helloRefused(final SocketAddress peer, final String why)
    {
        helloRefusals.refused(peer, service.name() + ": refused a hello (" + why + ")");
    }

    void verbRefused(final SocketAddress peer, final String why)
    {
        verbRefusals.refused(peer, why);
    }

    /** Hellos refused: bad versions, failed authentication, not a dmkv client. */
    public long refusedHellos()
    {
        return helloRefusals.count();
    }

    /** Verbs refused (unknown region or key, bounds, alignment). */
    public long refusedVerbs()
    {
        return verbRefusals.count();
    }

    public long connectionsAccepted()
    {
        return connections.sum();
    }

    /** Connections closed for sending something that is not a valid frame. */
    public long protocolErrors()
    {
        return protocolErrors.sum();
    }

    /** RPC answers written to the socket by the thread that completed them ({@link TcpAnswerWire}). */
    long answersDirect()
    {
        return answersDirect.sum();
    }

    /** Of those, answers the socket did not take whole, whose rest the event loop wrote. */
    long answersSplit()
    {
        return answersSplit.sum();
    }

    /** Counts an RPC answer written directly; {@code split}: the socket did not take all of it. */
    void answeredDirect(final boolean split)
    {
        answersDirect.increment();
        if (split)
        {
            answersSplit.increment();
        }
    }

    /** Stops listening and closes every connection. The service (memory) stays with its owner. */
    @Override
    public void close()
    {
        listener.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
