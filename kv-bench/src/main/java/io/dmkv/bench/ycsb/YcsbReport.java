package io.dmkv.bench.ycsb;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * What YCSB's text output ({@code TextMeasurementsExporter}) says: lines of the form
 * {@code [SECTION], METRIC, VALUE}, e.g. {@code [OVERALL], Throughput(ops/sec), 1234.5},
 * {@code [READ], 99thPercentileLatency(us), 812}, {@code [VERIFY], Return=OK, 1000}.
 */
public final class YcsbReport
{
    private static final String RETURN = "Return=";

    private final Map<String, Map<String, String>> sections;

    private YcsbReport(final Map<String, Map<String, String>> sections)
    {
        this.sections = sections;
    }

    /** The report in {@code text}; lines that are not measurements are skipped. */
    public static YcsbReport parse(final String text)
    {
        final Map<String, Map<String, String>> sections = new LinkedHashMap<>();
        for (final String line : text.split("\\R"))
        {
            if (!line.startsWith("["))
            {
                continue;
            }
            final int close = line.indexOf("], ");
            final int comma = close < 0 ? -1 : line.indexOf(", ", close + 3);
            if (comma < 0)
            {
                continue;
            }
            sections.computeIfAbsent(line.substring(1, close), s -> new LinkedHashMap<>())
                .put(line.substring(close + 3, comma), line.substring(comma + 2).trim());
        }
        return new YcsbReport(sections);
    }

    /** {@code [OVERALL], Throughput(ops/sec)}, or NaN if absent. */
    public double throughput()
    {
        return number("OVERALL", "Throughput(ops/sec)").orElse(Double.NaN);
    }

    /** The value of {@code [section], metric} as a number, if present. */
    public OptionalDouble number(final String section, final String metric)
    {
        final String v = sections.getOrDefault(section, Map.of()).get(metric);
        if (v == null)
        {
            return OptionalDouble.empty();
        }
        try
        {
            return OptionalDouble.of(Double.parseDouble(v));
        }
        catch (final NumberFormatException e)
        {
            return OptionalDouble.empty();
        }
    }

    /** {@code [op], 99thPercentileLatency(us)}, if present. */
    public OptionalDouble p99Micros(final String op)
    {
        return number(op, "99thPercentileLatency(us)");
    }

    /** How many of {@code op} returned {@code status} ({@code [op], Return=status, n}); 0 if none. */
    public long returns(final String op, final String status)
    {
        return (long)number(op, RETURN + status).orElse(0);
    }

    /** The sections (operation names, OVERALL, ...) in output order. */
    public List<String> sections()
    {
        return List.copyOf(sections.keySet());
    }

    /**
     * Every status other than OK, as {@code "[op] Return=STATUS: n"}; empty if every operation
     * (and every VERIFY of workloads with {@code dataintegrity=true}) was OK.
     */
    public List<String> failures()
    {
        final List<String> failures = new ArrayList<>();
        sections.forEach((section, metrics) -> metrics.forEach((metric, value) ->
        {
            if (metric.startsWith(RETURN) && !metric.equals(RETURN + "OK"))
            {
                failures.add("[" + section + "] " + metric + ": " + value);
            }
        }));
        return Collections.unmodifiableList(failures);
    }
}
