package io.dmkv.bench.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.bench.cli.BenchCommand;
import io.dmkv.bench.cli.ModelCommand;
import picocli.CommandLine;

/** {@code kv model} on a quick measurement and on a kv bench results folder. */
@Timeout(120)
class ModelCommandTest
{
    @TempDir
    Path dir;

    @Test
    void measuredDmkvMixIsPredictedBesideFusee()
    {
        final DmkvMixes m = DmkvMixes.measure(new DmkvMixes.Measurement(2_000, 2_000, 1008, 0.99));
        final VerbMix search = m.ops().get("SEARCH");
        final VerbMix update = m.ops().get("UPDATE");
        assertTrue(search.rtts() >= 1 && search.rtts() <= 2, search.summary());
        assertEquals(0, search.atomics(), 1e-9, search.summary());
        assertTrue(search.bytesIn() >= 1008, search.summary());
        assertTrue(update.rtts() >= 3 && update.rtts() <= 4, update.summary());
        assertTrue(update.atomics() >= 2, "r = 2: a backup CAS and the primary CAS at least: " + update.summary());
        assertTrue(update.bytesOut() >= 2 * 1008, "the object goes to both replicas: " + update.summary());
        for (final String op : new String[] {"INSERT", "DELETE"})
        {
            assertTrue(m.ops().get(op).rtts() >= 3, m.ops().get(op).summary());
        }

        final Run r = run(new ModelCommand(), "--measure", "--measure-records", "1000", "--measure-ops", "1000",
            "--nic", "cx6", "--memnodes", "4", "--clients", "256");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("NIC MODEL (a model, not a measurement"), r.out);
        assertTrue(r.out.contains("| model: dmkv mix, cx6, 4 MNs, 256 clients |"), r.out);
        assertTrue(r.out.contains("| YCSB D "), r.out);
    }

    @Test
    void mixesComeFromAKvBenchResultsFolder()
    {
        final Path results = dir.resolve("bench");
        final Run bench = run(new BenchCommand(), "--workload", "b", "--records", "300", "--threads", "1",
            "--warmup", "0s", "--duration", "300ms", "--transport", "local", "--value-size", "1008", "--results",
            results.toString(),
            "--no-plots");
        assertEquals(0, bench.exit, bench.out + bench.err);
        final Run r = run(new ModelCommand(), "--results", results.toString());
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("dmkv mixes: from " + results), r.out);
        assertTrue(r.out.contains("~ dmkv's split of verbs"), "SEARCH and UPDATE shared a phase: " + r.out);
        // the whole workload's mix is exact: YCSB B's dmkv cell carries no "~"
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("| YCSB B ") && !l.contains("~")), r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("| INSERT ") && !l.contains("~")), r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("| DELETE ") && l.matches(".*\\|\\s+-\\s+\\|\\s+-\\s+\\|$")),
            "no DELETE in a YCSB run: " + r.out);
        assertEquals(2, run(new ModelCommand(), "--results", dir.resolve("missing").toString()).exit);
    }

    @Test
    void fuseeOnlyChecksTheModelWithoutMeasuring()
    {
        final Run r = run(new ModelCommand(), "--fusee-only", "--atomics", "separate");
        assertEquals(0, r.exit, r.out + r.err);
        assertTrue(r.out.contains("atomics separate") && r.out.contains("dmkv mixes: none"), r.out);
        assertTrue(r.out.contains("| UPDATE ") && r.out.contains("2.70"), "separate atomics: 2 x 2.7 M / 2: " + r.out);
        assertEquals(2, run(new ModelCommand(), "--nic", "cx9").exit);
    }

    private static Run run(final Object command, final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    private record Run(int exit, String out, String err)
    {
    }
}
