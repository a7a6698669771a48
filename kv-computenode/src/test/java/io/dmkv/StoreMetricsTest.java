package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;

/** A store's stats as its Prometheus endpoint shows them, changing with the operations it runs. */
@Timeout(120)
class StoreMetricsTest
{
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theEndpointCountsOperationsVerbsAndErrorsByCause() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 64L << 20, "local");
            KvStore kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).transport("local")
                .replication(2).metrics("prometheus").metricsPort(0).build()))
        {
            final String url = kv.metricsEndpoint();
            assertTrue(url.startsWith("http://127.0.0.1:") && url.endsWith("/metrics"), url);
            final String client = Integer.toString(kv.clientId());
            final String before = scrape(url);
            final double operations = sample(before, "dmkv_client_operations_total", client, "");
            final double reads = sample(before, "dmkv_client_verbs_total", client, "verb=\"read\"");
            final double cas = sample(before, "dmkv_client_verbs_total", client, "verb=\"cas\"");
            final double trips = sample(before, "dmkv_client_round_trips_total", client, "");

            for (int i = 0; i < 40; i++)
            {
                kv.put("metrics-" + i, "v" + i);
            }
            for (int i = 0; i < 40; i++)
            {
                assertEquals("v" + i, kv.get("metrics-" + i));
            }
            assertThrows(InvalidInputException.class, () -> kv.get(new byte[KvStore.MAX_KEY_LENGTH + 1]));

            final String after = scrape(url);
            assertEquals(operations + 80, sample(after, "dmkv_client_operations_total", client, ""));
            assertTrue(sample(after, "dmkv_client_verbs_total", client, "verb=\"read\"") >= reads + 40, after);
            assertTrue(sample(after, "dmkv_client_verbs_total", client, "verb=\"cas\"") >= cas + 80, "r = 2: a CAS per replica");
            assertTrue(sample(after, "dmkv_client_round_trips_total", client, "") >= trips + 80, after);
            assertEquals(1, sample(after, "dmkv_client_errors_total", client, "cause=\"invalid-input\""));
            assertEquals(0, sample(after, "dmkv_client_errors_total", client, "cause=\"timeout\""));
            assertEquals(1, kv.stats().operations().errors().invalidInput());
            assertEquals(kv.stats().allocator().blocksOwned(),
                sample(after, "dmkv_client_blocks_owned", client, ""));
            kv.close();
            assertThrows(IOException.class, () -> scrape(url), "the endpoint closes with its last store");
        }
    }

    private String scrape(final String url) throws IOException, InterruptedException
    {
        final HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The value of {@code name} for {@code client} with the other label {@code label} (or none). */
    private static double sample(final String text, final String name, final String client, final String label)
    {
        final Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)}\\s+(\\S+)$").matcher(text);
        while (m.find())
        {
            final String labels = m.group(1);
            if (labels.contains("client=\"" + client + "\"") && labels.contains(label))
            {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + name + " {" + label + "} for client " + client + " in:\n" + text);
    }
}
