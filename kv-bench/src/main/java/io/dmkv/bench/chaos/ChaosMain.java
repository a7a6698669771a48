package io.dmkv.bench.chaos;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import io.dmkv.memnode.MemoryNode;
import io.dmkv.rdma.transport.tcp.TcpFrames;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chaos clients}: kills client processes mid-workload and checks that recovery loses and
 * leaks nothing; {@code chaos memnodes}: kills memory-node processes and checks that fail-over
 * loses nothing.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    subcommands = {ChaosMain.Clients.class, ChaosMain.Memnodes.class},
    description = "Failure injection: kills clients (chaos clients) or memory nodes (chaos memnodes).")
public final class ChaosMain implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new ChaosMain()).execute(args));
    }

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: clients or memnodes");
    }

    /** The client-kill run. */
    @Command(name = "clients", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts memory nodes in this process and writer processes that run inserts, updates, deletes"
            + " and read-modify-writes, each value naming its writer and sequence; SIGKILLs a random writer KILLS"
            + " times, recovers it from its log (kv recover) and starts another; then checks that every acknowledged"
            + " write reads back, that kv verify is clean and that no block is left owned. Prints kills, recovery"
            + " time p50/p99, writes verified, lost (must be 0) and blocks leaked (must be 0); exits 1 otherwise.",
            "Example: scripts/chaos clients --kills 200 --transport local"})
    public static final class Clients implements Callable<Integer>
    {
        @Option(names = "--kills", paramLabel = "N", defaultValue = "20", description = "Writers to kill (default 20).")
        int kills;
        @Option(names = "--writers", paramLabel = "W", defaultValue = "3",
            description = "Writer processes at a time (default 3).")
        int writers;
        @Option(names = "--transport", paramLabel = "NAME", defaultValue = "tcp",
            description = "tcp, or local (shared memory with the memory nodes) (default tcp).")
        String transport;
        @Option(names = "--nodes", paramLabel = "N", defaultValue = "2", description = "Memory nodes (default 2).")
        int nodes;
        @Option(names = "--replication", paramLabel = "R", defaultValue = "2", description = "Replicas (default 2).")
        int replication;
        @Option(names = "--memory", paramLabel = "BYTES", defaultValue = "64M",
            converter = io.dmkv.bench.cli.KvCli.SizeConverter.class, description = "Per memory node (default 64M).")
        long memory;
        @Option(names = "--keys", paramLabel = "K", defaultValue = "600", description = "Keys in all (default 600).")
        int keys;
        @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: random, printed).")
        Long seed;
        @Option(names = "--life", paramLabel = "MS", defaultValue = "300",
            description = "A writer lives between MS and 5 MS milliseconds before its kill (default 300).")
        long lifeMs;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception
        {
            if (kills < 0 || writers < 1 || nodes < 1 || replication < 1 || replication > nodes || keys < writers)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), "need kills >= 0, writers >= 1,"
                    + " 1 <= replication <= nodes, keys >= writers");
            }
            final long s = seed != null ? seed : System.nanoTime();
            final Path dir = Files.createTempDirectory("dmkv-chaos-");
            spec.commandLine().getOut().println("work files: " + dir + (transport.equals("local")
                ? " and /dev/shm/" + dir.getFileName() + "-mn*" : "") + " (removed at the end)");
            final List<MemoryNode> started = new ArrayList<>();
            try
            {
                final List<String> endpoints = new ArrayList<>();
                for (int i = 0; i < nodes; i++)
                {
                    final Path shm = transport.equals("local") ? Path.of("/dev/shm", dir.getFileName() + "-mn" + i) : null;
                    final MemoryNode n = MemoryNode.start(new MemoryNode.Config("chaos-mn" + i, "127.0.0.1", 0, memory,
                        MemoryNode.Config.defaultRegionBytes(memory), shm, 2, TcpFrames.DEFAULT_MAX_FRAME, false, null,
                        0));
                    started.add(n);
                    endpoints.add(n.tcpEndpoint());
                }
                final ChaosRun.Result r = new ChaosRun(new ChaosRun.Settings(transport, endpoints, replication, writers, kills,
                    keys, s, dir, javaCommand(), Duration.ofMillis(lifeMs), Duration.ofMillis(5 * lifeMs)),
                    line -> spec.commandLine().getOut().println(line)).run();
                spec.commandLine().getOut().println(r);
                for (final String l : r.lost())
                {
                    spec.commandLine().getOut().println("LOST " + l);
                }
                for (final String p : r.verifyProblems())
                {
                    spec.commandLine().getOut().println("VERIFY " + p);
                }
                spec.commandLine().getOut().flush();
                return r.ok() ? 0 : 1;
            }
            finally
            {
                for (final MemoryNode n : started)
                {
                    n.close();
                }
                try (Stream<Path> files = Files.walk(dir))
                {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
                for (int i = 0; i < nodes; i++)
                {
                    Path.of("/dev/shm", dir.getFileName() + "-mn" + i).toFile().delete();
                }
            }
        }

        private static List<String> javaCommand()
        {
            final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path")));
            return cmd;
        }
    }


    /** The memory-node kill run. */
    @Command(name = "memnodes", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts a ZooKeeper server (scripts/coordinator) and NODES memory-node daemons (scripts/memnode"
            + " --coordinator), each in a process of its own, and WRITERS writer processes (coordinated, r ="
            + " REPLICATION) whose values name their writer and sequence; SIGKILLs a random memory node KILLS times,"
            + " PHASE apart, waiting each time for the fail-over to be published; then checks that every acknowledged"
            + " write reads back and that kv verify is clean. Prints acknowledged writes per second over the run, and"
            + " per kill the time to the fail-over, the writers' pause and the rate before, during and after; exits"
            + " 1 if a write was lost or verify found a problem. At most REPLICATION - 1 kills lose nothing. Then starts"
            + " REPLACEMENTS new memory nodes and waits until the cluster has copied every region back to REPLICATION"
            + " replicas while the writers go on, and prints the same figures for the copy.",
            "Example: scripts/chaos memnodes --nodes 4 --replication 3 --kills 2 --writers 2"})
    public static final class Memnodes implements Callable<Integer>
    {
        @Option(names = "--nodes", paramLabel = "N", defaultValue = "4", description = "Memory nodes (default 4).")
        int nodes;
        @Option(names = "--replication", paramLabel = "R", defaultValue = "3", description = "Replicas (default 3).")
        int replication;
        @Option(names = "--kills", paramLabel = "K", defaultValue = "2",
            description = "Memory nodes to kill, at most R - 1 (default 2).")
        int kills;
        @Option(names = "--writers", paramLabel = "W", defaultValue = "2",
            description = "Writer processes (default 2).")
        int writers;
        @Option(names = "--memory", paramLabel = "BYTES", defaultValue = "64M",
            converter = io.dmkv.bench.cli.KvCli.SizeConverter.class, description = "Per memory node (default 64M).")
        long memory;
        @Option(names = "--keys", paramLabel = "K", defaultValue = "600", description = "Keys in all (default 600).")
        int keys;
        @Option(names = "--phase", paramLabel = "SECONDS", defaultValue = "10",
            description = "Seconds of writing before the first kill, between a fail-over and the next kill, and after"
                + " the last (default 10).")
        long phaseSeconds;
        @Option(names = "--session-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Coordinator session timeout of memory nodes and clients; generous on a loaded machine,"
                + " where a shorter one expires live members (default 10).")
        long sessionSeconds;
        @Option(names = "--replacements", paramLabel = "N", defaultValue = "-1",
            description = "Memory nodes to start after the kills (replacements): the cluster copies the"
                + " under-replicated regions onto them while the writers go on, and the run waits until every region"
                + " is back at R replicas; 0 for none (default: as many as KILLS).")
        int replacements;
        @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: random, printed).")
        Long seed;
        @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Also draw acknowledged writes per second, kills, fail-overs and the copy into this PNG.")
        Path plot;
        @Option(names = "--keep-work", description = "Keep the work files (writer logs and errors) for a look.")
        boolean keepWork;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception
        {
            if (nodes < 2 || replication < 2 || replication > nodes || kills < 1 || kills >= replication
                || writers < 1 || keys < writers || phaseSeconds < 1 || sessionSeconds < 2 || replacements < -1)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), "need 2 <= replication <= nodes,"
                    + " 1 <= kills < replication, writers >= 1, keys >= writers, phase >= 1, session timeout >= 2,"
                    + " replacements >= 0");
            }
            final long s = seed != null ? seed : System.nanoTime();
            final Path dir = Files.createTempDirectory("dmkv-chaos-");
            final PrintWriter out = spec.commandLine().getOut();
            out.println("work files: " + dir + (keepWork ? " (kept)" : " (removed at the end)"));
            try
            {
                final MemnodeChaosRun.Result r = new MemnodeChaosRun(new MemnodeChaosRun.Settings(nodes, replication,
                    memory, writers, kills, keys, Duration.ofSeconds(phaseSeconds), Duration.ofSeconds(sessionSeconds),
                    s, dir, replacements < 0 ? kills : replacements), line ->
                    {
                        out.println(line);
                        out.flush();
                    }).run();
                out.println("acknowledged writes per second (second of the run: writes):");
                r.perSecond().forEach((second, n) -> out.println("  " + second + " " + n));
                r.kills().forEach(k -> out.println(k));
                if (r.replacement() != null)
                {
                    out.println(r.replacement());
                }
                if (plot != null)
                {
                    MemnodeChaosRun.plot(r, plot);
                    out.println("plot: " + plot);
                }
                out.println(r);
                r.lost().forEach(l -> out.println("LOST " + l));
                r.verifyProblems().forEach(p -> out.println("VERIFY " + p));
                out.flush();
                return r.ok() ? 0 : 1;
            }
            finally
            {
                if (!keepWork)
                {
                    try (Stream<Path> files = Files.walk(dir))
                    {
                        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            }
        }
    }

}
