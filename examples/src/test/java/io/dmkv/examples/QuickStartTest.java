package io.dmkv.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The quick start runs and every call in it returns what its comment promises. */
@Timeout(120)
class QuickStartTest
{
    @ParameterizedTest
    @ValueSource(strings = {"local", "tcp"})
    void everyOperationReturnsWhatTheExampleSays(final String transport)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        QuickStart.run(transport, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        final List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(List.of(
            "put user:1 alice; get user:1 -> alice",
            "insert user:2 bob -> true",
            "insert user:2 eve -> false (already present)",
            "update user:1 alice2 -> true",
            "update user:3 carol -> false (absent)",
            "get user:1 -> alice2",
            "delete user:2 -> true",
            "delete user:2 -> false (already gone)",
            "get user:2 -> null",
            "putAsync user:4 dave, then getAsync user:4 -> dave"), lines.subList(0, lines.size() - 1));
        final String verbs = lines.get(lines.size() - 1);
        assertTrue(verbs.startsWith("verbs so far: ") && !verbs.startsWith("verbs so far: 0 "), verbs);
    }

    @Test
    void mainPrintsToStandardOutput()
    {
        final PrintStream saved = System.out;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try
        {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            QuickStart.main(new String[] {"local"});
        }
        finally
        {
            System.setOut(saved);
        }
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("get user:1 -> alice2"), bytes::toString);
    }
}
