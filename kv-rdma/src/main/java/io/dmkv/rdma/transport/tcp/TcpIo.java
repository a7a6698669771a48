package io.dmkv.rdma.transport.tcp;

import java.util.concurrent.ThreadFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * Which Netty I/O the tcp transport uses, chosen once per JVM: the native epoll transport where
 * it loads (Linux x86-64 with the {@code netty-transport-native-epoll} library on the class
 * path), Java NIO elsewhere. {@code -Ddmkv.tcp.epoll=false} forces NIO. The choice is logged once.
 *
 * <p>Netty's leak detection is off unless {@code io.netty.leakDetection.level} is set: at its
 * default level it tracks one buffer in 128 with a stack trace, which is the only allocation left
 * on the transport's frame path (tests set it to {@code simple}).
 */
public final class TcpIo
{
    /** System property that turns the native epoll transport off when set to {@code false}. */
    public static final String EPOLL_PROPERTY = "dmkv.tcp.epoll";

    /**
     * Netty's pooled allocator (Netty 4.2's default, the adaptive one, allocated more per frame in
     * the verbs benchmarks): buffers of the hot path come from thread-local caches and their
     * objects are recycled.
     */
    static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private static final Logger LOG = LoggerFactory.getLogger(TcpIo.class);
    private static final boolean EPOLL;

    static
    {
        if (System.getProperty("io.netty.leakDetection.level") == null
            && System.getProperty("io.netty.leakDetectionLevel") == null)
        {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        EPOLL = chooseEpoll();
    }

    private TcpIo()
    {
    }

    /** {@code "epoll"} or {@code "nio"}: what this JVM's tcp transport runs on. */
    public static String name()
    {
        return EPOLL ? "epoll" : "nio";
    }

    /** I/O threads of a memory node by default: one per core, at most 4. */
    public static int defaultIoThreads()
    {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    static EventLoopGroup group(final int threads, final String threadName)
    {
        final ThreadFactory factory = new DefaultThreadFactory(threadName, true);
        final IoHandlerFactory io = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, factory, io);
    }

    static Class<? extends SocketChannel> socketChannel()
    {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    static Class<? extends ServerChannel> serverChannel()
    {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    private static boolean chooseEpoll()
    {
        if ("false".equalsIgnoreCase(System.getProperty(EPOLL_PROPERTY)))
        {
            LOG.info("tcp transport: Java NIO ({}=false)", EPOLL_PROPERTY);
            return false;
        }
        boolean available;
        Throwable why;
        try
        {
            available = Epoll.isAvailable();
            why = Epoll.unavailabilityCause();
        }
        catch (final LinkageError e)
        {
            available = false;
            why = e;
        }
        if (available)
        {
            LOG.info("tcp transport: Netty native epoll");
        }
        else
        {
            LOG.info("tcp transport: Java NIO (native epoll unavailable: {})", why == null ? "unknown" : why.toString());
        }
        return available;
    }
}
