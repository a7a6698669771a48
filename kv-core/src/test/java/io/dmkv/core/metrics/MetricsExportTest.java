package io.dmkv.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where a JMX export's meters appear: {@code jmx} leaves the platform MBean server alone until
 * something else creates it, then registers in it; {@code jmx-eager} creates it at open. Each case
 * runs in a JVM of its own, since a platform MBean server, once created, stays for the JVM's life.
 */
@Timeout(120)
class MetricsExportTest
{
    @Test
    void jmxWaitsForThePlatformMBeanServerThenRegistersInIt() throws Exception
    {
        final Map<String, String> seen = child("jmx");
        assertEquals("0", seen.get("servers-before"), seen.toString());
        assertEquals("0", seen.get("servers-after-open"), "the export created no MBean server: " + seen);
        assertEquals("false", seen.get("registry-after-open"), seen.toString());
        assertEquals("1", seen.get("names"), "the counter appeared once the platform server existed: " + seen);
        assertEquals("metrics:name=dmkvTestCount.client.7,type=meters", seen.get("name"), seen.toString());
        assertEquals("43", seen.get("count"), "it reads its source when read: " + seen);
        assertEquals("0", seen.get("names-after-close"), seen.toString());
    }

    @Test
    void jmxEagerCreatesThePlatformMBeanServerAtOpen() throws Exception
    {
        final Map<String, String> seen = child("jmx-eager");
        assertEquals("0", seen.get("servers-before"), seen.toString());
        assertEquals("1", seen.get("servers-after-open"), seen.toString());
        assertEquals("true", seen.get("registry-after-open"), seen.toString());
        assertEquals("1", seen.get("names"), seen.toString());
        assertEquals("metrics:name=dmkvTestCount.client.7,type=meters", seen.get("name"), seen.toString());
        assertEquals("43", seen.get("count"), seen.toString());
        assertEquals("0", seen.get("names-after-close"), seen.toString());
    }

    @Test
    void noneRegistersNothing()
    {
        final AtomicLong count = new AtomicLong(1);
        try (MetricsExport export = MetricsExport.open(MetricsExport.Kind.NONE, 0);
            MeterSet meters = new MeterSet(export, "client", "1"))
        {
            meters.counter("dmkv.test.none", "a test count", count, AtomicLong::get);
            assertNull(export.registry());
            assertEquals("none", export.endpoint());
        }
    }

    @Test
    void parseNamesEveryKindAndRefusesOthers()
    {
        assertEquals(MetricsExport.Kind.JMX, MetricsExport.Kind.parse(" JMX "));
        assertEquals(MetricsExport.Kind.JMX_EAGER, MetricsExport.Kind.parse("jmx-eager"));
        assertEquals(MetricsExport.Kind.PROMETHEUS, MetricsExport.Kind.parse("prometheus"));
        assertEquals(MetricsExport.Kind.NONE, MetricsExport.Kind.parse("none"));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> MetricsExport.Kind.parse("graphite"));
        assertTrue(e.getMessage().contains("jmx, jmx-eager, prometheus or none"), e.getMessage());
    }

    /** Runs {@link JmxExportChild} with {@code kind}; its lines as key → value (the last value of a key). */
    private static Map<String, String> child(final String kind) throws IOException, InterruptedException
    {
        final Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
            JmxExportChild.class.getName(), kind).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String out;
        try
        {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child ended");
        }
        finally
        {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), out);
        final Map<String, String> seen = new LinkedHashMap<>();
        for (final String line : List.of(out.split("\n")))
        {
            final int space = line.indexOf(' ');
            if (space > 0)
            {
                seen.put(line.substring(0, space), line.substring(space + 1).trim());
            }
        }
        return seen;
    }
}
