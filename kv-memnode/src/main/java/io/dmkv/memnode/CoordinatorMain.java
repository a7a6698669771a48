package io.dmkv.memnode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.dmkv.core.cluster.EmbeddedZooKeeper;
import io.dmkv.core.config.Durations;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/coordinator}: a standalone ZooKeeper server for a cluster of separate
 * processes, until SIGTERM or SIGINT.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Runs a standalone ZooKeeper server as the coordinator of a dmkv cluster: memory nodes",
        "(memnode --coordinator) and clients (dmkv.coordinator) register and keep the cluster maps there.",
        "One server is a single point of failure: production points dmkv at a ZooKeeper ensemble instead."},
    footer = {"", "Example: coordinator --port 2181 --data-dir /var/lib/dmkv-zk --host 0.0.0.0 --require-auth"})
public final class CoordinatorMain implements Callable<Integer>
{
    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}, this"
        + " host only; give 0.0.0.0 or an interface's address for members on other hosts).")
    String host = "127.0.0.1";

    @Option(names = "--require-auth",
        description = "Close every session that does not authenticate first: only members with the cluster secret"
            + " (--secret-file, dmkv.secretFile) may connect at all. Their znodes carry ACLs either way.")
    boolean requireAuth;

    @Option(names = "--port", paramLabel = "P", description = "Client port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port = 2181;

    @Option(names = "--data-dir", paramLabel = "DIR",
        description = "Keep snapshots and the transaction log here, so the maps survive a restart (default: a"
            + " temporary directory deleted on exit).")
    Path dataDir;

    @Option(names = "--tick", paramLabel = "DURATION",
        description = "ZooKeeper's tick; sessions may last 2..20 ticks (default: 250ms, so 0.5s..5s).")
    String tick = "250ms";

    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(final String[] args)
    {
        final CommandLine cl = new CommandLine(new CoordinatorMain());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) ->
        {
            commandLine.getErr().println("coordinator: " + e.getMessage());
            return 1;
        });
        System.exit(cl.execute(args));
    }

    @Override
    public Integer call() throws InterruptedException
    {
        if (port < 0 || port > 65_535)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--port must be in 0..65535, got " + port);
        }
        final Duration t;
        try
        {
            t = Durations.parse(tick);
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(new CommandLine(this), "--tick: " + e.getMessage());
        }
        final EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(host, port, dataDir, t, requireAuth);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            zk.close();
            stopped.countDown();
        }, "dmkv-coordinator-shutdown"));
        System.out.println("coordinator ready on " + host + ":" + zk.port() + " (ZooKeeper, tick " + t.toMillis()
            + " ms, data in " + zk.dataDir() + (dataDir == null ? ", deleted on exit" : "") + ")");
        System.out.println("point memory nodes at it: memnode --coordinator "
            + ("0.0.0.0".equals(host) ? "THIS-HOST" : host) + ":" + zk.port() + " ...");
        System.out.flush();
        stopped.await();
        return 0;
    }
}
