package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import picocli.CommandLine;

/**
 * A bounded slice of {@code scripts/chaos memnodes}: ZooKeeper in a process of its own, four
 * memory-node daemons (r = 3) and two writer processes; a memory node is SIGKILLed mid-workload,
 * then a replacement starts. The fail-over must be published, the writers must go on (writes are
 * acknowledged after it), the regions must be copied back to r = 3 replicas while the writers go
 * on, every acknowledged write must read back and the cluster must verify clean. The slice is small
 * to fit the CI budget (one kill, 32 MiB nodes, 2 s phases, 6 s sessions: as short as a loaded
 * machine allows before live members expire); two deaths in a row are asserted in one JVM by
 * {@code MemoryNodeFailoverTest}, and {@code scripts/chaos memnodes} (default: two kills, two
 * replacements) is the full-size run. The waits are for outcomes (the published map), bounded.
 */
@Timeout(400)
class ChaosMemnodesTest
{
    @Test
    void twoKilledMemoryNodesOfFourLoseNothingWritersCarryOnAndReplacementsRestoreR() throws Exception
    {
        final StringWriter out = new StringWriter();
        final CommandLine cli = new CommandLine(new ChaosMain());
        cli.setOut(new PrintWriter(out, true));
        final int status = cli.execute("memnodes", "--nodes", "4", "--replication", "3", "--kills", "1",
            "--replacements", "1", "--writers", "2", "--memory", "32M", "--keys", "200", "--phase", "2",
            "--session-timeout", "6");
        System.out.println(out);
        assertEquals(0, status, out.toString());
        assertTrue(out.toString().contains("memory nodes killed 1, replacements 1, fewest replicas of a region at the"
            + " end 3"), out.toString());
        assertTrue(out.toString().contains("every region back at r replicas after"), out.toString());
        assertTrue(out.toString().contains("lost 0, verify problems 0, writers that failed 0"), out.toString());
        final Matcher after = Pattern.compile("killed: .* after (\\d+)\\n").matcher(out.toString());
        int kills = 0;
        while (after.find())
        {
            kills++;
            assertTrue(Integer.parseInt(after.group(1)) > 0, "writes acknowledged after each fail-over: " + out);
        }
        assertEquals(1, kills, out.toString());
        final Matcher m = Pattern.compile("work files: (\\S+)").matcher(out.toString());
        assertTrue(m.find(), out.toString());
        assertFalse(Files.exists(Path.of(m.group(1))), "work directory removed");
    }
}
