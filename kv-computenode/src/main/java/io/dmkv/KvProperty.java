package io.dmkv;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

import io.dmkv.core.config.Durations;
import io.dmkv.core.config.Sizes;

/**
 * One row of the configuration table: a {@code dmkv.*} property's name, the concern it belongs
 * to, its default, how it is parsed from text and what it must satisfy. {@link KvConfig} holds
 * the table ({@link KvConfig#properties()}); nothing else lists the properties.
 *
 * @param <T> the value's type.
 */
public final class KvProperty<T>
{
    /** The concern a property belongs to (the groups of the configuration reference). */
    public enum Group
    {
        /** Which memory nodes form the cluster, how it replicates, who this client is. */
        CLUSTER,
        /** Connections, requests and their timeouts. */
        TRANSPORT,
        /** Operations: their timeout, how many run at once, and the protocol's waits. */
        OPERATIONS,
        /** The RACE index layout (used by the client that bootstraps a cluster). */
        INDEX,
        /** Two-level memory management. */
        ALLOCATION,
        /** The client's index cache. */
        CACHE,
        /** The coordinator (ZooKeeper): membership, maps, leases. */
        COORDINATION,
        /** FlexKV: the cluster's index mode, its partitions, and this compute node's proxy. */
        FLEXKV,
        /** Authentication (the cluster secret) and TLS (docs/security.md). */
        SECURITY
    }

    /** A check of one parsed value; returns null when it is fine, else what is wrong. */
    @FunctionalInterface
    interface Check<T>
    {
        String problem(T value);
    }

    private final int index;
    private final String name;
    private final Group group;
    private final T defaultValue;
    private final Function<String, T> parser;
    private final Check<T> check;
    private final String meaning;

    KvProperty(final int index, final String name, final Group group, final T defaultValue,
        final Function<String, T> parser, final Check<T> check, final String meaning)
    {
        this.index = index;
        this.name = name;
        this.group = group;
        this.defaultValue = defaultValue;
        this.parser = parser;
        this.check = check;
        this.meaning = meaning;
    }

    int index()
    {
        return index;
    }

    /** The property's name in a properties file, e.g. {@code dmkv.replication}. */
    public String name()
    {
        return name;
    }

    public Group group()
    {
        return group;
    }

    /** The default, or null where the property is required or computed. */
    public T defaultValue()
    {
        return defaultValue;
    }

    /** What the property means, for help texts and the configuration reference. */
    public String meaning()
    {
        return meaning;
    }

    /** Parses {@code text}; a bad value fails with the property's name and what it accepts. */
    T parse(final String text)
    {
        try
        {
            return parser.apply(text.trim());
        }
        catch (final KvConfigException e)
        {
            throw e;
        }
        catch (final RuntimeException e)
        {
            throw new KvConfigException(name + " " + e.getMessage());
        }
    }

    /** Checks a value set in code or parsed; fails with the property's name and the problem. */
    void check(final T value)
    {
        final String problem = check.problem(value);
        if (problem != null)
        {
            throw new KvConfigException(name + " " + problem);
        }
    }

    @Override
    public String toString()
    {
        return name;
    }

    // ---- parsers and checks the table is built from ----

    static Integer parseInt(final String v)
    {
        try
        {
            return Integer.valueOf(v);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("must be a whole number, got '" + v + "'");
        }
    }

    static Boolean parseBoolean(final String v)
    {
        final String t = v.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("true") || t.equals("false"))
        {
            return Boolean.valueOf(t);
        }
        throw new IllegalArgumentException("must be true or false, got '" + v + "'");
    }

    static Double parseDouble(final String v)
    {
        try
        {
            return Double.valueOf(v);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("must be a number, got '" + v + "'");
        }
    }

    static Duration parseDuration(final String v)
    {
        return Durations.parse(v);
    }

    static Long parseSize(final String v)
    {
        return Sizes.parse(v);
    }

    static List<String> parseList(final String v)
    {
        return Arrays.stream(v.split(",")).map(String::trim).toList();
    }

    static Check<Integer> range(final long min, final long max)
    {
        return v -> v == null || v < min || v > max ? "must be in " + min + ".." + max + ", got " + v : null;
    }

    static Check<Long> rangeLong(final long min, final long max, final String hint)
    {
        return v -> v == null || v < min || v > max ? "must be in " + hint + ", got " + v : null;
    }

    static Check<Duration> positive()
    {
        return d -> d == null || d.isNegative() || d.isZero()
            ? "must be a positive duration (e.g. 500ms, 10s), got " + d : null;
    }

    static <T> Check<T> any()
    {
        return v -> null;
    }

    static <T> Check<T> notNull(final Check<T> then)
    {
        return v -> Objects.isNull(v) ? "must be set" : then.problem(v);
    }
}
