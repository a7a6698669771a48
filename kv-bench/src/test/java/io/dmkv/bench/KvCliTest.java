package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.bench.cli.KvCli;
import io.dmkv.memnode.EmbeddedCluster;
import picocli.CommandLine;

/** {@code kv ping} and {@code kv demo} as a user runs them. */
@Timeout(120)
class KvCliTest
{
    @Test
    void pingReportsEveryVerbOfEveryHealthyNode()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 1 << 20, "tcp"))
        {
            final Run r = run("ping", "--memnodes", String.join(",", cluster.endpoints()), "--count", "3");
            assertEquals(0, r.exit, r.out + r.err);
            for (final String verb : new String[] {"WRITE", "READ", "CAS", "FAA", "RPC"})
            {
                assertTrue(r.out.contains(verb), r.out);
            }
            assertTrue(r.out.contains("all 2 memory nodes OK"), r.out);
            // Per node, 3 rounds of: WRITE, READ, READ + CAS, FAA + READ.
            assertEquals(2, r.out.split("sent to this node: 9 READs, 3 WRITEs, 3 CAS, 3 FAA,", -1).length - 1, r.out);
        }
    }

    @Test
    void pingFailsWhenANodeIsDown() throws Exception
    {
        final int port;
        try (ServerSocket s = new ServerSocket(0))
        {
            port = s.getLocalPort();
        }
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 1 << 20, "tcp"))
        {
            final Run r = run("ping", "--memnodes", cluster.endpoints().get(0) + ",127.0.0.1:" + port, "--count", "1",
                "--timeout", "2s");
            assertEquals(1, r.exit, r.out);
            assertTrue(r.out.contains("FAILED"), r.out);
            assertTrue(r.out.contains("1 of 2 memory nodes FAILED"), r.out);
        }
    }

    @Test
    void demoLoadsRunsAndChecksEveryKeyOfTheStore()
    {
        final Run r = run("demo", "--duration", "1s", "--objects", "3000", "--threads", "2", "--transport", "local",
            "--mode", "fusee,flexkv");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("3,000 keys") && r.out.contains("r = 2"), r.out);
        assertTrue(r.out.contains("dmkv demo (fusee mode)") && r.out.contains("dmkv demo (flexkv mode)"), r.out);
        assertTrue(r.out.contains("side by side") && Pattern.compile("(?m)^UPDATE +flexkv/fusee +[0-9.]+x").matcher(r.out)
            .find(), "one table with both modes and their ratio: " + r.out);
        assertEquals(2, Pattern.compile("check: 3,000 keys read back.*: OK").matcher(r.out).results().count(),
            "each mode checks every key: " + r.out);
        assertTrue(r.out.contains("INSERT") && r.out.contains("READ") && r.out.contains("UPDATE")
            && r.out.contains("p999 us") && r.out.contains("RTT/op"), r.out);
        assertTrue(Pattern.compile("(?m)^INSERT +3,000 ").matcher(r.out).find(), "every key is loaded once: " + r.out);
        assertTrue(r.out.contains("SNAPSHOT: ") && r.out.contains("index splits: "), r.out);
        assertTrue(r.out.contains("check: 3,000 keys read back") && r.out.contains(": OK"), r.out);
    }

    @Test
    void demoTakesKeysAsTheNameOfObjectsAndRunsOnTcpWithOneReplica()
    {
        final Run r = run("demo", "--duration", "1s", "--keys", "500", "--threads", "3", "--load-threads", "3",
            "--nodes", "1", "--value-size", "100", "--read-ratio", "0.9", "--zipf", "0");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("500 keys with 100 B values") && r.out.contains("r = 1"), r.out);
        assertTrue(r.out.contains("check: 500 keys read back") && r.out.contains(": OK"), r.out);
    }

    @Test
    void badOptionsAreRejectedWithExitTwo()
    {
        final Run r = run("demo", "--threads", "0");
        assertEquals(2, r.exit);
        assertTrue(r.err.contains("--threads"), r.err);
        assertEquals(2, run("demo", "--duration", "forever").exit);
        assertEquals(2, run("demo", "--value-size", "8").exit);
        assertEquals(2, run("demo", "--value-size", "100K").exit);
        assertEquals(2, run("demo", "--keys", "0").exit);
        assertTrue(run("demo", "--mode", "fusee,fusee").err.contains("--mode takes fusee, flexkv or both"));
        assertEquals(2, run("demo", "--mode", "clover").exit);
        assertEquals(2, run("demo", "--load-threads", "0").exit);
        final Run rep = run("demo", "--nodes", "2", "--replication", "3");
        assertEquals(2, rep.exit);
        assertTrue(rep.err.contains("--replication must be in 1..2"), rep.err);
        assertEquals(2, run("demo", "--transport", "rdma").exit);
        assertEquals(2, run("ping").exit);
        final Run noPort = run("ping", "--memnodes", "127.0.0.1");
        assertEquals(2, noPort.exit, "a node address without a port is bad usage");
        assertTrue(noPort.err.contains("'127.0.0.1' has no port"), noPort.err);
        assertEquals(2, run("bench", "--memnodes", "localhost", "--duration", "1s").exit);
        assertEquals(2, run("frobnicate").exit);
        assertEquals(2, run().exit);
    }

    @Test
    void soakRunsTheMixPrintsEachIntervalAndChecksEveryKey(@TempDir final Path dir) throws IOException
    {
        final Path csv = dir.resolve("soak.csv");
        final Path png = dir.resolve("soak.png");
        final Run r = run("soak", "--minutes", "0.05", "--interval", "1s", "--keys", "300", "--threads", "2",
            "--transport", "local", "--max-value-size", "2K", "--csv", csv.toString(), "--plot", png.toString());
        assertEquals(0, r.exit, r.out + r.err);
        final long intervals = r.out.lines().filter(l -> l.matches("\\s*\\d+:\\d\\d .*")).count();
        assertTrue(intervals >= 2, "a line per interval: " + r.out);
        assertTrue(r.out.contains("MN held MiB") && r.out.contains("memory-node bytes held: "), r.out);
        assertTrue(r.out.contains("errors: none") && r.out.contains("whole value of its own key: OK"), r.out);
        final List<String> rows = Files.readAllLines(csv);
        assertTrue(rows.get(0).startsWith("seconds,") && rows.size() - 1 == intervals, rows.toString());
        assertTrue(Files.size(png) > 1000, "the curve was drawn");
        assertEquals(2, run("soak", "--minutes", "0").exit);
        assertEquals(2, run("soak", "--block-size", "3000").exit);
        assertEquals(2, run("soak", "--transport", "rdma").exit);
    }

    @Test
    void everyCommandHasHelp()
    {
        for (final String command : new String[] {"demo", "put", "get", "delete", "ping", "soak"})
        {
            final Run r = run(command, "--help");
            assertEquals(0, r.exit, command);
            assertTrue(r.out.contains("Usage: kv " + command), r.out);
        }
        final Run top = run("--help");
        assertEquals(0, top.exit);
        for (final String command : new String[] {"demo", "put", "get", "delete", "ping"})
        {
            assertTrue(top.out.contains("  " + command + " "), top.out);
        }
    }

    static Run run(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = KvCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Exit code and what a command printed. */
    record Run(int exit, String out, String err)
    {
    }
}
