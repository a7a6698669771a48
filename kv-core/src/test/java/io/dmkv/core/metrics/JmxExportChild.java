package io.dmkv.core.metrics;

import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

/**
 * A JVM of its own for {@link MetricsExportTest}: opens a JMX export of the kind given ({@code jmx}
 * or {@code jmx-eager}) with one counter, and prints, one line each, what a user would see: how
 * many MBean servers exist after the open, and the counter's value in the platform MBean server
 * once something (here: this main) creates it. Each line is {@code key value}.
 */
public final class JmxExportChild
{
    private JmxExportChild()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final AtomicLong count = new AtomicLong(42);
        System.out.println("servers-before " + MBeanServerFactory.findMBeanServer(null).size());
        try (MetricsExport export = MetricsExport.open(MetricsExport.Kind.parse(args[0]), 0);
            MeterSet meters = new MeterSet(export, "client", "7"))
        {
            meters.counter("dmkv.test.count", "a test count", count, AtomicLong::get);
            System.out.println("servers-after-open " + MBeanServerFactory.findMBeanServer(null).size());
            System.out.println("registry-after-open " + (export.registry() != null));
            final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            final ObjectName pattern = new ObjectName("metrics:name=dmkvTestCount*,*");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Set<ObjectName> names = server.queryNames(pattern, null);
            while (names.isEmpty() && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
                names = server.queryNames(pattern, null);
            }
            System.out.println("names " + names.size());
            count.set(43);
            for (final ObjectName n : names)
            {
                System.out.println("name " + n);
                System.out.println("count " + server.getAttribute(n, "Count"));
            }
            meters.close();
            System.out.println("names-after-close " + server.queryNames(pattern, null).size());
        }
        System.out.flush();
    }
}
