package io.dmkv.bench.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.bench.jmh.MemnodeDaemons;
import io.dmkv.core.address.RegionMap;
import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MapName;

/**
 * Memory-node chaos (docs/reliability.md): a ZooKeeper server and memory-node daemons in
 * processes of their own, writer processes ({@link ChaosWriter}, coordinated) running a mixed
 * workload; this runner SIGKILLs a memory node, waits for the fail-over to be published, lets the
 * writers run on, kills the next, and so on. Then it stops the writers and checks that every
 * acknowledged write reads back (or a later one cut off by a kill), that {@code kv verify} is
 * clean, and reports acknowledged writes per second before, during and after each fail-over and
 * the pause the writers saw (the longest gap between two acknowledged writes of one writer
 * across the kill). With replacements, it then starts new memory nodes, waits until the cluster
 * has copied every region back to r replicas onto them (docs/recovery.md, "Re-replication") and
 * reports the same figures for the copy.
 */
public final class MemnodeChaosRun
{
    /** What to run. */
    public record Settings(int nodes, int replication, long memory, int writers, int kills, int keys, Duration phase,
        Duration sessionTimeout, long seed, Path workDir, int replacements)
    {
    }

    /**
     * Memory nodes started after the kills and the copies they received: when they were started,
     * when the first joining replica showed in the region map and when every region was back at r
     * replicas, how long writes were held (regions sealed, polled every 20 ms), the writers' longest
     * pause in the copy, and acknowledged writes per second before, during and after the copy.
     */
    public record Replacement(int count, long startedAtMs, long copyStartMs, long copyDoneMs, long sealedMs,
        long pauseMs, double opsBefore, double opsDuring, double opsAfter)
    {
        @Override
        public String toString()
        {
            if (copyDoneMs == 0)
            {
                return count + " replacement memory node(s) started: the regions were NOT back at r replicas in time"
                    + " (first joining replica after " + (copyStartMs - startedAtMs) + " ms)";
            }
            return count + " replacement memory node(s) started: first joining replica after "
                + (copyStartMs - startedAtMs) + " ms, every region back at r replicas after "
                + (copyDoneMs - startedAtMs) + " ms (copy " + (copyDoneMs - copyStartMs) + " ms), writes held (sealed)"
                + " about " + sealedMs + " ms, writers paused " + pauseMs + " ms, acknowledged writes/s before "
                + Math.round(opsBefore) + ", during " + Math.round(opsDuring) + ", after " + Math.round(opsAfter);
        }
    }

    /** One kill and what the writers saw of it. */
    public record Kill(int node, long killedAtMs, long publishedAtMs, long pauseMs, double opsBefore, double opsDuring,
        double opsAfter)
    {
        @Override
        public String toString()
        {
            return "memory node " + node + " killed: fail-over published after " + (publishedAtMs - killedAtMs)
                + " ms, writers paused " + pauseMs + " ms, acknowledged writes/s before " + Math.round(opsBefore)
                + ", during " + Math.round(opsDuring) + ", after " + Math.round(opsAfter);
        }
    }

    /** Draws the run's acknowledged writes per second, kills and fail-overs into a PNG. */
    public static void plot(final Result r, final Path file) throws IOException
    {
        MemnodeChaosPlot.draw(r, r.firstAckMs(), file);
    }

    /** What came out. */
    public record Result(List<Kill> kills, int acknowledged, int keysChecked, List<String> lost,
        List<String> verifyProblems, int writerFailures, Map<Long, Integer> perSecond, long firstAckMs,
        Replacement replacement, int fewestReplicas, long lockTakeovers)
    {
        public boolean ok()
        {
            return lost.isEmpty() && verifyProblems.isEmpty() && writerFailures == 0
                && (replacement == null || replacement.copyDoneMs() > 0);
        }

        @Override
        public String toString()
        {
            return "memory nodes killed " + kills.size() + ", replacements " + (replacement == null ? 0
                : replacement.count()) + ", fewest replicas of a region at the end " + fewestReplicas
                + ", acknowledged writes " + acknowledged + ", keys verified " + keysChecked + ", lost " + lost.size()
                + ", verify problems " + verifyProblems.size() + ", writers that failed " + writerFailures
                + ", insert locks left behind and taken over after their lease " + lockTakeovers;
        }
    }

    private final Settings s;
    private final Consumer<String> progress;
    private final SplittableRandom random;

    public MemnodeChaosRun(final Settings settings, final Consumer<String> progress)
    {
        this.s = settings;
        this.progress = progress;
        this.random = new SplittableRandom(settings.seed());
    }

    public Result run() throws IOException, InterruptedException
    {
        progress.accept("seed " + s.seed() + ", " + s.nodes() + " memory nodes, r = " + s.replication() + ", "
            + s.writers() + " writer processes, " + s.kills() + " memory-node kills, " + s.replacements()
            + " replacement(s), " + s.phase().toSeconds() + " s between events, session timeout "
            + s.sessionTimeout().toSeconds() + " s");
        try (MemnodeCluster cluster = MemnodeCluster.start(s.nodes(), s.memory(), s.sessionTimeout()))
        {
            return run(cluster);
        }
    }

    private Result run(final MemnodeCluster cluster) throws IOException, InterruptedException
    {
        final String connect = cluster.connectString();
        final MemnodeDaemons nodes = cluster.nodes();
        final KvConfig config = KvConfig.builder().coordinator(connect).transport("tcp").replication(s.replication())
            .sessionTimeout(s.sessionTimeout()).mapLease(s.sessionTimeout().dividedBy(3))
            .recoveryCheckPeriod(Duration.ofMillis(250)).build();
        final List<Path> logs = new ArrayList<>();
        final List<Process> writers = new ArrayList<>();
        final List<Long> killTimes = new ArrayList<>();
        final List<Long> publishTimes = new ArrayList<>();
        final List<Integer> killed = new ArrayList<>();
        int writerFailures = 0;
        // The observer formats the cluster and, with the lowest client id, runs the fail-overs.
        try (KvStore observer = KvStore.open(config);
            Coordinator watch = Coordinator.open(CoordinatorSettings.of(connect)))
        {
            for (int w = 0; w < s.writers(); w++)
            {
                writers.add(startWriter(connect, w, logs));
            }
            final List<Integer> alive = new ArrayList<>();
            for (int n = 0; n < s.nodes(); n++)
            {
                alive.add(n);
            }
            for (int k = 0; k < s.kills(); k++)
            {
                Thread.sleep(s.phase().toMillis());
                final int node = alive.remove(random.nextInt(alive.size()));
                final long epoch = regionEpoch(watch);
                nodes.kill(node);
                killed.add(node);
                killTimes.add(System.currentTimeMillis());
                progress.accept("SIGKILL memory node " + node + " (" + nodes.endpoints().get(node) + ")");
                final long deadline = System.nanoTime() + s.sessionTimeout().multipliedBy(3).plusSeconds(60).toNanos();
                while (regionEpoch(watch) <= epoch)
                {
                    if (System.nanoTime() > deadline)
                    {
                        throw new IllegalStateException("no fail-over of memory node " + node + " was published");
                    }
                    Thread.sleep(20);
                }
                publishTimes.add(System.currentTimeMillis());
                progress.accept("fail-over of memory node " + node + " published after "
                    + (publishTimes.get(k) - killTimes.get(k)) + " ms");
            }
            Thread.sleep(s.phase().toMillis());
            final long[] copy = s.replacements() > 0 ? replace(cluster, watch) : null;
            if (copy != null)
            {
                Thread.sleep(s.phase().toMillis());
            }
            final long stoppedAt = System.currentTimeMillis();
            for (final Process w : writers)
            {
                w.getOutputStream().close();
            }
            for (final Process w : writers)
            {
                if (!w.waitFor(120, TimeUnit.SECONDS) || w.exitValue() != 0)
                {
                    writerFailures++;
                    progress.accept("a writer did not stop cleanly");
                    w.destroyForcibly().waitFor();
                }
            }
            final Map<String, List<String>> allowed = ChaosRun.expected(logs);
            final List<String> lost = ChaosRun.unexpected(observer, allowed);
            final List<String> problems;
            try (KvAdmin admin = KvAdmin.open(config))
            {
                problems = admin.verify(true);
            }
            final List<long[]> acks = acknowledgements(logs);
            final Map<Long, Integer> perSecond = perSecond(acks);
            final List<Kill> kills = new ArrayList<>();
            for (int k = 0; k < killed.size(); k++)
            {
                final long from = k == 0 ? 0 : publishTimes.get(k - 1);
                final long to = k + 1 < killed.size() ? killTimes.get(k + 1) : copy != null ? copy[0] : stoppedAt;
                kills.add(new Kill(killed.get(k), killTimes.get(k), publishTimes.get(k), pause(acks, killTimes.get(k)),
                    rate(acks, Math.max(from, first(acks)), killTimes.get(k)),
                    rate(acks, killTimes.get(k), publishTimes.get(k)), rate(acks, publishTimes.get(k), to)));
            }
            final long copyEnd = copy == null || copy[2] == 0 ? stoppedAt : copy[2];
            final Replacement replacement = copy == null ? null : new Replacement(s.replacements(), copy[0], copy[1],
                copy[2], copy[3], pause(acks, copy[1], copyEnd), rate(acks, publishTimes.get(publishTimes.size() - 1),
                copy[0]), rate(acks, copy[1], copyEnd), rate(acks, copyEnd, stoppedAt));
            return new Result(kills, acks.size(), allowed.size(), lost, problems, writerFailures, perSecond,
                first(acks), replacement, fewestReplicas(watch), lockTakeovers(logs));
        }
        finally
        {
            for (final Process w : writers)
            {
                w.destroyForcibly();
            }
        }
    }


    /**
     * Starts the replacement memory nodes and follows the region map until every region is back at
     * r replicas with no joining replica: {started, first joiner seen, done, sealed ms polled}.
     */
    private long[] replace(final MemnodeCluster cluster, final Coordinator watch)
        throws IOException, InterruptedException
    {
        final long started = System.currentTimeMillis();
        for (int i = 0; i < s.replacements(); i++)
        {
            progress.accept("started replacement memory node " + cluster.addNode());
        }
        long firstJoiner = 0;
        long sealedMs = 0;
        long lastPoll = System.currentTimeMillis();
        final long deadline = System.nanoTime() + s.sessionTimeout().multipliedBy(3).plusSeconds(120).toNanos();
        while (System.nanoTime() < deadline)
        {
            final RegionMap map = RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow().payload());
            final long now = System.currentTimeMillis();
            final boolean joining = map.anyJoining();
            final boolean full = map.fewestReplicas() == map.replicationFactor();
            sealedMs += map.anySealed() ? now - lastPoll : 0;
            lastPoll = now;
            if (joining && firstJoiner == 0)
            {
                firstJoiner = now;
                progress.accept("first joining replica in the region map after " + (now - started) + " ms");
            }
            if (full && !joining && firstJoiner > 0)
            {
                progress.accept("every region back at r = " + map.replicationFactor() + " replicas after "
                    + (now - started) + " ms (map epoch " + map.epoch() + ")");
                return new long[] {started, firstJoiner, now, sealedMs};
            }
            Thread.sleep(20);
        }
        progress.accept("the regions were NOT back at r replicas in time");
        return new long[] {started, Math.max(firstJoiner, started), 0, sealedMs};
    }

    private static int fewestReplicas(final Coordinator watch)
    {
        return RegionMap.fromBytes(watch.maps().read(MapName.REGIONS).orElseThrow().payload()).fewestReplicas();
    }

    private Process startWriter(final String connect, final int slot, final List<Path> logs) throws IOException
    {
        final Path log = s.workDir().resolve("writer-" + slot + ".log");
        logs.add(log);
        final Process p = new ProcessBuilder(MemnodeCluster.command(ChaosWriter.class, "tcp", ChaosWriter.COORDINATOR + connect,
            Integer.toString(s.replication()), Integer.toString(slot), Integer.toString(s.writers()),
            Integer.toString(s.keys()), Long.toString(random.nextLong()), log.toString()))
            .redirectError(s.workDir().resolve("writer-" + slot + ".err").toFile()).start();
        final BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        final String ready = in.readLine();
        if (ready == null || !ready.startsWith("ready "))
        {
            p.destroyForcibly();
            throw new IOException("writer " + slot + " did not start (" + ready + "); see "
                + s.workDir().resolve("writer-" + slot + ".err"));
        }
        return p;
    }

    private static long regionEpoch(final Coordinator c)
    {
        return c.maps().read(MapName.REGIONS).orElseThrow().epoch();
    }

    /** The insert locks the writers took over after their lease, as each reported when it stopped. */
    static long lockTakeovers(final List<Path> logs) throws IOException
    {
        long n = 0;
        for (final Path log : logs)
        {
            for (final String line : Files.readAllLines(log, StandardCharsets.UTF_8))
            {
                if (line.startsWith("S lockTakeovers "))
                {
                    n += Long.parseLong(line.substring("S lockTakeovers ".length()));
                }
            }
        }
        return n;
    }

    /** Every acknowledgement as {writer, wall-clock ms}, in each writer's order. */
    static List<long[]> acknowledgements(final List<Path> logs) throws IOException
    {
        final List<long[]> acks = new ArrayList<>();
        for (int w = 0; w < logs.size(); w++)
        {
            for (final String line : Files.readAllLines(logs.get(w), StandardCharsets.UTF_8))
            {
                final String[] f = line.split(" ", 5);
                if (f[0].equals("A") && f.length >= 4)
                {
                    acks.add(new long[] {w, Long.parseLong(f[3])});
                }
            }
        }
        return acks;
    }

    /** Acknowledged writes per second of the run (seconds since the first). */
    static Map<Long, Integer> perSecond(final List<long[]> acks)
    {
        final long start = first(acks);
        final Map<Long, Integer> out = new TreeMap<>();
        long last = -1;
        for (final long[] a : acks)
        {
            final long second = (a[1] - start) / 1000;
            out.merge(second, 1, Integer::sum);
            last = Math.max(last, second);
        }
        // Seconds without an acknowledged write (a fail-over under way) count, as 0.
        for (long second = 0; second <= last; second++)
        {
            out.putIfAbsent(second, 0);
        }
        return out;
    }

    private static long first(final List<long[]> acks)
    {
        long t = Long.MAX_VALUE;
        for (final long[] a : acks)
        {
            t = Math.min(t, a[1]);
        }
        return acks.isEmpty() ? 0 : t;
    }

    /** Acknowledged writes per second in [from, to). */
    static double rate(final List<long[]> acks, final long from, final long to)
    {
        if (to <= from)
        {
            return 0;
        }
        int n = 0;
        for (final long[] a : acks)
        {
            n += a[1] >= from && a[1] < to ? 1 : 0;
        }
        return n * 1000.0 / (to - from);
    }

    /** The longest gap, over writers, between the last acknowledgement before {@code at} and the first after. */
    /**
     * The longest gap between two consecutive acknowledgements of one writer that overlaps
     * [{@code from}, {@code to}]: the longest any writer waited during the copy.
     */
    static long pause(final List<long[]> acks, final long from, final long to)
    {
        final Map<Long, Long> previous = new TreeMap<>();
        long worst = 0;
        for (final long[] a : acks)
        {
            final Long before = previous.put(a[0], a[1]);
            if (before != null && a[1] >= from && before <= to)
            {
                worst = Math.max(worst, a[1] - before);
            }
        }
        return worst;
    }

    static long pause(final List<long[]> acks, final long at)
    {
        long worst = 0;
        final Map<Long, long[]> around = new TreeMap<>();
        for (final long[] a : acks)
        {
            final long[] w = around.computeIfAbsent(a[0], k -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
            if (a[1] <= at)
            {
                w[0] = Math.max(w[0], a[1]);
            }
            else
            {
                w[1] = Math.min(w[1], a[1]);
            }
        }
        for (final long[] w : around.values())
        {
            if (w[0] != Long.MIN_VALUE && w[1] != Long.MAX_VALUE)
            {
                worst = Math.max(worst, w[1] - w[0]);
            }
        }
        return worst;
    }
}
