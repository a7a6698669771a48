package io.dmkv.core.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
 */
public final class MetricsExport implements AutoCloseable
{
    /** What {@code dmkv.metrics} and the memory node's {@code --metrics} name. */
    public enum Kind
    {
        JMX, PROMETHEUS, NONE;

        /** {@code jmx}, {@code prometheus} or {@code none}, any case. */
        public static Kind parse(final String text)
        {
            try
            {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException e)
            {
                throw new IllegalArgumentException("metrics export '" + text + "' is not jmx, prometheus or none");
            }
        }
    }

    /** A registry and, for Prometheus, its endpoint, with how many exports use it. */
    private static final class Shared
    {
        final MeterRegistry registry;
        final HttpServer server;
        final ExecutorService executor;
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
            final String key = kind == Kind.JMX ? "jmx" : port == 0 ? null : "prometheus:" + port;
            Shared s = key == null ? null : SHARED.get(key);
            if (s == null)
            {
                s = kind == Kind.JMX ? new Shared(new JmxMeterRegistry(JmxConfig.DEFAULT, Clock.SYSTEM), null, null)
                    : prometheus(port);
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

    public Kind kind()
    {
        return kind;
    }

    /** The registry to bind meters to; null for {@link Kind#NONE}. */
    public MeterRegistry registry()
    {
        return shared == null ? null : shared.registry;
    }

    /** Where the meters can be read: the Prometheus URL, JMX's domain, or "none". */
    public String endpoint()
    {
        return switch (kind)
        {
            case PROMETHEUS -> "http://127.0.0.1:" + shared.server.getAddress().getPort() + "/metrics";
            case JMX -> "JMX domain metrics";
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
                shared.registry.close();
            }
        }
    }
}
