package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MapName;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kv decommission}: moves a memory node's regions elsewhere so it can be stopped. */
@Command(name = "decommission", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Moves every region replica off a memory node of a coordinated cluster, while clients go on"
        + " (docs/recovery.md, \"Decommission\"): the cluster copies each replica to another live node with a free"
        + " region, holds writes for the last pass of each copy, then drops the node from the region. Prints"
        + " progress and, when the region map names the node nowhere, that it can be stopped.",
        "Refused (exit 2): a node that is not a live member; a cluster that would keep fewer than r memory nodes;"
            + " regions no other node has room for (start a memory node first).",
        "Example: kv decommission --coordinator 10.0.0.1:2181 --node 10.0.0.7:7410"})
public final class DecommissionCommand implements Callable<Integer>
{
    @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT...]", required = true,
        description = "ZooKeeper of the cluster.")
    String coordinator;

    @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name (default: ${DEFAULT-VALUE}).")
    String cluster = CoordinatorSettings.DEFAULT_CLUSTER;

    @Option(names = "--node", paramLabel = "HOST:PORT|NAME", required = true,
        description = "The memory node to empty: its endpoint as kv status prints it, or its member name.")
    String node;

    @Option(names = "--wait", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "How long to wait for the moves; 0 asks and returns at once (default: 10m).")
    Duration wait = Duration.ofMinutes(10);

    @CommandLine.Mixin
    SecurityOptions security;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException
    {
        final PrintWriter out = spec.commandLine().getOut();
        final KvConfig config = security.apply(KvConfig.builder().coordinator(coordinator).cluster(cluster)
            .replication(replication())).build();
        try (KvAdmin admin = KvAdmin.open(config))
        {
            KvAdmin.Decommission d = admin.decommission(node);
            out.printf("decommissioning memory node %s (node %d): it holds replicas of regions %s%n", d.node(),
                d.index(), d.replicas());
            out.flush();
            if (wait.isZero() && !d.done())
            {
                out.printf("asked; kv status (or this command again) shows the progress%n");
                out.flush();
                return 0;
            }
            final long deadline = System.nanoTime() + wait.toNanos();
            String last = "";
            while (!d.done() && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(500);
                d = admin.decommissionProgress(node);
                final String now = "  still holds " + d.replicas() + (d.joining().isEmpty() ? "" : ", joining "
                    + d.joining());
                if (!now.equals(last))
                {
                    out.println(now);
                    out.flush();
                    last = now;
                }
            }
            if (!d.done())
            {
                out.printf("memory node %s still holds regions %s after %s: the moves go on (kv status shows them);"
                    + " do not stop it yet%n", d.node(), d.replicas(), wait);
                out.flush();
                return 1;
            }
            out.printf("memory node %s holds no region any more: it can be stopped%n", d.node());
            out.flush();
            return 0;
        }
    }

    /** The cluster's replication factor, from its region map (the admin access must match it). */
    private int replication()
    {
        final CoordinatorSettings d = CoordinatorSettings.of(coordinator).withCluster(cluster);
        final CoordinatorSettings s = new CoordinatorSettings(d.connectString(), d.cluster(), d.sessionTimeout(),
            d.connectionTimeout(), d.mapLease(), d.maxClients(), d.clock(), security.secret());
        try (Coordinator c = Coordinator.open(s))
        {
            return c.maps().read(MapName.REGIONS).map(v -> RegionMap.fromBytes(v.payload()).replicationFactor())
                .orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(), "cluster " + cluster
                    + " on " + coordinator + " is not formatted: it has no memory node to decommission"));
        }
    }
}
