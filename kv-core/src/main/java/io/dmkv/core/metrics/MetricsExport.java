package io.dmkv.core.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.management.MBeanServerFactory;

import com.sun.net.httpserver.HttpServer;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.jmx.JmxConfig;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Where a process's dmkv meters go (Micrometer): JMX (the default), a Prometheus text endpoint
 * on loopback ({@code http://127.0.0.1:PORT/metrics}), or nowhere. One registry per kind (and
 * port) per JVM, shared by every store and memory node in it and closed with its last user;
 * meters carry tags ({@code client}, {@code node}) that tell their owners apart.
 *
 * <p>{@link Kind#JMX} does not create the JVM's platform MBean server: in a fresh JVM that alone
 * costs 0.1–0.2 s of CPU (the platform MXBeans, JFR's among them), more than a short client's
 * whole run of reads (docs/ycsb.md). The meters go into it when it exists: at once if it does
 * when the export opens (a JMX agent, {@code -Dcom.sun.management.jmxremote}, an application that
 * uses JMX), otherwise as soon as something creates it (JConsole attaching starts the JVM's local
 * agent, which does), which a daemon thread checks every {@link #JMX_CHECK_MILLIS} ms until then.
 * {@link Kind#JMX_EAGER} creates it at once, as {@code jmx} did before.
 */
public final class MetricsExport implements AutoCloseable
{
    /** What {@code dmkv.metrics} and the memory node's {@code --metrics} name. */
    public enum Kind
    {
        JMX, JMX_EAGER, PROMETHEUS, NONE;

        /** The names {@link #parse} takes. */
        public static final String NAMES = "jmx, jmx-eager, prometheus or none";

        /** {@code jmx}, {@code jmx-eager}, {@code prometheus} or {@code none}, any case. */
        public static Kind parse(final String text)
        {
            try
            {
                return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            }
            catch (final IllegalArgumentException e)
            {
                throw new IllegalArgumentException("metrics export '" + text + "' is not " + NAMES);
            }
        }
    }

    /** How often a {@link Kind#JMX} export with no platform MBean server yet looks for one. */
    public static final long JMX_CHECK_MILLIS = 1000;

    /**
     * A registry and, for Prometheus, its endpoint, with how many exports use it and the meter
     * sets bound to it; a lazy JMX one has no registry until the platform MBean server exists.
     */
    private static final class Shared
    {
        MeterRegistry registry;
        final HttpServer server;
        final ExecutorService executor;
        final List<MeterSet> sets = new ArrayList<>();
        int users;

        Shared(final MeterRegistry registry, final HttpServer server, final ExecutorService executor)
        {
            this.registry = registry;
            this.server = server;
            this.executor = executor;
        }
    }

    private static final Map<String, Shared> SHARED = new HashMap<>();
    private static final MetricsExport NONE = new MetricsExport(Kind.NONE, null, null);
    /** Whether the thread of {@link #watchForPlatformServer} runs (guarded by {@link #SHARED}). */
    private static boolean watching;

    private final Kind kind;
    private final String key;
    private final Shared shared;
    private boolean closed;

    private MetricsExport(final Kind kind, final String key, final Shared shared)
    {
        this.kind = kind;
        this.key = key;
        this.shared = shared;
    }

    /**
     * The export of {@code kind}; {@code port} is the Prometheus endpoint's loopback port (0: any
     * free one, not shared).
     *
     * @throws UncheckedIOException if the Prometheus endpoint cannot listen on {@code port}.
     */
    public static MetricsExport open(final Kind kind, final int port)
    {
        if (kind == Kind.NONE)
        {
            return NONE;
        }
        synchronized (SHARED)
        {
            final boolean jmx = kind == Kind.JMX || kind == Kind.JMX_EAGER;
            final String key = jmx ? "jmx" : port == 0 ? null : "prometheus:" + port;
            Shared s = key == null ? null : SHARED.get(key);
            if (s != null && kind == Kind.JMX_EAGER)
            {
                bindJmx(s);
            }
            if (s == null)
            {
                s = jmx ? new Shared(null, null, null) : prometheus(port);
                if (kind == Kind.JMX_EAGER || jmx && platformServerExists())
                {
                    bindJmx(s);
                }
                else if (jmx)
                {
                    watchForPlatformServer();
                }
                final String k = key != null ? key : "prometheus:" + s.server.getAddress().getPort();
                SHARED.put(k, s);
                s.users++;
                return new MetricsExport(kind, k, s);
            }
            s.users++;
            return new MetricsExport(kind, key, s);
        }
    }

    private static Shared prometheus(final int port)
    {
        final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        final HttpServer server;
        try
        {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        }
        catch (final IOException e)
        {
            registry.close();
            throw new UncheckedIOException("cannot serve Prometheus metrics on 127.0.0.1:" + port + ": " + e.getMessage()
                + " (give another port, or 0 for any free one)", e);
        }
        server.createContext("/metrics", exchange ->
        {
            final byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(body);
            }
        });
        final ExecutorService executor = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-metrics-" + server.getAddress().getPort());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
        return new Shared(registry, server, executor);
    }

    /** Whether some MBean server (the platform one is created through the same factory) exists in this JVM. */
    private static boolean platformServerExists()
    {
        return !MBeanServerFactory.findMBeanServer(null).isEmpty();
    }

    /** Creates the JMX registry of {@code s} (and with it the platform MBean server) and binds its sets. */
    private static void bindJmx(final Shared s)
    {
        if (s.registry == null)
        {
            s.registry = new JmxMeterRegistry(JmxConfig.DEFAULT, Clock.SYSTEM);
            s.sets.forEach(set -> set.bind(s.registry));
        }
    }

    /** Starts the daemon thread that binds the lazy JMX registry once a platform MBean server exists. */
    private static void watchForPlatformServer()
    {
        if (watching)
        {
            return;
        }
        watching = true;
        final Thread t = new Thread(() ->
        {
            try
            {
                while (true)
                {
                    Thread.sleep(JMX_CHECK_MILLIS);
                    synchronized (SHARED)
                    {
                        final Shared s = SHARED.get("jmx");
                        if (s == null || s.registry != null || platformServerExists())
                        {
                            if (s != null)
                            {
                                bindJmx(s);
                            }
                            watching = false;
                            return;
                        }
                    }
                }
            }
            catch (final InterruptedException e)
            {
                synchronized (SHARED)
                {
                    watching = false;
                }
                Thread.currentThread().interrupt();
            }
        }, "dmkv-metrics-jmx");
        t.setDaemon(true);
        t.start();
    }

    public Kind kind()
    {
        return kind;
    }

    /**
     * The registry meters are bound to now; null for {@link Kind#NONE}, and for a lazy
     * {@link Kind#JMX} export while the JVM has no platform MBean server.
     */
    public MeterRegistry registry()
    {
        synchronized (SHARED)
        {
            return shared == null ? null : shared.registry;
        }
    }

    /** Binds {@code set} to the registry now, or when it exists (a lazy JMX export), until {@link #detach}. */
    void attach(final MeterSet set)
    {
        if (shared == null)
        {
            return;
        }
        synchronized (SHARED)
        {
            shared.sets.add(set);
            if (shared.registry != null)
            {
                set.bind(shared.registry);
            }
        }
    }

    /** Stops binding {@code set}; returns the registry its meters are in, or null. */
    MeterRegistry detach(final MeterSet set)
    {
        if (shared == null)
        {
            return null;
        }
        synchronized (SHARED)
        {
            shared.sets.remove(set);
            return shared.registry;
        }
    }

    /** Where the meters can be read: the Prometheus URL, JMX's domain, or "none". */
    public String endpoint()
    {
        return switch (kind)
        {
            case PROMETHEUS -> "http://127.0.0.1:" + shared.server.getAddress().getPort() + "/metrics";
            case JMX, JMX_EAGER -> "JMX domain metrics";
            case NONE -> "none";
        };
    }

    @Override
    public void close()
    {
        if (shared == null)
        {
            return;
        }
        synchronized (SHARED)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            if (--shared.users == 0)
            {
                SHARED.remove(key);
                if (shared.server != null)
                {
                    shared.server.stop(0);
                    shared.executor.shutdownNow();
                }
                if (shared.registry != null)
                {
                    shared.registry.close();
                }
            }
        }
    }
}
