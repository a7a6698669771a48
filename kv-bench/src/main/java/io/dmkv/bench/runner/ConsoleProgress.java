package io.dmkv.bench.runner;

import java.io.PrintStream;
import java.time.Duration;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on the console: operations done out of a total (load), or seconds elapsed out
 * of the duration (run). Without a terminal it prints a plain line every few seconds instead.
 */
public final class ConsoleProgress implements WorkloadRunner.Progress
{
    private final ProgressBar bar;
    private final boolean byTime;

    private ConsoleProgress(final ProgressBar bar, final boolean byTime)
    {
        this.bar = bar;
        this.byTime = byTime;
    }

    /** Progress of {@code total} operations. */
    public static ConsoleProgress ofOps(final String task, final long total)
    {
        return new ConsoleProgress(builder(task, true).setInitialMax(total).setUnit(" ops", 1).build(), false);
    }

    /** Progress of a run of {@code duration}. */
    public static ConsoleProgress ofTime(final String task, final Duration duration)
    {
        return new ConsoleProgress(builder(task, false).setInitialMax(Math.max(1, duration.toMillis() / 100)).hideEta()
            .setUnit(" s", 10).build(), true);
    }

    private static ProgressBarBuilder builder(final String task, final boolean speed)
    {
        final ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(250);
        if (speed)
        {
            b.showSpeed();
        }
        if (System.console() == null)
        {
            final PrintStream err = System.err;
            b.setConsumer(new DelegatingProgressBarConsumer(new ThrottledPrinter(err), 100))
                .setUpdateIntervalMillis(2000);
        }
        return b;
    }

    @Override
    public void update(final long opsDone, final long elapsedNs)
    {
        if (byTime)
        {
            bar.stepTo(Math.min(bar.getMax(), elapsedNs / 100_000_000L));
            bar.setExtraMessage(String.format(java.util.Locale.ROOT, " %,d ops", opsDone));
        }
        else
        {
            bar.stepTo(opsDone);
        }
    }

    @Override
    public void finish(final long opsDone, final long elapsedNs)
    {
        update(opsDone, elapsedNs);
        if (byTime)
        {
            bar.stepTo(bar.getMax());
        }
        bar.close();
    }

    /** Prints each line it is given as a line of its own (no carriage returns in logs). */
    private static final class ThrottledPrinter implements java.util.function.Consumer<String>
    {
        private final PrintStream out;
        private String last = "";

        ThrottledPrinter(final PrintStream out)
        {
            this.out = out;
        }

        @Override
        public void accept(final String line)
        {
            final String l = line.replace('\r', ' ').strip();
            if (!l.isEmpty() && !l.equals(last))
            {
                out.println(l);
                last = l;
            }
        }
    }
}
