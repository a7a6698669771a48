package io.dmkv.bench.ycsb;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;

/**
 * Failed operations of a binding, counted by operation and cause, with the first few logged in
 * full. YCSB only counts statuses ({@code Return=ERROR}), so without this a run full of errors
 * would not say why; with every failure logged, a dead server would flood the console. The
 * counts come out as one summary ({@link #takeSummary}) at the end of a phase.
 */
public final class FailureLog
{
    /** A cause's message is cut to this many characters in the summary. */
    private static final int EXAMPLE_CHARS = 160;

    private final Logger log;
    private final int limit;
    private final AtomicLong failures = new AtomicLong();
    private final Map<Cause, LongAdder> counts = new ConcurrentHashMap<>();
    private final Map<Cause, String> examples = new ConcurrentHashMap<>();

    /** One row of the summary: an operation and the kind of failure. */
    private record Cause(String op, String kind)
    {
    }

    /** Logs the first {@code limit} failures to {@code log}. */
    public FailureLog(final Logger log, final int limit)
    {
        this.log = log;
        this.limit = limit;
    }

    /** Counts a failure of {@code op} on {@code key}, and logs it while under the limit. */
    public void failed(final String op, final String key, final Throwable cause)
    {
        final Cause c = new Cause(op, kind(cause));
        counts.computeIfAbsent(c, x -> new LongAdder()).increment();
        examples.putIfAbsent(c, String.valueOf(cause.getMessage()));
        final long n = failures.incrementAndGet();
        if (n <= limit)
        {
            log.warn("{} {} failed: {}{}", op, key.length() <= 64 ? key : key.substring(0, 64) + "...", cause.toString(),
                n == limit ? " (further failures are counted by cause in the summary at the end)" : "");
        }
    }

    /** Failures counted so far. */
    public long failures()
    {
        return failures.get();
    }

    /**
     * The failures counted since the last call, by operation and cause, most frequent first,
     * as lines of text (none when nothing failed); starts counting afresh.
     */
    public synchronized List<String> takeSummary()
    {
        final List<Map.Entry<Cause, Long>> rows = new ArrayList<>();
        counts.forEach((c, n) -> rows.add(Map.entry(c, n.sum())));
        final Map<Cause, String> seen = Map.copyOf(examples);
        counts.clear();
        examples.clear();
        failures.set(0);
        if (rows.isEmpty())
        {
            return List.of();
        }
        rows.sort(Map.Entry.<Cause, Long>comparingByValue(Comparator.reverseOrder())
            .thenComparing(e -> e.getKey().op()).thenComparing(e -> e.getKey().kind()));
        final List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "failed operations by cause (%,d in all):",
            rows.stream().mapToLong(Map.Entry::getValue).sum()));
        for (final Map.Entry<Cause, Long> row : rows)
        {
            final String example = seen.getOrDefault(row.getKey(), "");
            lines.add(String.format(Locale.ROOT, "  %-8s %,12d  %s: %s", row.getKey().op(), row.getValue(),
                row.getKey().kind(), example.length() <= EXAMPLE_CHARS ? example
                    : example.substring(0, EXAMPLE_CHARS) + "..."));
        }
        return lines;
    }

    /** Logs {@link #takeSummary()} as one warning headed by {@code binding}, when anything failed. */
    public void logSummary(final String binding)
    {
        final List<String> summary = takeSummary();
        if (!summary.isEmpty())
        {
            log.warn("{}: {}", binding, String.join(System.lineSeparator(), summary));
        }
    }

    /** The exception's type, and the type of its root cause when that is another. */
    static String kind(final Throwable t)
    {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root)
        {
            root = root.getCause();
        }
        final String name = t.getClass().getSimpleName();
        return root == t || root.getClass() == t.getClass() ? name
            : name + " (caused by " + root.getClass().getSimpleName() + ")";
    }
}
