package io.dmkv.bench.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.dmkv.KvStore;
import io.dmkv.rdma.VerbCounters;

/**
 * The main class of a client process of {@code kv bench --processes N}. It opens its own
 * {@link KvStore}, tells the parent it is ready, waits for the go, runs its share of the run
 * phase and writes a {@link ProcessResult}. It talks to the parent in lines on stdout and stdin:
 *
 * <pre>
 *   child  → parent   DMKV READY            store open, waiting
 *   parent → child    GO                    start (sent to every process at once): the warm-up, then the run phase
 *   child  → parent   DMKV WARM             the warm-up ended, the counted run phase starts
 *   child  → parent   DMKV PROGRESS n       run-phase operations done so far, about five times a second
 *   child  → parent   DMKV DONE             result written to the spec's output file
 * </pre>
 * Logs and errors go to stderr. Exit code 0 on success, 1 on failure, 3 if stdin closed before the go.
 */
public final class BenchProcess
{
    static final String READY = "DMKV READY";
    static final String GO = "GO";
    static final String PROGRESS = "DMKV PROGRESS ";
    static final String DONE = "DMKV DONE";
    /** Printed when the warm-up ended and the counted run phase starts. */
    static final String WARM = "DMKV WARM";

    private BenchProcess()
    {
    }

    /** {@code BenchProcess SPEC-FILE}. */
    public static void main(final String[] args)
    {
        if (args.length != 1)
        {
            System.err.println("usage: BenchProcess SPEC-FILE (started by kv bench --processes N)");
            System.exit(2);
        }
        System.exit(run(Path.of(args[0]), new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
            System.out, true));
    }

    /** @param watchInput end this JVM when {@code in} ends after the go (the parent went away). */
    static int run(final Path specFile, final BufferedReader in, final PrintStream out, final boolean watchInput)
    {
        final BenchSpec spec;
        try
        {
            spec = BenchSpec.read(specFile);
        }
        catch (final Exception e)
        {
            System.err.println("client process: cannot read " + specFile + ": " + e.getMessage());
            return 1;
        }
        try (KvStore kv = KvStore.open(spec.store()); BenchThreads threads = new BenchThreads(spec.threads(), "run"))
        {
            final BenchWorkers workers = new BenchWorkers(kv, spec.workload(), spec.totalThreads(), spec.firstThread(),
                spec.run(), spec.seed()).runLength(spec.duration());
            out.println(READY);
            out.flush();
            final String line = in.readLine();
            if (line == null || !GO.equals(line.trim()))
            {
                System.err.println("client process " + spec.process() + ": no go from kv bench (got " + line + ")");
                return 3;
            }
            if (watchInput)
            {
                exitWhenInputEnds(in);
            }
            Warmup.run(kv, spec.workload(), threads, spec.totalThreads(), spec.firstThread(), spec.run(),
                spec.seed(), spec.warmup(), WorkloadRunner.Progress.NONE);
            out.println(WARM);
            out.flush();
            final VerbCounters.Snapshot before = kv.counters();
            final PhaseCpu cpu = PhaseCpu.now();
            final long start = ProcessResult.epochNanos();
            final RunResult r = WorkloadRunner.run("run", BenchWorkers.RUN_OPS, threads, spec.operations(),
                spec.duration(), workers::runner, new ProgressLines(out));
            ProcessResult.of(spec.process(), r, start, workers.missesByKind(BenchWorkers.RUN_OPS.size()),
                kv.counters().minus(before), PhaseCpu.now().since(cpu))
                .write(spec.output());
            out.println(DONE);
            out.flush();
            return 0;
        }
        catch (final Exception e)
        {
            System.err.println("client process " + spec.process() + " failed: " + e);
            e.printStackTrace(System.err);
            return 1;
        }
    }

    /**
     * Ends this JVM once the parent closes our stdin or dies (its end of the pipe closes): a bench
     * stopped by Ctrl-C or killed leaves no client running on.
     */
    private static void exitWhenInputEnds(final BufferedReader in)
    {
        final Thread watch = new Thread(() ->
        {
            try
            {
                while (in.read() >= 0)
                {
                    // nothing more is expected after the go
                }
            }
            catch (final IOException e)
            {
                // the pipe is gone: as good as closed
            }
            System.err.println("client process: kv bench went away; stopping");
            Runtime.getRuntime().halt(3);
        }, "dmkv-client-stdin");
        watch.setDaemon(true);
        watch.start();
    }

    /** Reports progress to the parent as lines. */
    private static final class ProgressLines implements WorkloadRunner.Progress
    {
        private final PrintStream out;

        ProgressLines(final PrintStream out)
        {
            this.out = out;
        }

        @Override
        public void update(final long opsDone, final long elapsedNs)
        {
            out.println(PROGRESS + opsDone);
            out.flush();
        }

        @Override
        public void finish(final long opsDone, final long elapsedNs)
        {
            update(opsDone, elapsedNs);
        }
    }
}
