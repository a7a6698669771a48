package io.dmkv.bench.runner;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

import io.dmkv.KvConfig;

/**
 * What one client process of {@code kv bench --processes N} runs: the store to open, the
 * workload, its share of the threads (and of the operation bound), and where to write its
 * {@link ProcessResult}. Passed to the process as a properties file.
 *
 * @param process      index of the process, 0 ..
 * @param store        the cluster to open.
 * @param workload     the workload (every process runs the whole mix).
 * @param threads      threads of this process.
 * @param firstThread  global index of its first thread.
 * @param totalThreads threads of all processes.
 * @param run          number of the run phase in a thread sweep (0, 1, ...).
 * @param warmup       length of the warm-up before the run phase (not counted; zero: none).
 * @param duration     length of the run phase.
 * @param operations   this process's operation bound, or -1.
 * @param seed         random seed of the run.
 * @param output       file for the result.
 */
public record BenchSpec(int process, KvConfig store, Workload workload, int threads, int firstThread, int totalThreads,
    int run, Duration warmup, Duration duration, long operations, long seed, Path output)
{
    private static final String P = "bench.";

    public void write(final Path file) throws IOException
    {
        final Properties p = new Properties();
        p.putAll(store.toProperties());
        p.setProperty(P + "process", Integer.toString(process));
        p.setProperty(P + "threads", Integer.toString(threads));
        p.setProperty(P + "firstThread", Integer.toString(firstThread));
        p.setProperty(P + "totalThreads", Integer.toString(totalThreads));
        p.setProperty(P + "run", Integer.toString(run));
        p.setProperty(P + "warmupMs", Long.toString(warmup.toMillis()));
        p.setProperty(P + "durationMs", Long.toString(duration.toMillis()));
        p.setProperty(P + "operations", Long.toString(operations));
        p.setProperty(P + "seed", Long.toString(seed));
        p.setProperty(P + "output", output.toAbsolutePath().toString());
        p.setProperty(P + "workload.name", workload.name());
        p.setProperty(P + "workload.read", Double.toString(workload.readProportion()));
        p.setProperty(P + "workload.update", Double.toString(workload.updateProportion()));
        p.setProperty(P + "workload.insert", Double.toString(workload.insertProportion()));
        p.setProperty(P + "workload.rmw", Double.toString(workload.readModifyWriteProportion()));
        p.setProperty(P + "workload.distribution", workload.distribution().ycsbName());
        p.setProperty(P + "workload.zipfianConstant", Double.toString(workload.zipfianConstant()));
        p.setProperty(P + "workload.records", Integer.toString(workload.records()));
        p.setProperty(P + "workload.minValueSize", Integer.toString(workload.minValueSize()));
        p.setProperty(P + "workload.maxValueSize", Integer.toString(workload.maxValueSize()));
        p.setProperty(P + "workload.operations", Long.toString(workload.operations()));
        p.setProperty(P + "workload.hotSetShift", Double.toString(workload.hotSetShift()));
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8))
        {
            p.store(w, "dmkv bench client process " + process);
        }
    }

    public static BenchSpec read(final Path file) throws IOException
    {
        final Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            p.load(r);
        }
        final Workload w = new Workload(get(p, "workload.name"), dbl(p, "workload.read"), dbl(p, "workload.update"),
            dbl(p, "workload.insert"), dbl(p, "workload.rmw"), Workload.Distribution.of(get(p, "workload.distribution")),
            dbl(p, "workload.zipfianConstant"), (int)lng(p, "workload.records"), (int)lng(p, "workload.minValueSize"),
            (int)lng(p, "workload.maxValueSize"), lng(p, "workload.operations"), dbl(p, "workload.hotSetShift"));
        return new BenchSpec((int)lng(p, "process"), KvConfig.fromProperties(p), w, (int)lng(p, "threads"),
            (int)lng(p, "firstThread"), (int)lng(p, "totalThreads"), (int)lng(p, "run"),
            Duration.ofMillis(lng(p, "warmupMs")), Duration.ofMillis(lng(p, "durationMs")), lng(p, "operations"), lng(p, "seed"), Path.of(get(p, "output")));
    }

    private static String get(final Properties p, final String key)
    {
        final String v = p.getProperty(P + key);
        if (v == null)
        {
            throw new IllegalArgumentException("bench spec lacks " + P + key);
        }
        return v;
    }

    private static long lng(final Properties p, final String key)
    {
        return Long.parseLong(get(p, key));
    }

    private static double dbl(final Properties p, final String key)
    {
        return Double.parseDouble(get(p, key));
    }
}
