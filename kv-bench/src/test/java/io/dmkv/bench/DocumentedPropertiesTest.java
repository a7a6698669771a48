package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.dmkv.KvConfig;
import io.dmkv.KvProperty;
import io.dmkv.bench.cli.KvCli;
import io.dmkv.bench.runner.JvmCommand;
import io.dmkv.bench.ycsb.YcsbMain;
import io.dmkv.memnode.CoordinatorMain;
import io.dmkv.memnode.MemoryNodeMain;
import picocli.CommandLine;

/**
 * Every {@code dmkv.*} property a user reads about — in docs/, the README and the --help texts
 * of the scripts and commands — is one {@link KvConfig} accepts, so copying a name from the
 * documentation never ends in "unknown property". The few {@code dmkv.*} names that are not the
 * store's are listed here with what they are.
 */
class DocumentedPropertiesTest
{
    /** A dmkv.* name not preceded by a package ("io.dmkv.KvStore" is a class, not a property). */
    private static final Pattern NAME = Pattern.compile("(?<![\\w.])dmkv\\.[A-Za-z][\\w.]*[A-Za-z0-9]");

    /** dmkv.* names that are not KvConfig properties, and what they are instead. */
    private static final Map<String, String> NOT_THE_STORES = Map.of(
        YcsbMain.EMBEDDED_NODES, "the YCSB binding's embedded cluster",
        YcsbMain.EMBEDDED_MEMORY, "the YCSB binding's embedded cluster",
        YcsbMain.WORKLOADS_DIR, "where scripts/ycsb finds workload files",
        JvmCommand.FLAGS_PROPERTY, "the pom's JVM flag list",
        "dmkv.properties", "a file name in examples",
        "dmkv.fuzz.seconds", "the build's fuzzing (pom property)",
        "dmkv.fuzz.target", "the build's fuzzing (system property of the fuzz run)",
        "dmkv.fuzz.skip", "the build's fuzzing (pom property)",
        "dmkv.fuzz.agent", "the build's fuzzing (pom property)");

    @Test
    void everyDocumentedDmkvPropertyIsAcceptedByKvConfig() throws IOException
    {
        final Set<String> known = KvConfig.properties().stream().map(KvProperty::name)
            .collect(Collectors.toCollection(TreeSet::new));
        final Map<String, String> texts = texts();
        final Map<String, Set<String>> unknown = new TreeMap<>();
        int checked = 0;
        for (final Map.Entry<String, String> text : texts.entrySet())
        {
            final Matcher m = NAME.matcher(text.getValue());
            while (m.find())
            {
                final String name = m.group();
                checked++;
                if (!known.contains(name) && !NOT_THE_STORES.containsKey(name))
                {
                    unknown.computeIfAbsent(name, n -> new TreeSet<>()).add(text.getKey());
                }
            }
        }
        assertTrue(checked > 50, "the scan found the property names (" + checked + ")");
        assertEquals(Map.of(), unknown, "dmkv.* names that KvConfig refuses (known: " + known + ")");
    }

    @Test
    void theScanCatchesANameKvConfigRefuses()
    {
        final Matcher m = NAME.matcher("set dmkv.opTimeout, not io.dmkv.KvStore");
        assertTrue(m.find());
        assertEquals("dmkv.opTimeout", m.group());
        assertTrue(!m.find(), "a class name is not a property");
        assertTrue(KvConfig.properties().stream().noneMatch(p -> p.name().equals("dmkv.opTimeout")));
    }

    /** Text by where it comes from: docs, README, the scripts' own help and every command's --help. */
    private static Map<String, String> texts() throws IOException
    {
        final Path root = ArchitectureMapTest.root();
        final Map<String, String> texts = new TreeMap<>();
        final List<Path> files = new ArrayList<>();
        try (Stream<Path> docs = Files.list(root.resolve("docs")); Stream<Path> scripts = Files.list(root.resolve("scripts")))
        {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(files::add);
            scripts.filter(Files::isRegularFile).forEach(files::add);
        }
        files.add(root.resolve("README.md"));
        for (final Path f : files)
        {
            texts.put(root.relativize(f).toString(), Files.readString(f));
        }
        final CommandLine kv = KvCli.commandLine();
        texts.put("kv --help", kv.getUsageMessage());
        kv.getSubcommands().forEach((name, sub) -> texts.put("kv " + name + " --help", sub.getUsageMessage()));
        texts.put("memnode --help", new CommandLine(new MemoryNodeMain()).getUsageMessage());
        texts.put("coordinator --help", new CommandLine(CoordinatorMain.class).getUsageMessage());
        final ByteArrayOutputStream ycsb = new ByteArrayOutputStream();
        YcsbMain.run(new String[] {"--help"}, new PrintStream(ycsb, true, StandardCharsets.UTF_8), System.err);
        texts.put("ycsb --help", ycsb.toString(StandardCharsets.UTF_8));
        assertTrue(texts.get("ycsb --help").contains("dmkv.memnodes"), "the ycsb help was captured");
        return texts;
    }
}
