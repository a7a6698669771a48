package io.dmkv.bench.ycsb;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * YCSB's command line ({@code -threads N -target N -load -t -s -db CLASS -l LABEL -P FILE
 * -p NAME=VALUE}) as the properties {@code site.ycsb.Client} would run with: files in order,
 * then every {@code -p} over them. Unlike the client, a bad argument is an exception, not an
 * exit of the JVM.
 */
public final class YcsbArgs
{
    /** Property YCSB's client reads for {@code -threads}. */
    public static final String THREADS = "threadcount";
    /** Property YCSB's client reads for {@code -load} (false) and {@code -t} (true). */
    public static final String TRANSACTIONS = "dotransactions";

    private YcsbArgs()
    {
    }

    /**
     * The properties {@code args} describe ({@code -P} files as given; see {@link #resolve}).
     *
     * @throws IllegalArgumentException naming the bad argument, or the file that cannot be read.
     */
    public static Properties parse(final List<String> args)
    {
        final Properties files = new Properties();
        final Properties given = new Properties();
        for (int i = 0; i < args.size(); i++)
        {
            final String a = args.get(i);
            switch (a)
            {
                case "-threads" -> given.setProperty(THREADS, whole(a, value(args, ++i, a)));
                case "-target" -> given.setProperty("target", whole(a, value(args, ++i, a)));
                case "-load" -> given.setProperty(TRANSACTIONS, "false");
                case "-t" -> given.setProperty(TRANSACTIONS, "true");
                case "-s" -> given.setProperty("status", "true");
                case "-db" -> given.setProperty("db", value(args, ++i, a));
                case "-l" -> given.setProperty("label", value(args, ++i, a));
                case "-P" -> files.putAll(load(Path.of(value(args, ++i, a))));
                case "-p" ->
                {
                    final String kv = value(args, ++i, a);
                    final int eq = kv.indexOf('=');
                    if (eq <= 0)
                    {
                        throw new IllegalArgumentException("-p expects NAME=VALUE (e.g. -p operationcount=1000), got '"
                            + kv + "'");
                    }
                    given.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        final Properties props = new Properties();
        props.putAll(files);
        props.putAll(given);
        return props;
    }

    /** {@code name} as given if it is a file, else under {@code workloads} if it is there. */
    public static Path resolve(final String name, final Path workloads)
    {
        final Path p = Path.of(name);
        if (!Files.isRegularFile(p) && workloads != null && Files.isRegularFile(workloads.resolve(name)))
        {
            return workloads.resolve(name);
        }
        return p;
    }

    private static Properties load(final Path file)
    {
        final Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file))
        {
            p.load(in);
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException("cannot read the workload file " + file + ": " + e, e);
        }
        return p;
    }

    private static String value(final List<String> args, final int i, final String option)
    {
        if (i >= args.size())
        {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    private static String whole(final String option, final String v)
    {
        try
        {
            Integer.parseInt(v);
            return v;
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(option + " expects a whole number, got '" + v + "'");
        }
    }
}
