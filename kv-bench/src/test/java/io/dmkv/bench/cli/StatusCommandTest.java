package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.memnode.EmbeddedCluster;

/** {@code kv status} shows what the coordinator knows. */
@Timeout(60)
class StatusCommandTest
{
    @Test
    void statusListsTheRegisteredMemoryNodesAlive()
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(3, 64 * 1024, "tcp"))
        {
            final StringWriter out = new StringWriter();
            final picocli.CommandLine cl = KvCli.commandLine();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute("status", "--coordinator", cluster.coordinatorConnectString()));
            final String text = out.toString();
            assertTrue(text.contains("memory nodes: 3 alive, 0 dead"), text);
            for (final String endpoint : cluster.endpoints())
            {
                assertTrue(text.contains(endpoint), text);
            }
            assertTrue(text.contains("not formatted yet"), text);
        }
    }

    @Test
    void unreachableCoordinatorExitsOneWithAMessage()
    {
        final StringWriter err = new StringWriter();
        final picocli.CommandLine cl = KvCli.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute("status", "--coordinator", "127.0.0.1:1", "--timeout", "300ms"));
        assertTrue(err.toString().contains("127.0.0.1:1"), err.toString());
    }
}
