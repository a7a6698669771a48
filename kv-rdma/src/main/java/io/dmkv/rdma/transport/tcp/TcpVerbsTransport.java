package io.dmkv.rdma.transport.tcp;

import java.util.concurrent.TimeUnit;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The {@code tcp} transport: verbs framed over Netty to a memory-node daemon, pipelined, one
 * frame per batch part. One event loop group serves all channels of the transport.
 */
public final class TcpVerbsTransport implements VerbsTransport
{
    public static final String NAME = "tcp";

    private final EventLoopGroup group;
    private final int maxFrame;
    private volatile boolean closed;

    public TcpVerbsTransport()
    {
        this(1, TcpFrames.DEFAULT_MAX_FRAME);
    }

    public TcpVerbsTransport(final int ioThreads, final int maxFrame)
    {
        this.group = new NioEventLoopGroup(ioThreads, new DefaultThreadFactory("dmkv-tcp-client", true));
        this.maxFrame = maxFrame;
    }

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        if (closed)
        {
            throw new ConnectionException("tcp transport is closed");
        }
        return TcpVerbsChannel.connect(group, endpoint, options, maxFrame);
    }

    @Override
    public void close()
    {
        closed = true;
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Splits {@code host:port}; IPv6 hosts in brackets. */
    static String[] hostPort(final String endpoint)
    {
        final int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1)
        {
            throw new IllegalArgumentException("memory node endpoint must be HOST:PORT, got '" + endpoint + "'");
        }
        String host = endpoint.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        final String port = endpoint.substring(colon + 1);
        try
        {
            final int p = Integer.parseInt(port);
            if (p < 1 || p > 65_535)
            {
                throw new NumberFormatException();
            }
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("bad port in memory node endpoint '" + endpoint + "'");
        }
        return new String[] {host, port};
    }
}
