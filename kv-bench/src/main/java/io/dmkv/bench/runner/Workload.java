package io.dmkv.bench.runner;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import io.dmkv.core.layout.KvObject;

/**
 * What {@code kv bench} runs: a mix of operations over a key space, as YCSB's core workload
 * describes it. Built by name ({@link #named}: YCSB's workloads A, B, C, D and F) or from a
 * YCSB-style properties file ({@link #fromProperties}).
 *
 * <p>YCSB writes a record as {@code fieldcount} fields of {@code fieldlength} bytes; dmkv stores
 * one value, so a record here is one value of {@code fieldcount × fieldlength} bytes (with
 * {@code fieldlengthdistribution=uniform}, between {@code fieldcount} and that many bytes).
 *
 * @param name                      workload name (for reports).
 * @param readProportion            share of READ (search) operations.
 * @param updateProportion          share of UPDATE operations (of an existing key).
 * @param insertProportion          share of INSERT operations (of a new key).
 * @param readModifyWriteProportion share of READ-MODIFY-WRITE (a read, then an update of the same key).
 * @param distribution              which keys the operations touch.
 * @param zipfianConstant           the exponent θ of the zipfian and latest distributions.
 * @param records                   keys loaded before the run.
 * @param minValueSize              smallest value in bytes.
 * @param maxValueSize              largest value in bytes (values are uniform in min..max).
 * @param operations                operations of the run phase (a bound besides its duration), or -1.
 * @param hotSetShift               share of the run phase's duration after which the zipfian hot set moves to
 *                                  other keys (0 < s < 1), or {@link #NO_SHIFT}.
 */
public record Workload(String name, double readProportion, double updateProportion, double insertProportion,
    double readModifyWriteProportion, Distribution distribution, double zipfianConstant, int records, int minValueSize,
    int maxValueSize, long operations, double hotSetShift)
{
    /** {@link #hotSetShift} of a workload whose hot set stays where it is. */
    public static final double NO_SHIFT = -1;

    /** Most keys a workload may load (the index at its largest holds about 22 M). */
    public static final int MAX_RECORDS = 10_000_000;
    /** Largest value: what the largest object holds next to a {@link Keys#LENGTH}-byte key. */
    public static final int MAX_VALUE_SIZE = KvObject.MAX_VALUE_LENGTH;
    /** YCSB's θ, and FUSEE's. */
    public static final double DEFAULT_ZIPFIAN_CONSTANT = 0.99;
    /** Keys of a named workload: FUSEE's 100 K (YCSB's own files load 1,000). */
    public static final int DEFAULT_RECORDS = 100_000;
    /** YCSB's default record: 10 fields of 100 bytes. */
    public static final int DEFAULT_VALUE_SIZE = 1000;

    /** Which keys operations touch. */
    public enum Distribution
    {
        /** Every loaded key equally often. */
        UNIFORM,
        /** Loaded keys by zipfian popularity (θ), popular keys scattered over the key space as YCSB's scrambled zipfian does. */
        ZIPFIAN,
        /** Recently inserted keys most often (YCSB's skewed-latest). */
        LATEST;

        /** The distribution of a YCSB {@code requestdistribution} value. */
        public static Distribution of(final String name)
        {
            switch (name.trim().toLowerCase(Locale.ROOT))
            {
                case "uniform":
                    return UNIFORM;
                case "zipfian":
                    return ZIPFIAN;
                case "latest":
                    return LATEST;
                default:
                    throw new IllegalArgumentException("requestdistribution '" + name + "' is not supported: use "
                        + "uniform, zipfian or latest");
            }
        }

        public String ycsbName()
        {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Workload
    {
        check(readProportion >= 0 && updateProportion >= 0 && insertProportion >= 0 && readModifyWriteProportion >= 0,
            "operation proportions must not be negative");
        final double sum = readProportion + updateProportion + insertProportion + readModifyWriteProportion;
        check(sum > 0, "workload " + name + " has no operations (every proportion is 0)");
        readProportion /= sum;
        updateProportion /= sum;
        insertProportion /= sum;
        readModifyWriteProportion /= sum;
        check(distribution != null, "no request distribution");
        check(zipfianConstant > 0 && zipfianConstant <= 5, "zipfian constant must be in (0, 5], got " + zipfianConstant);
        check(records >= 1 && records <= MAX_RECORDS, "recordcount must be in 1.." + MAX_RECORDS + ", got " + records);
        check(minValueSize >= 1 && minValueSize <= maxValueSize && maxValueSize <= MAX_VALUE_SIZE,
            "value sizes must be in 1.." + MAX_VALUE_SIZE + " with min <= max, got " + minValueSize + ".."
                + maxValueSize);
        check(operations >= -1, "operationcount must not be negative");
        check(hotSetShift == NO_SHIFT || hotSetShift > 0 && hotSetShift < 1 && distribution == Distribution.ZIPFIAN,
            hotSetShift == NO_SHIFT || hotSetShift > 0 && hotSetShift < 1
                ? "only a zipfian hot set can shift (the workload's distribution is " + distribution.ycsbName() + ")"
                : "the hot set shifts at a share of the run strictly between 0% and 100%, got " + hotSetShift);
    }

    /** A workload whose hot set stays where it is. */
    public Workload(final String name, final double readProportion, final double updateProportion,
        final double insertProportion, final double readModifyWriteProportion, final Distribution distribution,
        final double zipfianConstant, final int records, final int minValueSize, final int maxValueSize,
        final long operations)
    {
        this(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion, distribution,
            zipfianConstant, records, minValueSize, maxValueSize, operations, NO_SHIFT);
    }

    /** True if the hot set moves during the run phase. */
    public boolean shifts()
    {
        return hotSetShift != NO_SHIFT;
    }

    private static void check(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * YCSB's core workload {@code name} ({@code a}, {@code b}, {@code c}, {@code d}, {@code f}, or
     * {@code workloada} ...) with FUSEE's key count and YCSB's 1,000-byte records.
     */
    public static Workload named(final String name)
    {
        final String n = name.trim().toLowerCase(Locale.ROOT).replaceFirst("^workload", "");
        final Distribution zipf = Distribution.ZIPFIAN;
        switch (n)
        {
            case "a":
                return of("a", 0.5, 0.5, 0, 0, zipf);
            case "b":
                return of("b", 0.95, 0.05, 0, 0, zipf);
            case "c":
                return of("c", 1, 0, 0, 0, zipf);
            case "d":
                return of("d", 0.95, 0, 0.05, 0, Distribution.LATEST);
            case "f":
                return of("f", 0.5, 0, 0, 0.5, zipf);
            case "e":
                throw new IllegalArgumentException("workload e is made of scans, which dmkv (a hash index) does not "
                    + "support");
            default:
                throw new IllegalArgumentException("no workload named '" + name + "': use a, b, c, d or f, or "
                    + "--workload-file");
        }
    }

    private static Workload of(final String name, final double read, final double update, final double insert,
        final double rmw, final Distribution d)
    {
        return new Workload(name, read, update, insert, rmw, d, DEFAULT_ZIPFIAN_CONSTANT, DEFAULT_RECORDS,
            DEFAULT_VALUE_SIZE, DEFAULT_VALUE_SIZE, -1);
    }

    /** A workload from a YCSB-style properties file, named after the file. */
    public static Workload fromFile(final Path file)
    {
        final Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            p.load(r);
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException("cannot read workload file " + file + ": " + e.getMessage(), e);
        }
        final String fileName = file.getFileName().toString();
        return fromProperties(fileName.replaceFirst("\\.[^.]*$", ""), p);
    }

    /**
     * A workload from YCSB core-workload properties: {@code readproportion},
     * {@code updateproportion}, {@code insertproportion}, {@code readmodifywriteproportion},
     * {@code requestdistribution} (uniform, zipfian, latest), {@code zipfianconstant} (dmkv's
     * addition; YCSB fixes 0.99), {@code recordcount}, {@code operationcount}, {@code fieldcount},
     * {@code fieldlength}, {@code fieldlengthdistribution} (constant, uniform). Defaults are
     * YCSB's, except recordcount (100,000). A scan proportion above 0 is refused.
     */
    public static Workload fromProperties(final String name, final Properties p)
    {
        if (number(p, "scanproportion", 0) > 0)
        {
            throw new IllegalArgumentException("workload " + name + " has scanproportion > 0: dmkv (a hash index) "
                + "does not support scans");
        }
        final int fieldCount = (int)number(p, "fieldcount", 10);
        final int fieldLength = (int)number(p, "fieldlength", 100);
        check(fieldCount >= 1 && fieldLength >= 1, "fieldcount and fieldlength must be at least 1");
        final String lengths = p.getProperty("fieldlengthdistribution", "constant").trim().toLowerCase(Locale.ROOT);
        final int max = Math.multiplyExact(fieldCount, fieldLength);
        final int min;
        switch (lengths)
        {
            case "constant":
                min = max;
                break;
            case "uniform":
                min = fieldCount;
                break;
            default:
                throw new IllegalArgumentException("fieldlengthdistribution '" + lengths + "' is not supported: use "
                    + "constant or uniform");
        }
        return new Workload(name, number(p, "readproportion", 0.95), number(p, "updateproportion", 0.05),
            number(p, "insertproportion", 0), number(p, "readmodifywriteproportion", 0),
            Distribution.of(p.getProperty("requestdistribution", "uniform")),
            number(p, "zipfianconstant", DEFAULT_ZIPFIAN_CONSTANT), (int)number(p, "recordcount", DEFAULT_RECORDS), min,
            max, (long)number(p, "operationcount", -1) <= 0 ? -1 : (long)number(p, "operationcount", -1));
    }

    private static double number(final Properties p, final String key, final double fallback)
    {
        final String v = p.getProperty(key);
        if (v == null || v.isBlank())
        {
            return fallback;
        }
        try
        {
            return Double.parseDouble(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
        }
    }

    public Workload withRecords(final int n)
    {
        return new Workload(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion,
            distribution, zipfianConstant, n, minValueSize, maxValueSize, operations, hotSetShift);
    }

    public Workload withDistribution(final Distribution d, final double theta)
    {
        return new Workload(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion, d,
            theta, records, minValueSize, maxValueSize, operations, d == Distribution.ZIPFIAN ? hotSetShift : NO_SHIFT);
    }

    public Workload withValueSizes(final int min, final int max)
    {
        return new Workload(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion,
            distribution, zipfianConstant, records, min, max, operations, hotSetShift);
    }

    public Workload withOperations(final long n)
    {
        return new Workload(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion,
            distribution, zipfianConstant, records, minValueSize, maxValueSize, n, hotSetShift);
    }

    /** This workload with its hot set moving to other keys after {@code share} of the run phase (0 < share < 1). */
    public Workload withHotSetShift(final double share)
    {
        return new Workload(name, readProportion, updateProportion, insertProportion, readModifyWriteProportion,
            distribution, zipfianConstant, records, minValueSize, maxValueSize, operations, share);
    }

    /** For reports: the mix and its parameters, by name. */
    public Map<String, Object> describe()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("readproportion", readProportion);
        m.put("updateproportion", updateProportion);
        m.put("insertproportion", insertProportion);
        m.put("readmodifywriteproportion", readModifyWriteProportion);
        m.put("requestdistribution", distribution.ycsbName());
        m.put("zipfianconstant", zipfianConstant);
        m.put("recordcount", records);
        m.put("operationcount", operations);
        m.put("minValueSize", minValueSize);
        m.put("maxValueSize", maxValueSize);
        m.put("hotSetShift", shifts() ? hotSetShift : null);
        return m;
    }

    /** One line: {@code a: 50% READ, 50% UPDATE, zipfian 0.99, 100,000 records of 1000 B}. */
    public String summary()
    {
        final StringBuilder sb = new StringBuilder(name).append(':');
        part(sb, readProportion, "READ");
        part(sb, updateProportion, "UPDATE");
        part(sb, insertProportion, "INSERT");
        part(sb, readModifyWriteProportion, "RMW");
        sb.append(String.format(Locale.ROOT, ", %s%s, %,d records of %s", distribution.ycsbName(),
            distribution == Distribution.UNIFORM ? "" : String.format(Locale.ROOT, " %.2f", zipfianConstant), records,
            minValueSize == maxValueSize ? maxValueSize + " B" : minValueSize + ".." + maxValueSize + " B"));
        if (shifts())
        {
            sb.append(String.format(Locale.ROOT, "; the hot set moves to other keys at %.0f%% of the run",
                hotSetShift * 100));
        }
        return sb.toString();
    }

    private static void part(final StringBuilder sb, final double share, final String op)
    {
        if (share > 0)
        {
            sb.append(sb.charAt(sb.length() - 1) == ':' ? " " : ", ")
                .append(String.format(Locale.ROOT, "%.4g%% %s", share * 100, op).replaceFirst("\\.?0+%", "%"));
        }
    }
}
