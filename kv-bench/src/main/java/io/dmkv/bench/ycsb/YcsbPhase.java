package io.dmkv.bench.ycsb;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.htrace.core.HTraceConfiguration;
import org.apache.htrace.core.Tracer;

import site.ycsb.ClientThread;
import site.ycsb.DB;
import site.ycsb.DBFactory;
import site.ycsb.StatusThread;
import site.ycsb.TerminatorThread;
import site.ycsb.UnknownDBException;
import site.ycsb.Utils;
import site.ycsb.Workload;
import site.ycsb.WorkloadException;
import site.ycsb.workloads.CoreWorkload;
import site.ycsb.measurements.Measurements;
import site.ycsb.measurements.exporter.TextMeasurementsExporter;

/**
 * One phase (load or run) of YCSB 0.17.0 in this JVM, so that several phases can follow each
 * other in one JVM (and on one embedded cluster).
 * <p>
 * {@code site.ycsb.Client.main} cannot: it ends with {@code System.exit}, its steps are private,
 * and its measurements are a JVM-wide singleton that would mix the phases' numbers. This class
 * does what {@code Client.main} does, with YCSB's own public pieces ({@code Workload},
 * {@code DBFactory}, which wraps the DB in YCSB's measuring {@code DBWrapper},
 * {@code ClientThread}, {@code StatusThread}, {@code TerminatorThread}, {@code Measurements},
 * {@code TextMeasurementsExporter}): the same properties, the same per-thread operation
 * counts and target rate, the same output lines. It resets the measurements singleton (a
 * private field, by reflection) before each phase. Output goes to the given stream in YCSB's
 * text format; {@code exporter} and {@code exportfile} are not supported here. What
 * {@code CoreWorkload} would answer with {@code System.exit} is refused with an exception first.
 */
public final class YcsbPhase
{
    /** What a phase did. */
    public record Result(YcsbReport report, long opsDone, long opsPlanned, boolean timeLimited)
    {
        /**
         * What went wrong: every non-OK status, and operations that never ran (a thread whose DB
         * failed to initialise stops before its first operation); empty if nothing did.
         */
        public List<String> failures()
        {
            final List<String> failures = new ArrayList<>(report.failures());
            if (!timeLimited && opsDone < opsPlanned)
            {
                failures.add("only " + opsDone + " of " + opsPlanned + " operations ran (see the errors above)");
            }
            return failures;
        }
    }

    private YcsbPhase()
    {
    }

    /**
     * Runs the phase {@code props} describe ({@code dotransactions} false: load, else run) and
     * prints YCSB's report to {@code out}; progress and YCSB's own messages go to {@code err}.
     *
     * @throws IllegalArgumentException if the workload or DB class cannot be loaded, or the
     *                                  workload refuses the properties (its message says why).
     */
    public static Result run(final Properties props, final PrintStream out, final PrintStream err)
    {
        for (final String unsupported : List.of("exporter", "exportfile"))
        {
            if (props.containsKey(unsupported))
            {
                throw new IllegalArgumentException(unsupported + " is not supported in one-JVM runs (the report is"
                    + " printed in YCSB's text format); give dmkv.memnodes or dmkv.coordinator to run YCSB's own client");
            }
        }
        final String workloadClass = props.getProperty("workload");
        if (workloadClass == null)
        {
            throw new IllegalArgumentException("missing property 'workload': give a workload file with -P (it sets"
                + " workload=site.ycsb.workloads.CoreWorkload)");
        }
        final boolean transactions = Boolean.parseBoolean(props.getProperty(YcsbArgs.TRANSACTIONS, "true"));
        final int opcount = transactions ? integer(props, "operationcount", 0)
            : props.containsKey("insertcount") ? integer(props, "insertcount", 0) : integer(props, "recordcount", 0);
        final int threads = Math.max(1, opcount > 0 ? Math.min(opcount, integer(props, YcsbArgs.THREADS, 1))
            : integer(props, YcsbArgs.THREADS, 1));
        final int target = integer(props, "target", 0);
        final double targetPerThreadPerMs = target > 0 ? (double)target / threads / 1000.0 : -1;
        final long maxSeconds = integer(props, "maxexecutiontime", 0);

        Measurements.setProperties(props);
        resetMeasurements();
        checkCoreWorkload(props);
        final Workload workload = newWorkload(workloadClass);
        try (Tracer tracer = new Tracer.Builder("YCSB " + workload.getClass().getSimpleName())
            .conf(HTraceConfiguration.fromMap(htrace(props))).build())
        {
            try
            {
                workload.init(props);
            }
            catch (final WorkloadException e)
            {
                throw new IllegalArgumentException("the workload refused the properties: " + e.getMessage(), e);
            }
            final String dbName = props.getProperty("db", "site.ycsb.BasicDB");
            final CountDownLatch done = new CountDownLatch(threads);
            final List<ClientThread> clients = new ArrayList<>(threads);
            for (int i = 0; i < threads; i++)
            {
                final DB db;
                try
                {
                    db = DBFactory.newDB(dbName, props, tracer);
                }
                catch (final UnknownDBException e)
                {
                    throw new IllegalArgumentException("unknown DB class " + dbName, e);
                }
                final int share = opcount / threads + (i < opcount % threads ? 1 : 0);
                final ClientThread c = new ClientThread(db, transactions, workload, props, share, targetPerThreadPerMs,
                    done);
                c.setThreadId(i);
                c.setThreadCount(threads);
                clients.add(c);
            }
            err.println((transactions ? "run" : "load") + ": " + opcount + " operations on " + threads + " threads");
            final List<Thread> running = new ArrayList<>(threads);
            for (int i = 0; i < threads; i++)
            {
                running.add(new Thread(clients.get(i), "ycsb-client-" + i));
            }
            final StatusThread status = Boolean.parseBoolean(props.getProperty("status", "false"))
                ? new StatusThread(done, clients, props.getProperty("label", ""),
                    "timeseries".equals(props.getProperty(Measurements.MEASUREMENT_TYPE_PROPERTY, "")),
                    integer(props, "status.interval", 10), "true".equals(props.getProperty(
                        Measurements.MEASUREMENT_TRACK_JVM_PROPERTY, Measurements.MEASUREMENT_TRACK_JVM_PROPERTY_DEFAULT)))
                : null;
            final long start = System.currentTimeMillis();
            running.forEach(Thread::start);
            final TerminatorThread terminator = maxSeconds > 0 ? new TerminatorThread(maxSeconds, running, workload)
                : null;
            if (terminator != null)
            {
                terminator.start();
            }
            if (status != null)
            {
                status.start();
            }
            long opsDone = 0;
            for (int i = 0; i < threads; i++)
            {
                joinUninterruptibly(running.get(i));
                opsDone += clients.get(i).getOpsDone();
            }
            final long runtime = System.currentTimeMillis() - start;
            if (terminator != null)
            {
                terminator.interrupt();
            }
            if (status != null)
            {
                status.interrupt();
                joinUninterruptibly(status);
            }
            try
            {
                workload.cleanup();
            }
            catch (final WorkloadException e)
            {
                throw new IllegalStateException("workload cleanup failed: " + e.getMessage(), e);
            }
            final String text = export(opsDone, runtime, status);
            out.print(text);
            out.flush();
            return new Result(YcsbReport.parse(text), opsDone, opcount, maxSeconds > 0);
        }
    }

    /**
     * Refuses what {@code CoreWorkload.init} of YCSB 0.17.0 answers with {@code System.exit(-1)}
     * (which would end this JVM, and a test run with it), with the same message.
     */
    static void checkCoreWorkload(final Properties props)
    {
        if (!CoreWorkload.class.isAssignableFrom(workloadClass(props.getProperty("workload"))))
        {
            return;
        }
        if (Boolean.parseBoolean(props.getProperty("dataintegrity", "false"))
            && !"constant".equals(props.getProperty("fieldlengthdistribution", "constant")))
        {
            throw new IllegalArgumentException("Must have constant field size to check data integrity: dataintegrity=true"
                + " needs fieldlengthdistribution=constant");
        }
        long records = longValue(props, "recordcount", 0);
        records = records == 0 ? Integer.MAX_VALUE : records;
        final long insertStart = longValue(props, "insertstart", 0);
        final long insertCount = longValue(props, "insertcount", records - insertStart);
        if (records < insertStart + insertCount)
        {
            throw new IllegalArgumentException("Invalid combination of insertstart, insertcount and recordcount:"
                + " recordcount must be at least insertstart + insertcount");
        }
    }

    /** What {@code Client.exportMeasurements} writes, in the text format. */
    private static String export(final long opsDone, final long runtime, final StatusThread status)
    {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (TextMeasurementsExporter exporter = new TextMeasurementsExporter(buffer))
        {
            exporter.write("OVERALL", "RunTime(ms)", runtime);
            exporter.write("OVERALL", "Throughput(ops/sec)", 1000.0 * opsDone / runtime);
            long gcCount = 0;
            long gcTime = 0;
            for (final Map.Entry<String, Long[]> gc : Utils.getGCStatst().entrySet())
            {
                exporter.write("TOTAL_GCS_" + gc.getKey(), "Count", gc.getValue()[0]);
                exporter.write("TOTAL_GC_TIME_" + gc.getKey(), "Time(ms)", gc.getValue()[1]);
                exporter.write("TOTAL_GC_TIME_%_" + gc.getKey(), "Time(%)", (double)gc.getValue()[1] / runtime * 100);
                gcCount += gc.getValue()[0];
                gcTime += gc.getValue()[1];
            }
            exporter.write("TOTAL_GCs", "Count", gcCount);
            exporter.write("TOTAL_GC_TIME", "Time(ms)", gcTime);
            exporter.write("TOTAL_GC_TIME_%", "Time(%)", (double)gcTime / runtime * 100);
            if (status != null && status.trackJVMStats())
            {
                exporter.write("MAX_MEM_USED", "MBs", status.getMaxUsedMem());
                exporter.write("MIN_MEM_USED", "MBs", status.getMinUsedMem());
                exporter.write("MAX_THREADS", "Count", status.getMaxThreads());
                exporter.write("MIN_THREADS", "Count", status.getMinThreads());
                exporter.write("MAX_SYS_LOAD_AVG", "Load", status.getMaxLoadAvg());
                exporter.write("MIN_SYS_LOAD_AVG", "Load", status.getMinLoadAvg());
            }
            Measurements.getMeasurements().exportMeasurements(exporter);
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("could not export YCSB's measurements: " + e.getMessage(), e);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    /**
     * Drops YCSB's measurements singleton so the next phase starts from zero with its own
     * properties. YCSB 0.17.0 has no public way to do it.
     */
    static void resetMeasurements()
    {
        try
        {
            final Field singleton = Measurements.class.getDeclaredField("singleton");
            singleton.setAccessible(true);
            synchronized (Measurements.class)
            {
                singleton.set(null, null);
            }
        }
        catch (final ReflectiveOperationException | RuntimeException e)
        {
            throw new IllegalStateException("cannot reset YCSB's measurements (is site.ycsb:core 0.17.0 on the class"
                + " path?): " + e, e);
        }
    }

    /** The workload class, not instantiated: a CoreWorkload's constructor reads the measurements. */
    private static Class<?> workloadClass(final String name)
    {
        try
        {
            return Class.forName(name);
        }
        catch (final ClassNotFoundException e)
        {
            throw new IllegalArgumentException("cannot load the workload class " + name + ": " + e, e);
        }
    }

    private static Workload newWorkload(final String name)
    {
        try
        {
            return (Workload)workloadClass(name).getDeclaredConstructor().newInstance();
        }
        catch (final ReflectiveOperationException | ClassCastException e)
        {
            final Throwable cause = e instanceof InvocationTargetException ? e.getCause() : e;
            throw new IllegalArgumentException("cannot create the workload " + name + ": " + cause, cause);
        }
    }

    private static Map<String, String> htrace(final Properties props)
    {
        final Map<String, String> conf = new HashMap<>();
        for (final String name : props.stringPropertyNames())
        {
            if (name.startsWith("htrace."))
            {
                conf.put(name.substring("htrace.".length()), props.getProperty(name));
            }
        }
        return conf;
    }

    private static int integer(final Properties props, final String name, final int dflt)
    {
        final String v = props.getProperty(name);
        if (v == null)
        {
            return dflt;
        }
        try
        {
            return Integer.parseInt(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
        }
    }

    private static long longValue(final Properties props, final String name, final long dflt)
    {
        final String v = props.getProperty(name);
        try
        {
            return v == null ? dflt : Long.parseLong(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
        }
    }

    private static void joinUninterruptibly(final Thread t)
    {
        boolean interrupted = false;
        while (true)
        {
            try
            {
                t.join();
                break;
            }
            catch (final InterruptedException e)
            {
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }
}
