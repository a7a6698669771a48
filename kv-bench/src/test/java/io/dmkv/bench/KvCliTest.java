package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
    void demoRunsAWorkloadAndPrintsTheTable()
    {
        final Run r = run("demo", "--duration", "1s", "--objects", "3000", "--threads", "2", "--transport", "local");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("READ") && r.out.contains("UPDATE") && r.out.contains("p99 us"), r.out);
        assertTrue(r.out.contains("check: version words add up to"), r.out);
        assertTrue(r.out.contains(": OK"), r.out);
    }

    @Test
    void badOptionsAreRejectedWithExitTwo()
    {
        final Run r = run("demo", "--threads", "0");
        assertEquals(2, r.exit);
        assertTrue(r.err.contains("--threads"), r.err);
        assertEquals(2, run("demo", "--duration", "forever").exit);
        assertEquals(2, run("ping").exit);
        assertEquals(2, run("frobnicate").exit);
    }

    private static Run run(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = new CommandLine(new KvCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private record Run(int exit, String out, String err)
    {
    }
}
