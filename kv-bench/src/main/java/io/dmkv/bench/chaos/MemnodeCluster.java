package io.dmkv.bench.chaos;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.dmkv.bench.jmh.MemnodeDaemons;
import io.dmkv.bench.runner.CoordinatorProcess;
import io.dmkv.bench.runner.JvmCommand;

/**
 * A coordinated cluster of processes for failure injection: a ZooKeeper server
 * ({@link CoordinatorChild}) and memory-node daemons registered with it, each in a JVM of its
 * own with an explicit heap, on loopback ports they pick. Closing it stops them all.
 */
public final class MemnodeCluster implements AutoCloseable
{
    private final CoordinatorProcess coordinator;
    private final MemnodeDaemons nodes;
    private final long memory;
    private final long regionBytes;
    private final List<String> nodeOptions;

    private MemnodeCluster(final CoordinatorProcess coordinator, final MemnodeDaemons nodes, final long memory,
        final long regionBytes, final List<String> nodeOptions)
    {
        this.coordinator = coordinator;
        this.nodes = nodes;
        this.memory = memory;
        this.regionBytes = regionBytes;
        this.nodeOptions = nodeOptions;
    }

    /**
     * Starts the coordinator and {@code count} memory nodes of {@code memory} bytes whose
     * coordinator sessions time out after {@code sessionTimeout}.
     */
    public static MemnodeCluster start(final int count, final long memory, final Duration sessionTimeout)
        throws IOException, InterruptedException
    {
        return start(count, memory, Math.min(memory, 16L << 20), sessionTimeout);
    }

    /** As {@link #start(int, long, Duration)}, each node's memory cut into regions of {@code regionBytes}. */
    public static MemnodeCluster start(final int count, final long memory, final long regionBytes,
        final Duration sessionTimeout) throws IOException, InterruptedException
    {
        // ZooKeeper grants sessions of 2..20 ticks.
        final String tick = Math.max(100, sessionTimeout.toMillis() / 10) + "ms";
        final CoordinatorProcess zk = CoordinatorProcess.start(tick);
        try
        {
            final List<String> options = List.of("--coordinator", zk.connectString(), "--session-timeout",
                sessionTimeout.toMillis() + "ms");
            final MemnodeDaemons nodes = MemnodeDaemons.start(count, memory, regionBytes, Duration.ofSeconds(60),
                "chaos-mn", options);
            return new MemnodeCluster(zk, nodes, memory, regionBytes, options);
        }
        catch (final RuntimeException e)
        {
            zk.close();
            throw e;
        }
    }

    /**
     * Starts one more memory node like the others (a replacement after a kill, a node for
     * capacity); it registers with the coordinator and the cluster admits it. Returns its endpoint.
     */
    public String addNode() throws IOException, InterruptedException
    {
        final int index = nodes.endpoints().size();
        return nodes.add(memory, regionBytes, Duration.ofSeconds(60), "chaos-mn" + index, nodeOptions);
    }

    /** The coordinator's connect string ({@code 127.0.0.1:PORT}). */
    public String connectString()
    {
        return coordinator.connectString();
    }

    /** The memory-node daemons, node i started i-th. */
    public MemnodeDaemons nodes()
    {
        return nodes;
    }

    /** A child JVM's command line for {@code main} with {@code args} (128 MiB heap). */
    static List<String> command(final Class<?> main, final String... args)
    {
        final List<String> cmd = new ArrayList<>(JvmCommand.forChild("128m"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Override
    public void close()
    {
        nodes.close();
        coordinator.close();
    }
}
