package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** The scripts and the build pass the same JVM flags: one list in two places, kept in step. */
class JvmFlagsTest
{
    @Test
    void scriptsFlagsMatchThePomsFlags() throws IOException
    {
        final String fromPom = System.getProperty("dmkv.jvm.flags");
        assertNotNull(fromPom, "surefire passes dmkv.jvm.flags");
        final Path file = Path.of("..", "scripts", "lib", "jvm-flags");
        final List<String> fromScripts = Files.readAllLines(file).stream().map(String::trim).filter(l -> !l.isEmpty())
            .flatMap(l -> Arrays.stream(l.split("\\s+"))).collect(Collectors.toList());
        assertEquals(Arrays.asList(fromPom.trim().split("\\s+")), fromScripts);
    }
}
