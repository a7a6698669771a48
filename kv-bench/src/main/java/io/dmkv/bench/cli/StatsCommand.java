package io.dmkv.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.dmkv.KvAdmin;
import io.dmkv.KvStats;
import io.dmkv.core.config.Sizes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kv stats}: a running cluster's numbers. Memory nodes from their allocation tables;
 * clients from their metrics endpoints (a store with {@code dmkv.metrics=prometheus}).
 */
@Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints a running cluster's numbers. Per memory node, from the allocation tables: bytes and"
        + " blocks free and held, and by which client. Per client, from the Prometheus endpoints given with"
        + " --clients (a store started with dmkv.metrics=prometheus): operations, errors by cause, verbs, round"
        + " trips, SNAPSHOT outcomes, retries; in a FlexKV cluster, the coherent cache (hits, misses, invalidations"
        + " applied, bytes), batching, and as a proxy its leases (granted, refused, refused because the key is"
        + " write-hot), invalidations sent, directory entries and fence"
        + " refusals. Exits 1 if the cluster cannot be reached.",
        "Example: kv stats --memnodes 127.0.0.1:7410,127.0.0.1:7411 --clients http://127.0.0.1:9464/metrics"})
public final class StatsCommand implements Callable<Integer>
{
    private static final Pattern SAMPLE = Pattern.compile("^(dmkv_client_[a-z_]+)\\{([^}]*)}\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

    @Mixin
    StoreOptions store;

    @Option(names = "--clients", paramLabel = "URL,...", split = ",",
        description = "Prometheus endpoints of clients (http://127.0.0.1:PORT/metrics), comma-separated.")
    List<String> clients = List.of();

    @Option(names = "--timeout", paramLabel = "DURATION", converter = KvCli.DurationConverter.class,
        description = "How long to wait for a client's endpoint (default: 3s).")
    Duration timeout = Duration.ofSeconds(3);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        final PrintWriter out = spec.commandLine().getOut();
        final List<KvAdmin.Node> nodes = store.withAdmin(KvAdmin::nodes);
        out.println("memory nodes:");
        for (final KvAdmin.Node n : nodes)
        {
            final StringBuilder by = new StringBuilder();
            n.ownedPerClient().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> by
                .append("; client ").append(e.getKey()).append(" holds ").append(e.getValue()).append(" (")
                .append(Sizes.format((long)e.getValue() * n.blockSize())).append(')'));
            out.printf("  %-22s %d region replicas, %d blocks of %s: %d free (%s), %d handed over, %d owned; held %s%s%n",
                n.endpoint(), n.replicas(), n.total(), Sizes.format(n.blockSize()), n.free(), Sizes.format(n.freeBytes()),
                n.handedOver(), n.owned(), Sizes.format(n.heldBytes()), by);
        }
        out.println(clients.isEmpty() ? "clients: none given (--clients URL of a store's Prometheus endpoint)"
            : "clients:");
        int status = 0;
        for (final String url : clients)
        {
            try
            {
                for (final Map.Entry<String, Map<String, Double>> c : scrape(url.trim()).entrySet())
                {
                    out.println("  client " + c.getKey() + " (" + url.trim() + "): " + describe(c.getValue()));
                }
            }
            catch (final IOException e)
            {
                out.println("  " + url.trim() + ": unavailable (" + e.getMessage() + ")");
                status = 1;
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
        out.flush();
        return status;
    }

    /** Client id → sample (name and labels but the client) → value, from one endpoint. */
    Map<String, Map<String, Double>> scrape(final String url) throws IOException, InterruptedException
    {
        final HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
        final HttpResponse<String> r;
        try
        {
            r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).build(),
                HttpResponse.BodyHandlers.ofString());
        }
        catch (final IllegalArgumentException e)
        {
            throw new IOException("not a URL: " + url, e);
        }
        if (r.statusCode() != 200)
        {
            throw new IOException("HTTP " + r.statusCode());
        }
        return parse(r.body());
    }

    /** Client id → sample → value, from Prometheus text. */
    static Map<String, Map<String, Double>> parse(final String text)
    {
        final Map<String, Map<String, Double>> out = new TreeMap<>();
        for (final String line : text.split("\n"))
        {
            final Matcher m = SAMPLE.matcher(line);
            if (!m.find())
            {
                continue;
            }
            String client = "?";
            final List<String> labels = new ArrayList<>();
            final Matcher l = LABEL.matcher(m.group(2));
            while (l.find())
            {
                if (l.group(1).equals("client"))
                {
                    client = l.group(2);
                }
                else
                {
                    labels.add(l.group(2));
                }
            }
            final String key = m.group(1).replaceFirst("^dmkv_client_", "").replaceFirst("_total$", "")
                + (labels.isEmpty() ? "" : "." + String.join(".", labels));
            out.computeIfAbsent(client, k -> new TreeMap<>()).put(key, Double.parseDouble(m.group(3)));
        }
        return out;
    }

    static String describe(final Map<String, Double> s)
    {
        final StringBuilder b = new StringBuilder();
        b.append(n(s, "operations")).append(" operations (").append(n(s, "operations_in_flight")).append(" in flight)");
        b.append("; errors");
        for (final String cause : KvStats.Errors.CAUSES)
        {
            b.append(' ').append(cause).append(' ').append(n(s, "errors." + cause));
        }
        b.append("; verbs read ").append(n(s, "verbs.read")).append(" write ").append(n(s, "verbs.write"))
            .append(" cas ").append(n(s, "verbs.cas")).append(" faa ").append(n(s, "verbs.faa"))
            .append(", rpcs ").append(n(s, "rpcs")).append(", round trips ").append(n(s, "round_trips"));
        b.append("; SNAPSHOT");
        for (final String o : List.of("rule1", "rule2", "rule3", "primary-only", "loss", "help", "fenced", "withdrawn"))
        {
            b.append(' ').append(o).append(' ').append(n(s, "snapshot." + o));
        }
        b.append("; retries ").append(n(s, "retries")).append(", splits ").append(n(s, "splits"))
            .append(", blocks owned ").append(n(s, "blocks_owned"));
        if (s.containsKey("flexkv_cache.hit"))
        {
            flexkv(b, s);
        }
        return b.toString();
    }

    /** A FlexKV compute node's caching figures (docs/flexkv.md §11): as a cacher, then as a proxy. */
    private static void flexkv(final StringBuilder b, final Map<String, Double> s)
    {
        b.append("; FlexKV cache hits ").append(n(s, "flexkv_cache.hit")).append(" misses ")
            .append(n(s, "flexkv_cache.miss")).append(" stale fills ").append(n(s, "flexkv_cache.stale-fill"))
            .append(" invalidated ").append(n(s, "flexkv_cache.invalidated")).append(", ")
            .append(Sizes.format(n(s, "flexkv_cache_bytes"))).append(" cached; batch frames ")
            .append(n(s, "flexkv_batch.frames")).append(" carrying ").append(n(s, "flexkv_batch.requests"))
            .append(" requests; as a proxy: leases granted ").append(n(s, "flexkv_leases.granted")).append(" refused ")
            .append(n(s, "flexkv_leases.refused")).append(" refused as write-hot ")
            .append(n(s, "flexkv_leases.write-hot")).append(", invalidations sent ")
            .append(n(s, "flexkv_invalidations_sent")).append(", writes that waited for them ")
            .append(n(s, "flexkv_writes_waited")).append(" (").append(n(s, "flexkv_leases.ended"))
            .append(" ended by a lease), directory entries ").append(n(s, "flexkv_directory_entries"))
            .append(", fence refusals ").append(n(s, "flexkv_fence_refusals"));
    }

    private static long n(final Map<String, Double> s, final String key)
    {
        return Math.round(s.getOrDefault(key, 0.0));
    }
}
