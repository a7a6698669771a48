package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.ClusterLayout;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.LeaderElection;
import io.dmkv.core.cluster.MapName;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.VersionedMap;
import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kv status}: the cluster as the coordinator sees it.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Prints the cluster as the coordinator sees it: memory nodes (alive or dead, regions, key"
        + " generation), compute nodes, the leader and its epoch, the maps' epochs, the regions with fewer live"
        + " replicas than r and those that lost every replica (LOST), per memory node the regions it holds, leads and"
        + " is receiving (JOINING, sealed during a copy's last pass) and whether it is being decommissioned, the"
        + " client ids, the blocks each client"
        + " holds (over tcp) and, for a flexkv cluster, the partition map."
        + " Exits 1 if the coordinator cannot be reached.")
public final class StatusCommand implements Callable<Integer>
{
    @Option(names = "--coordinator", paramLabel = "HOST:PORT[,HOST:PORT...]",
        description = "ZooKeeper of the cluster (default: ${DEFAULT-VALUE}).")
    String coordinator = "127.0.0.1:2181";

    @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name (default: ${DEFAULT-VALUE}).")
    String cluster = CoordinatorSettings.DEFAULT_CLUSTER;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "How long to try to reach the coordinator (default: 3s).")
    Duration timeout = Duration.ofSeconds(3);

    @CommandLine.Mixin
    SecurityOptions security;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        final PrintWriter out = spec.commandLine().getOut();
        final CoordinatorSettings d = CoordinatorSettings.of(coordinator).withCluster(cluster);
        final CoordinatorSettings s = new CoordinatorSettings(d.connectString(), d.cluster(), d.sessionTimeout(),
            timeout, d.mapLease(), d.maxClients(), d.clock(), security.secret());
        try (Coordinator c = Coordinator.open(s))
        {
            out.printf("cluster %s on coordinator %s: %s%n", cluster, coordinator,
                c.maps().mode().map(m -> m.label() + " mode").orElse("not formatted yet"));
            printMembers(out, "memory nodes", c.members().list(MemberInfo.Kind.MEMORY_NODE), true);
            printMembers(out, "compute nodes", c.members().list(MemberInfo.Kind.COMPUTE_NODE), false);
            out.printf("leader: %s (leader epoch %d)%n", LeaderElection.currentLeader(c).orElse("none"),
                LeaderElection.currentEpoch(c));
            final StringBuilder maps = new StringBuilder("map epochs:");
            for (final MapName m : MapName.values())
            {
                maps.append(' ').append(m.znode()).append(' ')
                    .append(c.maps().read(m).map(v -> Long.toString(v.epoch())).orElse("-"));
            }
            out.println(maps);
            printRegions(out, c);
            out.printf("client ids: live %s, dead and reserved %s%n", c.clientIds().live(), c.clientIds().dead());
            if (c.maps().mode().isPresent())
            {
                final int r = c.maps().read(MapName.REGIONS)
                    .map(v -> io.dmkv.core.address.RegionMap.fromBytes(v.payload()).replicationFactor()).orElse(1);
                printBlocks(out, r);
            }
        }
        out.flush();
        return 0;
    }

    /** Blocks per state and per client, from the memory nodes' allocation tables. */
    private void printBlocks(final PrintWriter out, final int replication)
    {
        try (KvAdmin admin = KvAdmin.open(security.apply(KvConfig.builder().coordinator(coordinator).cluster(cluster))
            .replication(replication).build()))
        {
            final KvAdmin.Blocks b = admin.blocks();
            out.printf("blocks: %d in all, %d free, %d handed over, %d owned; per client id %s%n", b.total(), b.free(),
                b.handedOver(), b.owned(), b.ownedPerClient());
            printPartitions(out, admin);
        }
        catch (final RuntimeException e)
        {
            out.printf("blocks: unavailable (%s)%n", e.getMessage());
        }
    }

    /** The index mode and, for a FlexKV cluster, who proxies which partition. */
    static void printPartitions(final PrintWriter out, final KvAdmin admin)
    {
        final List<KvAdmin.Partition> parts = admin.partitions();
        out.printf("index mode: %s%n", admin.mode());
        if (parts.isEmpty())
        {
            return;
        }
        out.printf("proxies: %s%n", admin.proxies().isEmpty() ? "none (every partition one-sided)" : admin.proxies());
        final java.util.Map<String, List<Integer>> byOwner = new java.util.TreeMap<>();
        for (final KvAdmin.Partition p : parts)
        {
            byOwner.computeIfAbsent(p.owner().equals("-") ? "one-sided" : p.owner(), k -> new java.util.ArrayList<>())
                .add(p.partition());
        }
        out.printf("partitions (%d): %s%n", parts.size(), byOwner);
        printHotness(out, parts, admin.partitionHotness());
        for (final KvAdmin.Partition p : parts)
        {
            if (!p.handoverFrom().isEmpty() || !p.pin().isEmpty())
            {
                out.printf("  partition %d: owner %s%s%s%n", p.partition(), p.owner(),
                    p.handoverFrom().isEmpty() ? "" : ", handed over from " + p.handoverFrom(),
                    p.pin().isEmpty() ? "" : ", pinned to " + p.pin());
            }
        }
    }

    /** Per-partition hotness (ops/s, hottest first) and each proxy's load, the sum over what it proxies. */
    private static void printHotness(final PrintWriter out, final List<KvAdmin.Partition> parts, final long[] hotness)
    {
        if (hotness.length != parts.size() || java.util.Arrays.stream(hotness).allMatch(h -> h == 0))
        {
            out.printf("hotness: none published (idle, or no compute node has ended a period yet)%n");
            return;
        }
        final java.util.Map<String, Long> load = new java.util.TreeMap<>();
        final List<Integer> order = new ArrayList<>();
        for (final KvAdmin.Partition p : parts)
        {
            load.merge(p.owner().equals("-") ? "one-sided" : p.owner(), hotness[p.partition()], Long::sum);
            order.add(p.partition());
        }
        order.sort((a, b) -> Long.compare(hotness[b], hotness[a]));
        final StringBuilder top = new StringBuilder();
        for (final int p : order.subList(0, Math.min(8, order.size())))
        {
            top.append(top.length() == 0 ? "" : ", ").append(p).append('=').append(hotness[p]);
        }
        out.printf("hotness (ops/s, hottest 8): %s; load per proxy: %s%n", top, load);
    }

    /**
     * The region map's health: regions with fewer live replicas than r (memory nodes failed and
     * not replaced), and regions that lost every replica (their data is gone).
     */
    private static void printRegions(final PrintWriter out, final Coordinator c)
    {
        final Optional<VersionedMap> layoutMap = c.maps().read(MapName.LAYOUT);
        final Optional<VersionedMap> regionMap = c.maps().read(MapName.REGIONS);
        if (layoutMap.isEmpty() || regionMap.isEmpty())
        {
            return;
        }
        final ClusterLayout layout = ClusterLayout.decode(layoutMap.get().payload());
        final RegionMap map = RegionMap.fromBytes(regionMap.get().payload());
        final Set<Integer> dead = ClusterLayout.deadNodes(layout.memoryNodes(), layout.incarnations(),
            c.members().alive(MemberInfo.Kind.MEMORY_NODE));
        final List<Integer> lost = new ArrayList<>();
        int degraded = 0;
        int fewest = map.replicationFactor();
        for (int g = 0; g < map.regionCount(); g++)
        {
            int live = 0;
            for (final int n : map.replicas(g))
            {
                live += dead.contains(n) ? 0 : 1;
            }
            fewest = Math.min(fewest, live);
            degraded += live < map.replicationFactor() ? 1 : 0;
            if (live == 0)
            {
                lost.add(g);
            }
        }
        out.printf("regions: %d, r = %d, %d with fewer live replicas than r (fewest %d); dead memory nodes %s%n",
            map.regionCount(), map.replicationFactor(), degraded, fewest,
            dead.stream().map(n -> layout.memoryNodes().get(n)).toList());
        if (!lost.isEmpty())
        {
            out.printf("LOST regions %s: every replica was on a dead memory node; their keys and values are gone%n",
                lost);
        }
        printPlacement(out, layout, map, dead);
    }

    /**
     * Per memory node of the layout, what the region map gives it: replicas (primaries among them)
     * and joining replicas being copied; a draining node says whether it can be stopped yet.
     */
    private static void printPlacement(final PrintWriter out, final ClusterLayout layout, final RegionMap map,
        final Set<Integer> dead)
    {
        out.println("placement (node: replicas, primaries, joining):");
        final Set<String> draining = layout.draining();
        for (int n = 0; n < layout.memoryNodes().size(); n++)
        {
            final String name = layout.memoryNodes().get(n);
            final boolean named = n < map.memoryNodeCount();
            final List<Integer> replicas = named ? Arrays.stream(map.regionsOn(n)).boxed().toList() : List.of();
            final List<Integer> primaries = new ArrayList<>();
            final List<String> joining = new ArrayList<>();
            for (final int g : named ? map.joiningOn(n) : new int[0])
            {
                joining.add(g + (map.sealed(g) ? " (sealed: last pass)" : ""));
            }
            for (final int g : replicas)
            {
                if (map.primary(g) == n)
                {
                    primaries.add(g);
                }
            }
            final String state = dead.contains(n) ? "DEAD" : "alive";
            final String role = !draining.contains(name) || layout.indexOf(name) != n ? ""
                : replicas.isEmpty() && joining.isEmpty() ? ", decommissioned: holds nothing, can be stopped"
                    : ", decommissioning";
            if (dead.contains(n) && replicas.isEmpty() && joining.isEmpty())
            {
                continue;
            }
            out.printf("  node %d %-24s %-5s replica of %s, primary of %s%s%s%n", n, name, state, replicas, primaries,
                joining.isEmpty() ? "" : ", JOINING " + joining, role);
        }
    }

    private static void printMembers(final PrintWriter out, final String title, final List<MemberInfo> members,
        final boolean regions)
    {
        final long alive = members.stream().filter(MemberInfo::alive).count();
        out.printf("%s: %d alive, %d dead%n", title, alive, members.size() - alive);
        for (final MemberInfo m : members)
        {
            out.printf("  %-24s %-5s %-22s%s%n", m.name(), m.alive() ? "alive" : "DEAD", m.endpoint(), regions
                ? " regions " + m.regions().stream().map(String::valueOf).collect(Collectors.joining(","))
                    + "  key generation " + m.keyGeneration()
                : "");
        }
    }
}
