package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import picocli.CommandLine;

/** {@code kv stats} on a live tcp cluster: the numbers move with what a client does. */
@Timeout(120)
class StatsCommandTest
{
    @Test
    void showsEachNodesBlocksByClientAndEachClientsOperations()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 64L << 20, "tcp");
            KvStore kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).replication(2)
                .metrics("prometheus").metricsPort(0).build()))
        {
            final String memnodes = String.join(",", cluster.endpoints());
            final String before = stats(memnodes, kv.metricsEndpoint());
            for (int i = 0; i < 25; i++)
            {
                kv.put("stats-" + i, "value-" + i);
            }
            kv.get("stats-missing");
            final String after = stats(memnodes, kv.metricsEndpoint());

            final int id = kv.clientId();
            final long opsBefore = number(before, "client " + id + " \\(.*?\\): (\\d+) operations");
            assertEquals(opsBefore + 26, number(after, "client " + id + " \\(.*?\\): (\\d+) operations"), after);
            assertTrue(number(after, "round trips (\\d+)") > number(before, "round trips (\\d+)"), after);
            assertTrue(number(after, "SNAPSHOT rule1 (\\d+)") >= number(before, "SNAPSHOT rule1 (\\d+)") + 25,
                "r = 2 without contention: every put wins by rule 1\n" + after);
            for (final String node : cluster.endpoints())
            {
                final long owned = number(after, Pattern.quote(node) + " .*?(\\d+) owned;");
                assertTrue(owned > 0, "both nodes hold the client's blocks (r = 2): " + after);
                assertTrue(after.matches("(?s).*" + Pattern.quote(node) + " .*; client " + id + " holds " + owned
                    + " \\(.*"), after);
            }
        }
    }

    private static String stats(final String memnodes, final String client)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = KvCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int exit = cl.execute("stats", "--memnodes", memnodes, "--replication", "2", "--clients", client);
        assertEquals(0, exit, err + "\n" + out);
        return out.toString();
    }

    private static long number(final String text, final String regex)
    {
        final Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no " + regex + " in:\n" + text);
        return Long.parseLong(m.group(1));
    }
}
