package io.dmkv.bench.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import io.dmkv.bench.runner.Workload;
import io.dmkv.core.config.Sizes;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The workload options of {@code kv bench}: which YCSB workloads and distributions (one cell
 * each), their records, values and operations, and a hot set that shifts mid-run.
 */
final class WorkloadOptions
{
    /** Exactly one workload source. */
    static final class WorkloadSource
    {
        @Option(names = "--workload", paramLabel = "NAME[,NAME...]",
            description = "YCSB core workload a (50/50 read/update), b (95/5), c (read only), d (read latest/insert) "
                + "or f (read-modify-write); several, e.g. a,b,c,d, make one cell each (with --mode); default a.")
        String name;

        @Option(names = "--workload-file", paramLabel = "FILE",
            description = "YCSB-style properties: readproportion, updateproportion, insertproportion, "
                + "readmodifywriteproportion, requestdistribution, zipfianconstant, recordcount, operationcount, "
                + "fieldcount, fieldlength, fieldlengthdistribution.")
        Path file;
    }

    @ArgGroup(exclusive = true)
    WorkloadSource source;

    @Option(names = "--records", paramLabel = "N", description = "Keys to load (default: the workload's; 100,000 for a named one).")
    Integer records;

    @Option(names = "--distribution", paramLabel = "NAME[,NAME...]",
        description = "Key popularity: uniform, zipfian or latest; several, e.g. zipfian,uniform, make one cell each "
            + "(default: the workload's).")
    String distribution;

    @Option(names = "--shift-at", paramLabel = "P%",
        description = "Move the zipfian hot set to other keys at P%% of each run (e.g. 50%%): a skew that shifts "
            + "mid-run. Applies to zipfian cells only (default: the hot set stays).")
    String shiftAt;

    @Option(names = "--zipf", paramLabel = "THETA", description = "θ of zipfian and latest (default: the workload's; 0.99).")
    Double zipf;

    @Option(names = "--value-size", paramLabel = "SIZE|MIN..MAX",
        description = "Bytes per value, or a uniform range, e.g. 1K or 100..4K (default: the workload's; 1000).")
    String valueSize;

    @Option(names = "--operations", paramLabel = "N",
        description = "Also end each run phase after N operations (default: the workload's operationcount, else none).")
    Long operations;

    List<String> names()
    {
        return source != null && source.name != null ? split(source.name) : List.of("a");
    }

    List<String> distributions()
    {
        return distribution != null ? split(distribution) : Collections.singletonList(null);
    }

    private static List<String> split(final String list)
    {
        return Arrays.stream(list.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    /** The workloads to run: each --workload with each --distribution (one cell each), or the workload file. */
    List<Workload> cells(final CommandLine cl)
    {
        try
        {
            final List<Workload> bases = new ArrayList<>();
            if (source != null && source.file != null)
            {
                bases.add(Workload.fromFile(source.file));
            }
            else
            {
                for (final String n : names())
                {
                    bases.add(Workload.named(n));
                }
            }
            final Double shift = shiftAt == null ? null : share(shiftAt);
            final List<Workload> cells = new ArrayList<>();
            for (final Workload base : bases)
            {
                for (final String d : distributions())
                {
                    final Workload w = options(base, d);
                    cells.add(shift != null && w.distribution() == Workload.Distribution.ZIPFIAN
                        ? w.withHotSetShift(shift) : w);
                }
            }
            if (shift != null && cells.stream().noneMatch(Workload::shifts))
            {
                throw new IllegalArgumentException("--shift-at moves a zipfian hot set, and no workload here is "
                    + "zipfian (--distribution zipfian)");
            }
            return cells;
        }
        catch (final IllegalArgumentException e)
        {
            throw new CommandLine.ParameterException(cl, e.getMessage(), e);
        }
    }

    /** {@code 50%} or {@code 0.5} as a share strictly between 0 and 1. */
    static double share(final String text)
    {
        final String t = text.trim();
        final double v;
        try
        {
            v = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1).trim()) / 100 : Double.parseDouble(t);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("--shift-at takes a share of the run such as 50% or 0.5, got '" + text
                + "'", e);
        }
        if (!(v > 0 && v < 1))
        {
            throw new IllegalArgumentException("--shift-at must lie strictly between 0% and 100% of the run, got '"
                + text + "'");
        }
        return v;
    }

    /** {@code base} with the command line's records, distribution {@code d} (null: the workload's), θ, values, operations. */
    private Workload options(final Workload base, final String d)
    {
        Workload w = base;
        if (records != null)
        {
            w = w.withRecords(records);
        }
        if (d != null || zipf != null)
        {
            w = w.withDistribution(d != null ? Workload.Distribution.of(d) : w.distribution(),
                zipf != null ? zipf : w.zipfianConstant());
        }
        if (valueSize != null)
        {
            final String[] range = valueSize.split("\\.\\.", -1);
            if (range.length > 2)
            {
                throw new IllegalArgumentException("--value-size takes SIZE or MIN..MAX, got " + valueSize);
            }
            final long min = Sizes.parse(range[0].trim());
            final long max = range.length == 2 ? Sizes.parse(range[1].trim()) : min;
            w = w.withValueSizes((int)Math.min(Integer.MAX_VALUE, min), (int)Math.min(Integer.MAX_VALUE, max));
        }
        if (operations != null)
        {
            w = w.withOperations(operations);
        }
        return w;
    }

}
