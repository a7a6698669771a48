package io.dmkv.bench.chaos;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStore;

/**
 * Client chaos: writer processes ({@link ChaosWriter}) run a mixed workload on a cluster while
 * this runner SIGKILLs one at a random moment, recovers its client id from the log
 * ({@link KvAdmin#recover}), and starts a new writer in its place; after the last kill it stops
 * the others cleanly and checks that every acknowledged write is readable with its value (or a
 * later one in flight at a kill), that the cluster verifies clean, and that no block is left
 * owned. The memory nodes are the caller's (their endpoints and transport come in the settings).
 */
public final class ChaosRun
{
    /** What to run. */
    public record Settings(String transport, List<String> nodes, int replication, int writers, int kills, int keys,
        long seed, Path workDir, List<String> javaCommand, Duration minLife, Duration maxLife)
    {
    }

    /** What came out. */
    public record Result(int kills, int recoveries, long recoveryP50Ms, long recoveryP99Ms, long maxRecoveryMs,
        long repairP50Ms, long repairP99Ms, int acknowledgedChecked, List<String> lost, List<String> verifyProblems,
        int blocksLeaked, int writerFailures)
    {
        public boolean ok()
        {
            return lost.isEmpty() && verifyProblems.isEmpty() && blocksLeaked == 0 && writerFailures == 0;
        }

        @Override
        public String toString()
        {
            return "kills " + kills + ", recoveries " + recoveries + ", recovery time p50 " + recoveryP50Ms + " ms p99 "
                + recoveryP99Ms + " ms max " + maxRecoveryMs + " ms (after the heartbeat was found still: p50 "
                + repairP50Ms + " ms p99 " + repairP99Ms + " ms), acknowledged writes verified " + acknowledgedChecked
                + ", lost " + lost.size() + ", verify problems " + verifyProblems.size() + ", blocks leaked "
                + blocksLeaked + ", writers that failed " + writerFailures;
        }
    }

    private static final class Writer
    {
        final int slot;
        final Process process;
        final int clientId;
        final Path log;
        final long started = System.nanoTime();

        Writer(final int slot, final Process process, final int clientId, final Path log)
        {
            this.slot = slot;
            this.process = process;
            this.clientId = clientId;
            this.log = log;
        }
    }

    private final Settings s;
    private final Consumer<String> progress;
    private final SplittableRandom random;
    private int incarnation;

    public ChaosRun(final Settings settings, final Consumer<String> progress)
    {
        this.s = settings;
        this.progress = progress;
        this.random = new SplittableRandom(settings.seed());
    }

    public Result run() throws IOException, InterruptedException
    {
        progress.accept("seed " + s.seed() + ", " + s.writers() + " writers, " + s.kills() + " kills, transport "
            + s.transport() + ", r = " + s.replication());
        final KvConfig config = KvConfig.builder().memnodes(s.nodes()).transport(s.transport())
            .replication(s.replication()).build();
        final List<Path> logs = new ArrayList<>();
        final List<Long> recoveryMs = new ArrayList<>();
        final List<Long> repairMs = new ArrayList<>();
        int writerFailures = 0;
        try (KvAdmin admin = KvAdmin.open(config))
        {
            final Writer[] writers = new Writer[s.writers()];
            for (int w = 0; w < writers.length; w++)
            {
                writers[w] = start(w, logs);
            }
            for (int k = 0; k < s.kills(); k++)
            {
                final int w = random.nextInt(writers.length);
                final long lifeMs = s.minLife().toMillis()
                    + random.nextLong(Math.max(1, s.maxLife().toMillis() - s.minLife().toMillis()));
                final long aliveMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writers[w].started);
                if (lifeMs > aliveMs)
                {
                    Thread.sleep(lifeMs - aliveMs);
                }
                if (!writers[w].process.isAlive())
                {
                    writerFailures++;
                    progress.accept("writer " + writers[w].clientId + " exited by itself with "
                        + writers[w].process.exitValue());
                }
                writers[w].process.destroyForcibly().waitFor();
                final long t0 = System.nanoTime();
                final KvAdmin.Recovery r = admin.recover(writers[w].clientId);
                recoveryMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                repairMs.add(r.took().toMillis());
                progress.accept("kill " + (k + 1) + "/" + s.kills() + ": client " + r.clientId() + " recovered in "
                    + r.took().toMillis() + " ms (" + r.logEntries() + " log entries, " + r.slotsSettled()
                    + " slots settled, " + r.locksReleased() + " locks released, " + r.blocksHandedOver()
                    + " blocks handed over, " + r.blocksReleased() + " released)");
                writers[w] = start(writers[w].slot, logs);
            }
            for (final Writer w : writers)
            {
                w.process.getOutputStream().close();
            }
            for (final Writer w : writers)
            {
                if (!w.process.waitFor(60, TimeUnit.SECONDS) || w.process.exitValue() != 0)
                {
                    writerFailures++;
                    progress.accept("writer " + w.clientId + " did not stop cleanly");
                    w.process.destroyForcibly().waitFor();
                    admin.recover(w.clientId);
                }
            }
            final Map<String, List<String>> allowed = expected(logs);
            final List<String> lost;
            try (KvStore kv = KvStore.open(config))
            {
                lost = unexpected(kv, allowed);
            }
            final List<String> problems = admin.verify(true);
            final int leaked = admin.blocks().owned();
            final long[] sorted = recoveryMs.stream().mapToLong(Long::longValue).sorted().toArray();
            final long[] repair = repairMs.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Result(s.kills(), recoveryMs.size(), percentile(sorted, 50), percentile(sorted, 99),
                sorted.length == 0 ? 0 : sorted[sorted.length - 1], percentile(repair, 50), percentile(repair, 99),
                allowed.size(), lost, problems, leaked, writerFailures);
        }
    }

    private Writer start(final int slot, final List<Path> logs) throws IOException
    {
        final Path log = s.workDir().resolve("writer-" + slot + "-" + (incarnation++) + ".log");
        logs.add(log);
        final List<String> cmd = new ArrayList<>(s.javaCommand());
        cmd.addAll(List.of(ChaosWriter.class.getName(), s.transport(), String.join(",", s.nodes()),
            Integer.toString(s.replication()), Integer.toString(slot), Integer.toString(s.writers()),
            Integer.toString(s.keys()), Long.toString(random.nextLong()), log.toString()));
        final Process p = new ProcessBuilder(cmd).redirectError(s.workDir().resolve("writer-" + slot + ".err").toFile())
            .start();
        final BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        final String ready = in.readLine();
        if (ready == null || !ready.startsWith("ready "))
        {
            p.destroyForcibly();
            throw new IOException("writer " + slot + " did not start (" + ready + "); see "
                + s.workDir().resolve("writer-" + slot + ".err"));
        }
        return new Writer(slot, p, Integer.parseInt(ready.substring(6).trim()), log);
    }

    /**
     * Per key, the values it may hold now: the last acknowledged write's, those of writes begun
     * after it and never acknowledged (in flight at a kill), and those of every write that failed
     * ("F"): a failed write's proposal may still be applied by a later write of the key, after that
     * write was acknowledged (docs/recovery.md, "Outcome unknown"). "-" stands for absent.
     */
    static Map<String, List<String>> expected(final List<Path> logs) throws IOException
    {
        final Map<String, List<String>> allowed = new HashMap<>();
        final Map<String, List<String>> failed = new HashMap<>();
        for (final Path log : logs)
        {
            if (!Files.exists(log))
            {
                continue;
            }
            // A writer has one operation in flight at a time: an "A" line acknowledges the "B" before it.
            String[] begun = null;
            try (BufferedReader in = Files.newBufferedReader(log, StandardCharsets.UTF_8))
            {
                for (String line = in.readLine(); line != null; line = in.readLine())
                {
                    final String[] w = line.split(" ", 4);
                    if (w[0].equals("B") && w.length == 4)
                    {
                        allowed.computeIfAbsent(w[1], k -> new ArrayList<>(List.of("-"))).add(w[3]);
                        begun = w;
                    }
                    else if (w[0].equals("A") && w.length >= 3 && begun != null && begun[1].equals(w[1])
                        && begun[2].equals(w[2]))
                    {
                        final List<String> now = new ArrayList<>(List.of(begun[3]));
                        now.addAll(failed.getOrDefault(w[1], List.of()));
                        allowed.put(w[1], now);
                        begun = null;
                    }
                    else if (w[0].equals("F") && w.length >= 3 && begun != null && begun[1].equals(w[1])
                        && begun[2].equals(w[2]))
                    {
                        failed.computeIfAbsent(w[1], k -> new ArrayList<>()).add(begun[3]);
                        begun = null;
                    }
                }
            }
        }
        return allowed;
    }

    /** The keys whose value in {@code kv} is none of those {@link #expected} allows, each with what was read. */
    static List<String> unexpected(final KvStore kv, final Map<String, List<String>> allowed)
    {
        final List<String> lost = new ArrayList<>();
        for (final Map.Entry<String, List<String>> e : allowed.entrySet())
        {
            final String value;
            try
            {
                value = kv.get(e.getKey());
            }
            catch (final KvException failure)
            {
                lost.add(e.getKey() + ": the read failed: " + failure);
                continue;
            }
            if (!e.getValue().contains(value == null ? "-" : value))
            {
                lost.add(e.getKey() + ": read " + abbreviate(value) + ", expected one of "
                    + e.getValue().stream().map(ChaosRun::abbreviate).toList());
            }
        }
        return lost;
    }

    private static long percentile(final long[] sorted, final int p)
    {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int)Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static String abbreviate(final String v)
    {
        return v == null ? "(absent)" : v.length() > 40 ? v.substring(0, 40) + "…(" + v.length() + " chars)" : v;
    }
}
