package io.dmkv.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import picocli.CommandLine;

/**
 * A bounded slice of {@code scripts/chaos clients}: writer processes on tcp and on the shared-memory
 * local transport are SIGKILLed at random points of a mixed workload and recovered from their
 * logs; every acknowledged write must read back, the cluster must verify clean and no block may
 * be left owned. The seed is printed; {@code scripts/chaos clients --kills 200} runs the long form.
 */
@Timeout(300)
class ChaosClientsTest
{
    @ParameterizedTest
    @ValueSource(strings = {"tcp", "local"})
    void killedWritersLoseNothingAndLeakNoBlock(final String transport) throws Exception
    {
        final StringWriter out = new StringWriter();
        final CommandLine cli = new CommandLine(new ChaosMain());
        cli.setOut(new PrintWriter(out, true));
        final int status = cli.execute("clients", "--kills", "6", "--writers", "2", "--transport", transport,
            "--memory", "32M", "--keys", "200", "--life", "250");
        System.out.println(out);
        assertEquals(0, status, out.toString());
        assertTrue(out.toString().contains("kills 6, recoveries 6"), out.toString());
        assertTrue(out.toString().contains("lost 0, verify problems 0, blocks leaked 0"), out.toString());
        final Matcher m = Pattern.compile("work files: (\\S+)").matcher(out.toString());
        assertTrue(m.find(), out.toString());
        final Path work = Path.of(m.group(1));
        assertTrue(!Files.exists(work), "work directory removed: " + work);
        try (Stream<Path> left = Files.list(Path.of("/dev/shm")))
        {
            assertEquals(0, left.filter(p -> p.getFileName().toString().startsWith(work.getFileName() + "-mn")).count(),
                "shared memory files removed");
        }
    }
}
