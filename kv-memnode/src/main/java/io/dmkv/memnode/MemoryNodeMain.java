package io.dmkv.memnode;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.config.Durations;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.metrics.MetricsExport;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.transport.tcp.TcpFrames;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/memnode}: runs one memory-node daemon until SIGTERM or SIGINT.
 */
@Command(name = "memnode", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Runs a dmkv memory node: registers SIZE bytes of memory and serves one-sided verbs",
        "(READ, WRITE, CAS, FAA) and RPCs over tcp until SIGTERM/SIGINT.",
        "Memory nodes are volatile: what they hold is lost when they stop."},
    footer = {"", "Example: memnode --port 7410 --memory 4G --shm-file /dev/shm/dmkv-mn0",
        "         memnode --port 7410 --memory 4G --secret-file /etc/dmkv/secret --host 0.0.0.0 \\",
        "                 --coordinator zk1:2181 --advertise-host 10.0.0.5",
        "Without --secret-file the node is unauthenticated and listens on 127.0.0.1 unless --host says otherwise",
        "(docs/security.md)."})
public final class MemoryNodeMain implements Callable<Integer>
{
    private static final Logger LOG = LoggerFactory.getLogger(MemoryNodeMain.class);

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on (default: 0.0.0.0 with"
        + " --secret-file, else 127.0.0.1: a node without a secret is reachable from this host only unless told).")
    String host;

    @Option(names = "--secret-file", paramLabel = "FILE",
        description = "The cluster secret (at least 16 bytes; make one with: head -c 32 /dev/urandom | base64): every"
            + " client must prove it holds it before it learns a region key, and with --coordinator the node's"
            + " znodes are readable only with it. Keep the file readable by its owner only.")
    Path secretFile;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "TLS certificate chain of this node (with --tls-key).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "PKCS#8 private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "PEM",
        description = "CA certificate: clients must present a certificate it signed (mutual TLS).")
    Path tlsCa;

    @Option(names = "--port", paramLabel = "P", description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port = 7410;

    @Option(names = "--memory", paramLabel = "SIZE", required = true, converter = SizeConverter.class,
        description = "Bytes of memory to register, e.g. 512M, 4G, 64G (not bounded by the JVM's heap or direct-memory cap).")
    long memory;

    @Option(names = "--region-size", paramLabel = "SIZE", converter = SizeConverter.class,
        description = "Size of each region, at most 1G (default: 1G, or less so that the node has at least 4 regions).")
    Long regionSize;

    @Option(names = "--shm-file", paramLabel = "PATH",
        description = "Back the memory with this shared file (e.g. under /dev/shm) so clients on this host can use the"
            + " local transport on it; the file is deleted when the node stops.")
    Path shmFile;

    @Option(names = "--name", paramLabel = "NAME", description = "Name in logs and client messages (default: mn@HOST:PORT).")
    String name;

    @Option(names = "--io-threads", paramLabel = "N", description = "Network threads (default: ${DEFAULT-VALUE}).")
    int ioThreads = Math.min(4, Runtime.getRuntime().availableProcessors());

    @Option(names = "--max-frame", paramLabel = "SIZE", converter = SizeConverter.class,
        description = "Largest frame accepted from a client (default: 16M plus headers).")
    long maxFrame = TcpFrames.DEFAULT_MAX_FRAME;

    @Option(names = "--rdma-host", paramLabel = "IP",
        description = "Also serve one-sided verbs over RDMA on this interface address (needs an RNIC and libdisni;"
            + " see docs/rdma.md). RPCs and the hello stay on tcp.")
    String rdmaHost;

    @Option(names = "--rdma-port", paramLabel = "P", description = "Port of the rdma listener (default: ${DEFAULT-VALUE}).")
    int rdmaPort = 7420;

    @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT...]",
        description = "Join a coordinated cluster: register with this ZooKeeper (scripts/coordinator or an ensemble)."
            + " Without it the node serves a static cluster.")
    String coordinator;

    @Option(names = "--advertise-host", paramLabel = "H",
        description = "Address clients reach this node at, as registered with the coordinator (default: --host, or"
            + " this host's address when --host is 0.0.0.0).")
    String advertiseHost;

    @Option(names = "--cluster", paramLabel = "NAME",
        description = "Cluster name in the coordinator (default: ${DEFAULT-VALUE}).")
    String cluster = CoordinatorSettings.DEFAULT_CLUSTER;

    @Option(names = "--session-timeout", paramLabel = "DURATION",
        description = "Coordinator session timeout: silent this long, the node is dead to the cluster (default: 4s).")
    String sessionTimeout;

    @Option(names = "--force",
        description = "Start even when --memory is more than this host can give (physical memory, or the cgroup's"
            + " memory limit): the node zeroes all of its memory when it starts.")
    boolean force;

    @Option(names = "--metrics", paramLabel = "KIND", converter = MetricsKindConverter.class,
        description = "Where the node's meters go: jmx (the platform MBean server, once the JVM has one: at start"
            + " with -Dcom.sun.management.jmxremote, or when JConsole attaches), jmx-eager (creates it at start),"
            + " prometheus (an endpoint on 127.0.0.1, see --metrics-port) or none (default: jmx).")
    MetricsExport.Kind metrics = MetricsExport.Kind.JMX;

    @Option(names = "--metrics-port", paramLabel = "P",
        description = "Loopback port of the Prometheus endpoint; 0 picks a free one, printed (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final HostMemory hostMemory;

    /** The daemon as {@code scripts/memnode} runs it: --memory is checked against this host. */
    public MemoryNodeMain()
    {
        this(null);
    }

    /** Checks --memory against {@code hostMemory} (null: probe this host when run). */
    MemoryNodeMain(final HostMemory hostMemory)
    {
        this.hostMemory = hostMemory;
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, null));
    }

    /**
     * Runs the daemon with {@code args}, checking --memory against {@code hostMemory} (null: this
     * host); returns the exit code.
     */
    static int run(final String[] args, final HostMemory hostMemory)
    {
        final CommandLine cl = new CommandLine(new MemoryNodeMain(hostMemory));
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) ->
        {
            commandLine.getErr().println("memnode: " + e.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws InterruptedException
    {
        if (port < 0 || port > 65_535)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--port must be in 0..65535, got " + port);
        }
        if (maxFrame < 1024 || maxFrame > Integer.MAX_VALUE)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--max-frame must be in 1K..2G");
        }
        final String problem = memoryProblem(memory, hostMemory != null ? hostMemory : HostMemory.probe());
        if (problem != null && !force)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), problem);
        }
        if (problem != null)
        {
            LOG.warn("{}; starting anyway (--force)", problem);
        }
        final ClusterSecret secret = secret(secretFile);
        final TlsConfig tls = tls(tlsCert, tlsKey, tlsCa);
        final String bind = host != null ? host : secret != null ? "0.0.0.0" : "127.0.0.1";
        final String label = name != null ? name : "mn@" + bind + ":" + port;
        final MemoryNode node;
        try
        {
            node = MemoryNode.start(new MemoryNode.Config(label, bind, port, memory,
                regionSize != null ? regionSize : MemoryNode.Config.defaultRegionBytes(memory), shmFile, ioThreads,
                (int)maxFrame, false, rdmaHost, rdmaPort, secret, tls));
        }
        catch (final io.dmkv.rdma.TransportUnavailableException e)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--rdma-host: " + e.getMessage());
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
        if (secret == null && MemoryNode.isLoopback(bind))
        {
            // Beyond loopback the node has said so already.
            node.warnUnauthenticated();
        }
        final String advertised = advertised(advertiseHost, bind, node.tcpPort());
        final MemoryNodeMembership membership;
        try
        {
            membership = coordinator == null ? null
                : MemoryNodeMembership.join(node, advertised, settings(coordinator, cluster, sessionTimeout)
                    .withSecret(secret));
        }
        catch (final RuntimeException e)
        {
            node.close();
            throw new CommandLine.ParameterException(new CommandLine(this), "--coordinator: " + e.getMessage());
        }
        final MetricsExport export;
        try
        {
            export = MetricsExport.open(metrics, metricsPort);
        }
        catch (final RuntimeException e)
        {
            node.close();
            throw new CommandLine.ParameterException(new CommandLine(this), "--metrics-port: " + e.getMessage());
        }
        final NodeMeters meters = new NodeMeters(node, export);
        System.out.println("memory node " + node.name() + " metrics: " + export.endpoint());
        final Thread hook = new Thread(() ->
        {
            if (membership != null)
            {
                membership.close();
            }
            meters.close();
            export.close();
            node.close();
            stopped.countDown();
        }, "dmkv-memnode-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("memory node " + node.name() + " ready on " + node.tcpEndpoint() + " with "
            + Sizes.format(node.service().regions().totalBytes()) + " in " + node.service().regions().count()
            + " regions" + (shmFile != null ? " (shared file " + shmFile + ")" : "")
            + (membership != null ? ", registered with coordinator " + coordinator + " as " + advertised
                : ", static cluster (no coordinator)")
            + (secret != null ? ", authenticated" : ", UNAUTHENTICATED (no --secret-file)")
            + (tls != null ? ", TLS" : ""));
        System.out.flush();
        stopped.await();
        return 0;
    }

    private ClusterSecret secret(final Path file)
    {
        try
        {
            return file == null ? null : ClusterSecret.fromFile(file);
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--secret-file: " + e.getMessage());
        }
    }

    private TlsConfig tls(final Path cert, final Path key, final Path ca)
    {
        if (cert == null && key == null && ca == null)
        {
            return null;
        }
        try
        {
            final TlsConfig t = new TlsConfig(cert, key, ca);
            t.serverContext();
            return t;
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--tls-cert/--tls-key/--tls-ca: "
                + e.getMessage());
        }
    }

    /** Parses --metrics. */
    static final class MetricsKindConverter implements CommandLine.ITypeConverter<MetricsExport.Kind>
    {
        @Override
        public MetricsExport.Kind convert(final String value)
        {
            return MetricsExport.Kind.parse(value);
        }
    }

    /**
     * Why {@code memory} is more than {@code hostMemory} can give, or null when it fits (or the
     * host's memory is unknown).
     */
    static String memoryProblem(final long memory, final HostMemory hostMemory)
    {
        final long usable = hostMemory.usableBytes();
        if (usable < 0 || memory <= usable)
        {
            return null;
        }
        return "--memory " + Sizes.format(memory) + " is more than this host can give: " + hostMemory.describe()
            + "; the node zeroes all of its memory when it starts and would be killed for running out of it."
            + " Give less, or --force to start anyway";
    }

    static CoordinatorSettings settings(final String connect, final String cluster, final String sessionTimeout)
    {
        CoordinatorSettings s = CoordinatorSettings.of(connect).withCluster(cluster);
        if (sessionTimeout != null)
        {
            final Duration t = Durations.parse(sessionTimeout);
            s = s.withSessionTimeout(t, t.dividedBy(2));
        }
        return s;
    }

    /**
     * What clients should dial: the advertised host, else the bound one, else (bound to every
     * interface) this host's own address.
     */
    static String advertised(final String advertiseHost, final String host, final int port)
    {
        String h = advertiseHost != null ? advertiseHost : host;
        if ("0.0.0.0".equals(h) || "::".equals(h))
        {
            try
            {
                h = InetAddress.getLocalHost().getHostAddress();
            }
            catch (final UnknownHostException e)
            {
                throw new IllegalArgumentException("cannot find this host's address to advertise: give --advertise-host");
            }
        }
        return h + ":" + port;
    }

    /** Picocli converter for sizes such as 512M or 4G. */
    public static final class SizeConverter implements CommandLine.ITypeConverter<Long>
    {
        @Override
        public Long convert(final String value)
        {
            try
            {
                return Sizes.parse(value);
            }
            catch (final IllegalArgumentException e)
            {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
