package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The distribution {@code mvn package} builds (target/dmkv-VERSION.tar.gz) unpacks into a folder
 * whose scripts run without the source tree or Maven. Run by Failsafe after {@code package}.
 */
@Timeout(120)
class DistributionIT
{
    private Path tmp;
    private Path home;

    @BeforeEach
    void unpack() throws Exception
    {
        final Path archive = archive();
        tmp = Files.createTempDirectory("dmkv-dist-");
        final Result r = exec(tmp, List.of("tar", "xzf", archive.toString()), Map.of());
        assertEquals(0, r.exit, r.output);
        try (Stream<Path> top = Files.list(tmp))
        {
            final List<Path> dirs = top.toList();
            assertEquals(1, dirs.size(), "one top folder: " + dirs);
            home = dirs.get(0);
        }
        assertTrue(home.getFileName().toString().startsWith("dmkv-"), home.toString());
    }

    @AfterEach
    void delete() throws IOException
    {
        if (tmp != null)
        {
            try (Stream<Path> all = Files.walk(tmp))
            {
                for (final Path p : all.sorted(Comparator.reverseOrder()).toList())
                {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void distributionHoldsJarsScriptsDocsAndReadme() throws IOException
    {
        for (final String f : List.of("README.md", "LICENSE", "docs", "scripts/kv", "scripts/memnode",
            "scripts/coordinator", "scripts/lib/common.sh", "scripts/lib/jvm-flags", "lib"))
        {
            assertTrue(Files.exists(home.resolve(f)), f);
        }
        assertTrue(Files.isExecutable(home.resolve("scripts/kv")));
        try (Stream<Path> jars = Files.list(home.resolve("lib")))
        {
            final List<String> names = jars.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.matches("kv-bench-.*\\.jar")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.matches("kv-memnode-.*\\.jar")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.matches("picocli-.*\\.jar")), names.toString());
        }
    }

    @Test
    void scriptsRunFromTheUnpackedDistribution() throws Exception
    {
        // no Maven and no source tree: PATH keeps only what the scripts need (bash, java, coreutils)
        final Map<String, String> env = Map.of("JAVA_HOME", System.getProperty("java.home"),
            "PATH", "/usr/bin:/bin");
        final Result kv = exec(home, List.of(home.resolve("scripts/kv").toString(), "--help"), env);
        assertEquals(0, kv.exit, kv.output);
        assertTrue(kv.output.contains("Usage: kv"), kv.output);
        assertTrue(!kv.output.contains("building dmkv"), "a distribution is not built: " + kv.output);
        final Result memnode = exec(home, List.of(home.resolve("scripts/memnode").toString(), "--help"), env);
        assertEquals(0, memnode.exit, memnode.output);
        assertTrue(memnode.output.toLowerCase(Locale.ROOT).contains("--memory"), memnode.output);
        final Result coordinator = exec(home, List.of(home.resolve("scripts/coordinator").toString(), "--help"), env);
        assertEquals(0, coordinator.exit, coordinator.output);
        assertTrue(coordinator.output.contains("--data-dir"), coordinator.output);
    }

    private static Path archive() throws IOException
    {
        final String configured = System.getProperty("dmkv.distribution");
        if (configured != null && Files.exists(Path.of(configured)))
        {
            return Path.of(configured);
        }
        try (Stream<Path> target = Files.list(Path.of("target")))
        {
            return target.filter(p -> p.getFileName().toString().matches("dmkv-.*\\.tar\\.gz")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no target/dmkv-*.tar.gz: run mvn package first"));
        }
    }

    private static Result exec(final Path dir, final List<String> cmd, final Map<String, String> env)
        throws IOException, InterruptedException
    {
        final ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        if (!env.isEmpty())
        {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        final Process p = pb.start();
        final byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private record Result(int exit, String output)
    {
    }
}
