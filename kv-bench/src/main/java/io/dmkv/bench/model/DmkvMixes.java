package io.dmkv.bench.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStore;
import io.dmkv.bench.runner.BenchReport;
import io.dmkv.bench.runner.BenchWorkers;
import io.dmkv.bench.runner.ClusterSizing;
import io.dmkv.bench.runner.Keys;
import io.dmkv.bench.runner.RunResult;
import io.dmkv.bench.runner.WorkloadException;
import io.dmkv.bench.runner.Workload;
import io.dmkv.bench.runner.WorkloadRunner;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbCounters;

/**
 * dmkv's own verb mixes, the input of the model's dmkv column: measured here
 * ({@link #measure}, a short run on an embedded cluster) or read from a {@code kv bench}
 * results folder ({@link #fromResults}). Verbs, bytes and round trips do not depend on the
 * transport, so a run on {@code local} gives the mix an RNIC would carry.
 *
 * @param source    where the mixes come from (one line, for the report).
 * @param ops       SEARCH, INSERT, UPDATE, DELETE (those available).
 * @param workloads mixes measured as whole workloads (exact), by the name of the report's row.
 * @param estimated operations whose split into READ/WRITE/atomic verbs is estimated (see {@link #fromResults}).
 */
public record DmkvMixes(String source, Map<String, VerbMix> ops, Map<String, VerbMix> workloads, Set<String> estimated)
{
    /** How {@link #measure} runs: FUSEE's set-up where it matters to the mix. */
    public record Measurement(int records, int ops, int valueSize, double zipf)
    {
        /** 20,000 keys, 20,000 operations of each kind, 16-byte keys and 1,008-byte values (a 1 KiB KV pair), zipf 0.99. */
        public static final Measurement DEFAULT = new Measurement(20_000, 20_000, FuseeReference.KV_BYTES - Keys.LENGTH,
            Workload.DEFAULT_ZIPFIAN_CONSTANT);
    }

    /**
     * Measures dmkv's mix of each operation on an embedded cluster of FUSEE's shape (2 memory
     * nodes, r = 2, {@code local} transport), one client thread, warm index cache: INSERT while
     * loading the keys, then SEARCH and UPDATE with zipfian popularity, then DELETE of distinct
     * keys. Each phase's verbs come from the store's counters (by kind, background work included),
     * divided by its operations.
     */
    public static DmkvMixes measure(final Measurement m)
    {
        final int nodes = FuseeReference.MEMORY_NODES;
        final int r = FuseeReference.REPLICATION;
        final Workload base = new Workload("measure", 1, 0, 0, 0, Workload.Distribution.ZIPFIAN, m.zipf(), m.records(),
            m.valueSize(), m.valueSize(), -1);
        final ClusterSizing room = ClusterSizing.forKeys(m.records() + (long)m.ops(), Keys.LENGTH, m.valueSize(), nodes,
            r);
        final Map<String, VerbMix> ops = new LinkedHashMap<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(nodes, room.memoryPerNode(), room.regionBytes(), "local", false);
            KvStore kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).transport("local")
                .replication(r).indexAreaBytes(room.indexAreaBytes()).build()))
        {
            final BenchWorkers loader = new BenchWorkers(kv, base, 1, 0, 0, 1);
            ops.put("INSERT", phase(kv, "INSERT", m.records(), i -> loader.loader(0, 1)));
            final BenchWorkers search = new BenchWorkers(kv, base, 1, 0, 0, 2);
            ops.put("SEARCH", phase(kv, "SEARCH", m.ops(), i -> alone(search.runner(i))));
            final Workload updates = new Workload("measure", 0, 1, 0, 0, Workload.Distribution.ZIPFIAN, m.zipf(),
                m.records(), m.valueSize(), m.valueSize(), -1);
            final BenchWorkers update = new BenchWorkers(kv, updates, 1, 0, 0, 3);
            ops.put("UPDATE", phase(kv, "UPDATE", m.ops(), i -> alone(update.runner(i))));
            final int deletes = Math.min(m.ops(), m.records());
            ops.put("DELETE", phase(kv, "DELETE", deletes, i -> seq ->
            {
                try
                {
                    if (!kv.delete(Keys.key(seq)))
                    {
                        throw new IllegalStateException("key " + seq + " was not there to delete");
                    }
                }
                catch (final KvException e)
                {
                    throw new WorkloadException(0, e);
                }
                return 0;
            }));
        }
        final String source = String.format(Locale.ROOT, "measured just now: embedded cluster, local transport, %d "
            + "memory nodes, r = %d, 1 client thread; %,d keys of %d B with %,d B values; SEARCH and UPDATE zipfian "
            + "%.2f (%,d each), DELETE of %,d distinct keys", nodes, r, m.records(), Keys.LENGTH, m.valueSize(),
            m.zipf(), m.ops(), Math.min(m.ops(), m.records()));
        return new DmkvMixes(source, ops, Map.of(), Set.of());
    }

    /** A worker of a one-kind phase: every operation counts as kind 0. */
    private static WorkloadRunner.Worker alone(final WorkloadRunner.Worker w)
    {
        return seq ->
        {
            try
            {
                w.runOne(seq);
            }
            catch (final WorkloadException e)
            {
                throw new WorkloadException(0, e.getCause());
            }
            return 0;
        };
    }

    private static VerbMix phase(final KvStore kv, final String name, final long count,
        final IntFunction<WorkloadRunner.Worker> worker)
    {
        final VerbCounters.Snapshot before = kv.counters();
        final RunResult r = WorkloadRunner.run(name, List.of(name), 1, count, null, worker,
            WorkloadRunner.Progress.NONE);
        if (r.totalErrors() > 0)
        {
            throw new IllegalStateException(name + ": " + r.totalErrors() + " operations failed while measuring");
        }
        return VerbMix.of(name, kv.counters().minus(before), r.totalOps());
    }

    /**
     * The mixes of a {@code kv bench} results folder. INSERT comes from the load phase (exact:
     * the store's counters over inserts alone). The last run phase gives the mix of its whole
     * workload (exact), named after the YCSB workload whose proportions it has, and the mix of
     * each operation kind: round trips and bytes from the per-thread counters of that kind
     * (exact), and — when the phase mixes kinds — its READs, WRITEs and atomics estimated: the
     * phase's atomics go to the kinds that write, in proportion to their verbs, and each kind's
     * other verbs split into READs and WRITEs as the phase's do. (The store counts verbs by kind
     * only per store; and dmkv posts the frees of an update's replaced object, an FAA and a WRITE
     * per replica, with the thread's next operation, whatever its kind.)
     */
    public static DmkvMixes fromResults(final Path folder) throws IOException
    {
        final Path file = Files.isDirectory(folder) ? folder.resolve(BenchReport.JSON_FILE) : folder;
        final JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (root == null || !BenchReport.FORMAT.equals(root.path("format").asText()))
        {
            throw new IllegalArgumentException(file + " is not a kv bench result (" + BenchReport.FORMAT + ")");
        }
        final Map<String, VerbMix> ops = new LinkedHashMap<>();
        final Map<String, VerbMix> workloads = new LinkedHashMap<>();
        final Set<String> estimated = new LinkedHashSet<>();
        final JsonNode load = root.path("load");
        if (load.isObject() && load.path("ops").asLong() > 0)
        {
            ops.put("INSERT", VerbMix.of("INSERT", counters(load), load.path("ops").asLong()
                + load.path("errors").asLong()));
        }
        final JsonNode runs = root.path("runs");
        if (runs.size() > 0)
        {
            final JsonNode run = runs.get(runs.size() - 1);
            final VerbCounters.Snapshot c = counters(run);
            final String row = ycsbRow(root.path("workload"));
            workloads.put(row, VerbMix.of(row, c, run.path("ops").asLong() + run.path("errors").asLong()));
            final List<JsonNode> kinds = new ArrayList<>();
            run.path("operations").forEach(kinds::add);
            // the estimated split: atomics belong to the kinds that write (the frees an update posts
            // with the next operation are the update's); READ and WRITE verbs to every kind in
            // proportion to its other verbs
            double writerVerbs = 0;
            double allVerbs = 0;
            for (final JsonNode k : kinds)
            {
                final double v = k.path("totals").path("verbs").asDouble() - k.path("totals").path("rpcs").asDouble();
                allVerbs += v;
                writerVerbs += "READ".equals(k.path("name").asText()) ? 0 : v;
            }
            final double atomics = c.cas() + c.faa();
            final double readsAndWrites = Math.max(1, allVerbs - atomics);
            for (final JsonNode k : kinds)
            {
                final String name = opName(k.path("name").asText());
                if (name == null || ops.containsKey(name))
                {
                    continue;
                }
                final double n = Math.max(1, k.path("ops").asLong() + k.path("errors").asLong());
                final JsonNode t = k.path("totals");
                final double verbs = t.path("verbs").asDouble() - t.path("rpcs").asDouble();
                final VerbMix mix;
                if (kinds.size() == 1)
                {
                    mix = VerbMix.of(name, c, (long)n);
                }
                else
                {
                    estimated.add(name);
                    final double a = "SEARCH".equals(name) || writerVerbs == 0 ? 0
                        : Math.min(verbs, atomics * verbs / writerVerbs);
                    final double rest = verbs - a;
                    mix = new VerbMix(name, t.path("roundTrips").asDouble() / n, rest * c.reads() / readsAndWrites / n,
                        rest * c.writes() / readsAndWrites / n, a / n, t.path("rpcs").asDouble() / n,
                        t.path("bytesOut").asDouble() / n, t.path("bytesIn").asDouble() / n);
                }
                ops.put(name, mix);
            }
        }
        final String source = String.format(Locale.ROOT, "from %s (%s; last run: %d threads)", file,
            root.path("command").asText("kv bench"), runs.size() > 0 ? runs.get(runs.size() - 1).path("threads").asInt()
                : 0);
        return new DmkvMixes(source, ops, workloads, estimated);
    }

    static VerbCounters.Snapshot counters(final JsonNode phase)
    {
        final JsonNode c = phase.path("counters");
        return new VerbCounters.Snapshot(c.path("reads").asLong(), c.path("writes").asLong(), c.path("cas").asLong(),
            c.path("faa").asLong(), c.path("rpcs").asLong(), c.path("bytesOut").asLong(), c.path("bytesIn").asLong(),
            c.path("roundTrips").asLong());
    }

    private static String opName(final String benchName)
    {
        switch (benchName)
        {
            case "READ":
                return "SEARCH";
            case "UPDATE":
                return "UPDATE";
            case "INSERT":
                return "INSERT";
            default:
                return null;
        }
    }

    /** "YCSB A" .. "YCSB D" when the proportions are those of a core workload, else "workload NAME". */
    private static String ycsbRow(final JsonNode w)
    {
        final double read = w.path("readproportion").asDouble();
        final double update = w.path("updateproportion").asDouble();
        final double insert = w.path("insertproportion").asDouble();
        final double rmw = w.path("readmodifywriteproportion").asDouble();
        if (rmw == 0 && near(read, 0.5) && near(update, 0.5))
        {
            return "YCSB A";
        }
        if (rmw == 0 && near(read, 0.95) && near(update, 0.05))
        {
            return "YCSB B";
        }
        if (rmw == 0 && near(read, 1))
        {
            return "YCSB C";
        }
        if (rmw == 0 && near(read, 0.95) && near(insert, 0.05))
        {
            return "YCSB D";
        }
        return "workload " + w.path("name").asText("?");
    }

    private static boolean near(final double a, final double b)
    {
        return Math.abs(a - b) < 1e-9;
    }
}
