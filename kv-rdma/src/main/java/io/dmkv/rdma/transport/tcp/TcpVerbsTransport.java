package io.dmkv.rdma.transport.tcp;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsException;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.transport.Endpoints;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;

/**
 * The {@code tcp} transport: verbs framed over Netty to a memory-node daemon, pipelined, one
 * frame per batch part. One event loop group serves all channels of the transport; it runs on
 * native epoll where that loads, NIO elsewhere ({@link TcpIo}).
 */
public final class TcpVerbsTransport implements VerbsTransport
{
    public static final String NAME = "tcp";

    private final EventLoopGroup group;
    private final int maxFrame;
    /** One TLS context per TLS configuration: building one reads and parses the files. */
    private final Map<TlsConfig, SslContext> tlsContexts = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public TcpVerbsTransport()
    {
        this(1, TcpFrames.DEFAULT_MAX_FRAME);
    }

    public TcpVerbsTransport(final int ioThreads, final int maxFrame)
    {
        this.group = TcpIo.group(ioThreads, "dmkv-tcp-client");
        this.maxFrame = maxFrame;
    }

    @Override
    public String name()
    {
        return NAME;
    }

    /** Connects to {@code endpoint} and says hello; returns once the memory node answered it. */
    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        if (closed)
        {
            throw new ConnectionException("tcp transport is closed");
        }
        final String host = Endpoints.host(endpoint);
        final int port = Endpoints.port(endpoint);
        final TcpVerbsChannel c = new TcpVerbsChannel(endpoint, options, maxFrame);
        final SslContext tls = options.tls() == null ? null
            : tlsContexts.computeIfAbsent(options.tls(), TlsConfig::clientContext);
        final long connectMs = options.connectTimeout().toMillis();
        final Bootstrap b = new Bootstrap()
            .group(group)
            .channel(TcpIo.socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOCATOR, TcpIo.ALLOCATOR)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)Math.min(Integer.MAX_VALUE, connectMs))
            .handler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    if (tls != null)
                    {
                        ch.pipeline().addLast("tls", TlsConfig.clientHandler(tls, ch.alloc(), host, port));
                    }
                    ch.pipeline().addLast(HelloGuard.NAME, HelloGuard.client(maxFrame));
                    ch.pipeline().addLast("frames", new LengthFieldBasedFrameDecoder(maxFrame, 0,
                        TcpFrames.LENGTH_FIELD, 0, TcpFrames.LENGTH_FIELD));
                    ch.pipeline().addLast("verbs", c);
                }
            });
        final long start = System.nanoTime();
        final ChannelFuture cf;
        try
        {
            cf = b.connect(host, port);
        }
        catch (final RejectedExecutionException e)
        {
            throw new ConnectionException("tcp transport is closed", e);
        }
        if (!cf.awaitUninterruptibly(connectMs + 100))
        {
            cf.cancel(false);
            cf.channel().close();
            throw new ConnectionException("cannot reach memory node at " + endpoint + " within " + connectMs + " ms");
        }
        if (!cf.isSuccess())
        {
            throw new ConnectionException("cannot reach memory node at " + endpoint + ": " + cf.cause().getMessage(),
                cf.cause());
        }
        final Channel channel = cf.channel();
        c.connected(channel);
        final ByteBuf hello = channel.alloc().buffer();
        c.writeHello(hello);
        channel.writeAndFlush(hello);
        final long left = Math.max(1, TimeUnit.MILLISECONDS.toNanos(connectMs) - (System.nanoTime() - start));
        try
        {
            c.hello.get(left, TimeUnit.NANOSECONDS);
        }
        catch (final ExecutionException e)
        {
            channel.close();
            throw e.getCause() instanceof VerbsException ? (VerbsException)e.getCause()
                : new ConnectionException("hello with memory node at " + endpoint + " failed: " + e.getCause(), e.getCause());
        }
        catch (final TimeoutException e)
        {
            channel.close();
            throw new ConnectionException("memory node at " + endpoint + " did not answer the hello within "
                + connectMs + " ms: is it a dmkv memory node" + (options.tls() == null ? " (one that requires TLS?)"
                : " serving TLS?"));
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            channel.close();
            throw new ConnectionException("interrupted while connecting to " + endpoint, e);
        }
        c.startSweep();
        return c;
    }

    @Override
    public void close()
    {
        closed = true;
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
