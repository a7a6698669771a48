package io.dmkv.bench.runner;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.dmkv.KvConfig;
import io.dmkv.KvStats;
import io.dmkv.KvStore;
import io.dmkv.core.config.Sizes;
import io.dmkv.rdma.VerbCounters;

/**
 * Runs a {@code kv bench}: loads the records once, then one run phase per thread count, each in
 * this JVM ({@code processes == 1}) or in client processes whose results are merged. Every run
 * phase opens fresh stores, so each starts with a cold index cache, whatever the process count.
 */
public final class BenchRunner
{
    /** How long client processes may take to open their stores. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** How long past the run's duration client processes may take to write their results and exit. */
    private static final Duration FINISH_GRACE = Duration.ofSeconds(60);

    private BenchRunner()
    {
    }

    /**
     * What to run.
     *
     * @param store        the cluster (its memory nodes must be reachable from other processes when processes > 1).
     * @param workload     the workload.
     * @param threads      thread counts of the sweep, one run phase each.
     * @param budgets      FlexKV proxy memory budgets in bytes ({@code dmkv.proxy.memoryBudget}), each run with
     *                     every thread count; empty to keep the store's own.
     * @param processes    client processes per run phase (at most one per thread).
     * @param processHeap  {@code -Xmx} of each client process.
     * @param warmup       length of the warm-up before each run phase, not counted ({@link Warmup}; zero: none).
     * @param duration     length of each run phase.
     * @param loadThreads  threads of the load phase.
     * @param load         false to skip the load (the cluster already holds the records).
     * @param seed         random seed.
     * @param folder       results folder.
     * @param plots        whether to draw the PNG plots.
     * @param setup        extra facts for the JSON (command line, cluster, machine).
     * @param hooks        called around each run phase.
     */
    public record Plan(KvConfig store, Workload workload, List<Integer> threads, List<Long> budgets, int processes,
        String processHeap, Duration warmup, Duration duration, int loadThreads, boolean load, long seed, Path folder,
        boolean plots, Map<String, Object> setup, RunHooks hooks)
    {
        /** The run phases: each budget (or the store's own) with each thread count. */
        List<BenchReport.Point> points()
        {
            final List<BenchReport.Point> points = new ArrayList<>();
            for (final Long b : budgets.isEmpty() ? Collections.<Long>singletonList(null) : budgets)
            {
                for (final int t : threads)
                {
                    points.add(new BenchReport.Point(t, b));
                }
            }
            return points;
        }

        /** The store of a run phase: this plan's, with the point's budget if it has one. */
        KvConfig store(final BenchReport.Point point)
        {
            return point.budget() == null ? store : store.toBuilder().proxyMemoryBudget(point.budget()).build();
        }
    }

    /** Called around each run phase (to wait for a FlexKV partition map, to read other processes' CPU time). */
    public interface RunHooks
    {
        /** Every store of the run phase is open ({@code processes} of them); the warm-up starts on return. */
        void beforeGo(int processes) throws InterruptedException;

        /** The warm-up ended (or there is none): the counted run phase starts now. */
        default void measuring()
        {
        }

        /** The run phase has ended. */
        void afterRun();

        /** Operations done so far in the run phase, about five times a second. */
        default void progress(final long elapsedNs, final long opsDone)
        {
        }

        RunHooks NONE = new RunHooks()
        {
            @Override
            public void beforeGo(final int processes)
            {
            }

            @Override
            public void afterRun()
            {
            }
        };
    }

    /**
     * Runs the plan, with progress bars on stderr and, at the end, the tables of every phase on
     * {@code out}; returns what was measured (also written to the folder).
     */
    public static BenchReport.Bench run(final Plan plan, final PrintWriter out) throws IOException, InterruptedException
    {
        final Workload w = plan.workload();
        final StringBuilder summary = new StringBuilder();
        ProcessResult.Merged load = null;
        try (KvStore kv = KvStore.open(plan.store()))
        {
            if (plan.load())
            {
                final BenchWorkers workers = new BenchWorkers(kv, w, plan.loadThreads(), 0, 0, plan.seed());
                final VerbCounters.Snapshot before = kv.counters();
                final List<KvStats.Verbs> nodesBefore = kv.stats().nodes();
                final long start = ProcessResult.epochNanos();
                final RunResult r = WorkloadRunner.run("load", BenchWorkers.LOAD_OPS, plan.loadThreads(), w.records(),
                    null, i -> workers.loader(i, plan.loadThreads()), ConsoleProgress.ofOps("load", w.records()));
                load = ProcessResult.merge("load",
                    List.of(ProcessResult.of(0, r, start, workers.missesByKind(1), kv.counters().minus(before), PhaseCpu.ZERO)));
                summary.append(BenchReport.phaseText(load)).append(System.lineSeparator())
                    .append(NodeSpread.text(nodesBefore, kv.stats().nodes())).append(System.lineSeparator());
            }
        }
        final List<BenchReport.Run> runs = new ArrayList<>();
        final List<BenchReport.Point> points = plan.points();
        for (int i = 0; i < points.size(); i++)
        {
            final BenchReport.Point point = points.get(i);
            final int threads = point.threads();
            final int processes = Math.min(plan.processes(), threads);
            final KvConfig store = plan.store(point);
            final StringBuilder spread = new StringBuilder();
            final ProcessResult.Merged merged = processes == 1 ? runHere(plan, store, threads, i, spread)
                : runInProcesses(plan, store, threads, processes, i);
            runs.add(new BenchReport.Run(point, merged));
            if (point.budget() != null)
            {
                summary.append(String.format(Locale.ROOT, "proxy memory budget %s%n", Sizes.format(point.budget())));
            }
            summary.append(BenchReport.phaseText(merged)).append(System.lineSeparator()).append(spread);
            if (points.size() > 1)
            {
                out.printf(Locale.ROOT, "run %d of %d: %d thread%s in %d process%s%s, %,.0f ops/s%n", i + 1,
                    points.size(), threads, threads == 1 ? "" : "s", processes, processes == 1 ? "" : "es",
                    point.budget() == null ? "" : ", budget " + Sizes.format(point.budget()),
                    merged.result().throughput());
                out.flush();
            }
        }
        if (!plan.budgets().isEmpty())
        {
            summary.append(BenchReport.budgetTable(runs)).append(System.lineSeparator());
        }
        out.println();
        out.print(summary);
        final BenchReport.Bench bench = new BenchReport.Bench(plan.setup(), w, load, runs);
        final String warning = BenchReport.write(plan.folder(), bench, summary.toString(), plan.plots());
        if (warning != null)
        {
            out.println(warning);
        }
        out.println("results: " + plan.folder());
        out.flush();
        return bench;
    }

    /** One run in this process; {@code spread} gets the run's verbs per memory node ({@link NodeSpread}). */
    private static ProcessResult.Merged runHere(final Plan plan, final KvConfig store, final int threads, final int run,
        final StringBuilder spread) throws InterruptedException
    {
        try (KvStore kv = KvStore.open(store); BenchThreads on = new BenchThreads(threads, "run"))
        {
            plan.hooks().beforeGo(1);
            Warmup.run(kv, plan.workload(), on, threads, 0, run, plan.seed(), plan.warmup(),
                ConsoleProgress.ofTime("warm-up", plan.warmup()));
            plan.hooks().measuring();
            final BenchWorkers workers = new BenchWorkers(kv, plan.workload(), threads, 0, run, plan.seed())
                .runLength(plan.duration());
            final VerbCounters.Snapshot before = kv.counters();
            final List<KvStats.Verbs> nodesBefore = kv.stats().nodes();
            final PhaseCpu cpu = PhaseCpu.now();
            final long start = ProcessResult.epochNanos();
            final RunResult r = WorkloadRunner.run("run", BenchWorkers.RUN_OPS, on, plan.workload().operations(),
                plan.duration(), workers::runner, both(ConsoleProgress.ofTime("run", plan.duration()), plan.hooks()));
            plan.hooks().afterRun();
            spread.append(NodeSpread.text(nodesBefore, kv.stats().nodes())).append(System.lineSeparator());
            return ProcessResult.merge("run",
                List.of(ProcessResult.of(0, r, start, workers.missesByKind(BenchWorkers.RUN_OPS.size()),
                    kv.counters().minus(before), PhaseCpu.now().since(cpu))));
        }
    }

    /** {@code console}, and the hooks' progress too. */
    private static WorkloadRunner.Progress both(final WorkloadRunner.Progress console, final RunHooks hooks)
    {
        return new WorkloadRunner.Progress()
        {
            @Override
            public void update(final long opsDone, final long elapsedNs)
            {
                console.update(opsDone, elapsedNs);
                hooks.progress(elapsedNs, opsDone);
            }

            @Override
            public void finish(final long opsDone, final long elapsedNs)
            {
                console.finish(opsDone, elapsedNs);
                hooks.progress(elapsedNs, opsDone);
            }
        };
    }

    /** Shows the client processes' warm-up until every one ended it. */
    private static void awaitWarmup(final Duration warmup, final ClientProcesses clients) throws InterruptedException
    {
        if (warmup.isZero())
        {
            return;
        }
        final ConsoleProgress progress = ConsoleProgress.ofTime("warm-up", warmup);
        final long start = System.nanoTime();
        while (!clients.warmedUp())
        {
            progress.update(0, System.nanoTime() - start);
            Thread.sleep(100);
        }
        progress.finish(0, System.nanoTime() - start);
    }

    private static ProcessResult.Merged runInProcesses(final Plan plan, final KvConfig store, final int threads,
        final int processes, final int run) throws IOException, InterruptedException
    {
        final Path dir = Files.createDirectories(plan.folder().resolve("processes").resolve("run-" + run));
        final List<BenchSpec> specs = new ArrayList<>();
        int first = 0;
        final long ops = plan.workload().operations();
        for (int p = 0; p < processes; p++)
        {
            final int share = threads / processes + (p < threads % processes ? 1 : 0);
            final long opsShare = ops < 0 ? -1 : ops * share / threads;
            specs.add(new BenchSpec(p, store, plan.workload(), share, first, threads, run, plan.warmup(), plan.duration(),
                opsShare, plan.seed(), dir.resolve("client-" + p + ".json")));
            first += share;
        }
        try (ClientProcesses clients = ClientProcesses.start(JvmCommand.forChild(plan.processHeap()), specs, dir))
        {
            clients.awaitReady(READY_TIMEOUT);
            plan.hooks().beforeGo(processes);
            clients.go();
            awaitWarmup(plan.warmup(), clients);
            plan.hooks().measuring();
            final ConsoleProgress progress = ConsoleProgress.ofTime("run", plan.duration());
            final long start = System.nanoTime();
            while (clients.running())
            {
                final long done = clients.opsDone();
                final long elapsed = System.nanoTime() - start;
                progress.update(done, elapsed);
                plan.hooks().progress(elapsed, done);
                Thread.sleep(200);
            }
            progress.finish(clients.opsDone(), System.nanoTime() - start);
            final List<ProcessResult> results = clients.results(FINISH_GRACE);
            plan.hooks().afterRun();
            return ProcessResult.merge("run", results);
        }
    }
}
