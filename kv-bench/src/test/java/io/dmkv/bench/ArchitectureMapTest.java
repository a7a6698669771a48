package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The map of the client in docs/architecture.md is true: every class its table names exists in
 * the package it names; and kv-bench and examples use nothing of the client but its public API
 * (package {@code io.dmkv}).
 */
class ArchitectureMapTest
{
    private static final Pattern ROW = Pattern.compile("^\\| ([^|]+) \\| `([a-z.]+)` \\| (.+) \\|$");
    private static final Pattern NAME = Pattern.compile("`([A-Za-z]+)`");

    static Path root()
    {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("docs/architecture.md")))
        {
            p = p.getParent();
        }
        assertTrue(p != null, "docs/architecture.md not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    @Test
    void everyClassTheMapNamesExistsWhereItSays() throws Exception
    {
        final List<String> lines = Files.readAllLines(root().resolve("docs/architecture.md"));
        final int start = lines.indexOf("<!-- map: concept | package | classes -->");
        final int end = lines.indexOf("<!-- /map -->");
        assertTrue(start >= 0 && end > start, "the map's markers are in docs/architecture.md");
        int checked = 0;
        final List<String> missing = new ArrayList<>();
        for (final String line : lines.subList(start + 1, end))
        {
            final Matcher row = ROW.matcher(line);
            if (!row.matches())
            {
                continue;
            }
            final Matcher name = NAME.matcher(row.group(3));
            while (name.find())
            {
                final String fqcn = row.group(2) + "." + name.group(1);
                try
                {
                    Class.forName(fqcn, false, getClass().getClassLoader());
                    checked++;
                }
                catch (final ClassNotFoundException e)
                {
                    missing.add(fqcn + " (" + row.group(1).trim() + ")");
                }
            }
        }
        assertEquals(List.of(), missing, "classes named in docs/architecture.md that do not exist");
        assertTrue(checked >= 30, "the map names " + checked + " classes");
    }

    @Test
    void everyConfigPropertyIsInTheReadmeReference() throws IOException
    {
        final String readme = Files.readString(root().resolve("README.md"));
        final List<String> missing = new ArrayList<>();
        for (final io.dmkv.KvProperty<?> p : io.dmkv.KvConfig.properties())
        {
            if (!readme.contains("| `" + p.name() + "` |"))
            {
                missing.add(p.name());
            }
        }
        assertEquals(List.of(), missing, "KvConfig properties missing from README.md's configuration table");
    }

    @Test
    void benchAndExamplesImportOnlyThePublicApiOfTheClient() throws IOException
    {
        final List<String> offenders = new ArrayList<>();
        for (final String module : List.of("kv-bench/src/main/java", "examples/src/main/java"))
        {
            try (Stream<Path> files = Files.walk(root().resolve(module)))
            {
                for (final Path f : (Iterable<Path>)files.filter(p -> p.toString().endsWith(".java"))::iterator)
                {
                    for (final String line : Files.readAllLines(f))
                    {
                        if (line.startsWith("import io.dmkv.computenode") || line.startsWith("import static io.dmkv.computenode"))
                        {
                            offenders.add(root().relativize(f) + ": " + line);
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), offenders, "kv-bench and examples may use only io.dmkv of the client");
    }
}
