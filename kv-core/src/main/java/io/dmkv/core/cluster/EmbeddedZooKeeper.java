package io.dmkv.core.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone ZooKeeper server in this JVM: the coordinator of the embedded default
 * ({@code EmbeddedCluster}, the demo, tests) and of {@code scripts/coordinator}. Not a
 * replicated ensemble: production points at an existing ensemble instead.
 *
 * <p>{@link #shared()} is one server per JVM for tests and embedded clusters, each of which
 * works in a fresh chroot ({@link #freshConnectString()}).
 */
public final class EmbeddedZooKeeper implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);

    /**
     * The default tick of an embedded server. ZooKeeper grants sessions of 2 to 20 ticks, so a
     * 250 ms tick allows 0.5..5 s: it covers the 4 s default and the short sessions of tests.
     */
    public static final Duration DEFAULT_TICK = Duration.ofMillis(250);
    /** ZooKeeper's switch for fsync of its transaction log, read when a server's log is created. */
    private static final String FORCE_SYNC = "zookeeper.forceSync";
    /** ZooKeeper's switches that close sessions which did not authenticate, read when a server is made. */
    private static final String ENFORCE_AUTH = "zookeeper.enforce.auth.enabled";
    private static final String ENFORCE_AUTH_SCHEMES = "zookeeper.enforce.auth.schemes";

    private static EmbeddedZooKeeper shared;

    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final String host;
    private boolean closed;

    private EmbeddedZooKeeper(final ZooKeeperServer server, final ServerCnxnFactory factory, final Path dataDir,
        final boolean deleteOnClose, final String host)
    {
        this.server = server;
        this.factory = factory;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.host = host;
    }

    /** A server on 127.0.0.1 at a free port, with a temporary data directory deleted on close. */
    public static EmbeddedZooKeeper startLoopback()
    {
        return start("127.0.0.1", 0, null, DEFAULT_TICK);
    }

    /**
     * Starts a server.
     *
     * @param host    address to bind ({@code 127.0.0.1} for loopback only, {@code 0.0.0.0} for all).
     * @param port    port, 0 for a free one.
     * @param dataDir where snapshots and the transaction log go (kept); null for a temporary
     *                directory deleted on close.
     * @param tick    ZooKeeper's tick: sessions may last 2..20 ticks.
     */
    public static EmbeddedZooKeeper start(final String host, final int port, final Path dataDir, final Duration tick)
    {
        return start(host, port, dataDir, tick, false);
    }

    /**
     * Starts a server; with {@code requireAuth} it closes every session that does not
     * authenticate with ZooKeeper's digest scheme before its first request (members with the
     * cluster secret do: {@link ZnodeAcls}), so a peer without it cannot even list znodes.
     */
    public static EmbeddedZooKeeper start(final String host, final int port, final Path dataDir, final Duration tick,
        final boolean requireAuth)
    {
        final boolean temporary = dataDir == null;
        final Path dir;
        try
        {
            dir = temporary ? Files.createTempDirectory("dmkv-zk-") : Files.createDirectories(dataDir);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot create the coordinator's data directory " + dataDir + ": "
                + e.getMessage(), e);
        }
        ServerCnxnFactory factory = null;
        try
        {
            if (temporary && System.getProperty(FORCE_SYNC) == null)
            {
                // Data deleted on close needs no fsync: without it every session's create and close
                // waits on the disk (tens of ms each on a busy host). A kept data directory keeps it.
                System.setProperty(FORCE_SYNC, "no");
            }
            if (requireAuth)
            {
                System.setProperty(ENFORCE_AUTH, "true");
                System.setProperty(ENFORCE_AUTH_SCHEMES, ZnodeAcls.SCHEME);
            }
            final ZooKeeperServer server;
            try
            {
                server = new ZooKeeperServer(dir.toFile(), dir.toFile(), (int)tick.toMillis());
            }
            finally
            {
                if (requireAuth)
                {
                    System.clearProperty(ENFORCE_AUTH);
                    System.clearProperty(ENFORCE_AUTH_SCHEMES);
                }
            }
            if (temporary)
            {
                System.clearProperty(FORCE_SYNC);
            }
            factory = ServerCnxnFactory.createFactory(new InetSocketAddress(host, port), 1000);
            factory.startup(server);
            final EmbeddedZooKeeper zk = new EmbeddedZooKeeper(server, factory, dir, temporary, host);
            LOG.info("coordinator (ZooKeeper {}) serving on {}, data in {}, tick {} ms{}", org.apache.zookeeper.Version
                .getFullVersion(), zk.connectString(), dir, tick.toMillis(), requireAuth
                    ? ", sessions must authenticate" : "");
            return zk;
        }
        catch (final IOException | InterruptedException | RuntimeException | Error e)
        {
            if (factory != null)
            {
                factory.shutdown();
            }
            if (temporary)
            {
                deleteTree(dir);
            }
            if (e instanceof InterruptedException)
            {
                Thread.currentThread().interrupt();
                throw new CoordinationException("interrupted while starting the coordinator", e);
            }
            if (e instanceof IOException io)
            {
                throw new UncheckedIOException("cannot start the coordinator on " + host + ":" + port + ": "
                    + e.getMessage(), io);
            }
            if (e instanceof Error err)
            {
                throw err;
            }
            throw (RuntimeException)e;
        }
    }

    /**
     * One loopback server for this whole JVM, started on first use and stopped (its data
     * deleted) when the JVM exits. Give each cluster or test its own chroot.
     */
    public static synchronized EmbeddedZooKeeper shared()
    {
        if (shared == null)
        {
            final EmbeddedZooKeeper zk = startLoopback();
            Runtime.getRuntime().addShutdownHook(new Thread(zk::close, "dmkv-zk-shutdown"));
            shared = zk;
        }
        return shared;
    }

    /** {@code 127.0.0.1:PORT} (or the bound host): what members put in their settings. */
    public String connectString()
    {
        final String h = "0.0.0.0".equals(host) ? "127.0.0.1" : host;
        return h + ":" + port();
    }

    /** The connect string with a new, unique chroot: a fresh, empty tree for one cluster or test. */
    public String freshConnectString()
    {
        return connectString() + "/c-" + UUID.randomUUID().toString().substring(0, 12);
    }

    public int port()
    {
        return factory.getLocalPort();
    }

    public Path dataDir()
    {
        return dataDir;
    }

    /** Live sessions (connections) right now. */
    public int connections()
    {
        return factory.getNumAliveConnections();
    }

    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        factory.shutdown();
        server.shutdown(true);
        if (deleteOnClose)
        {
            deleteTree(dataDir);
        }
        LOG.info("coordinator on port {} stopped", factory.getLocalPort());
    }

    private static void deleteTree(final Path dir)
    {
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException e)
        {
            LOG.warn("could not delete the coordinator's data directory {}: {}", dir, e.toString());
        }
    }
}
