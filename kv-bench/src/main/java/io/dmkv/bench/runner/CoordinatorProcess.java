package io.dmkv.bench.runner;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import io.dmkv.bench.chaos.CoordinatorChild;
import io.dmkv.bench.jmh.MemnodeDaemons;

/**
 * A ZooKeeper server in a JVM of its own ({@link CoordinatorChild}: what {@code scripts/coordinator}
 * runs, stopping when our end of its stdin closes) on a loopback port it picks. Several clusters
 * share one server, each in a fresh chroot ({@link #freshChroot}).
 */
public final class CoordinatorProcess implements AutoCloseable
{
    private static final Pattern READY = Pattern.compile("coordinator ready on (\\S+) ");
    /** Heap of the server. */
    private static final String HEAP = "128m";

    private final Process process;
    private final String connectString;

    private CoordinatorProcess(final Process process, final String connectString)
    {
        this.process = process;
        this.connectString = connectString;
    }

    /**
     * Starts the server with ZooKeeper tick {@code tick} (e.g. {@code 250ms}; sessions may last 2
     * to 20 ticks) and waits until it serves.
     *
     * @throws IllegalStateException if it exits or is not ready within 60 s (its stderr says why).
     */
    public static CoordinatorProcess start(final String tick) throws IOException, InterruptedException
    {
        final List<String> cmd = new ArrayList<>(JvmCommand.forChild(HEAP));
        cmd.addAll(List.of(CoordinatorChild.class.getName(), "--host", "127.0.0.1", "--port", "0", "--tick", tick));
        final Process zk = ChildReaper.watchLast(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
            .start());
        try
        {
            return new CoordinatorProcess(zk, MemnodeDaemons.readReadyLine(zk, "coordinator", READY)
                .get(60, TimeUnit.SECONDS));
        }
        catch (final ExecutionException | TimeoutException e)
        {
            MemnodeDaemons.stop(List.of(zk));
            throw new IllegalStateException("the coordinator did not start: " + e.getMessage(), e);
        }
        catch (final InterruptedException | RuntimeException e)
        {
            MemnodeDaemons.stop(List.of(zk));
            throw e;
        }
    }

    /** {@code 127.0.0.1:PORT}. */
    public String connectString()
    {
        return connectString;
    }

    /** A connect string with a chroot no one has used: a new, empty cluster namespace on this server. */
    public String freshChroot()
    {
        return connectString + "/bench-" + UUID.randomUUID().toString().substring(0, 12);
    }

    /** The server's process. */
    public Process process()
    {
        return process;
    }

    @Override
    public void close()
    {
        MemnodeDaemons.stop(List.of(process));
    }
}
