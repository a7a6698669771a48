package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client in a JVM of its own, for tests that kill or stop it: started with this test run's
 * class path and an explicit heap, it must print {@code ready CLIENT_ID} first; then the test
 * talks to it line by line on its standard input and output. {@link #close} kills it (SIGKILL).
 */
final class ChildJvm implements AutoCloseable
{
    final Process process;
    final int clientId;
    private final BufferedReader in;
    private final PrintStream out;

    private ChildJvm(final Process process) throws IOException
    {
        this.process = process;
        this.in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.out = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        final String ready = in.readLine();
        if (ready == null || !ready.startsWith("ready "))
        {
            process.destroyForcibly();
        }
        assertTrue(ready != null && ready.startsWith("ready "), "child started: " + ready);
        this.clientId = Integer.parseInt(ready.substring(6).trim());
    }

    /** Starts {@code main} with {@code args} in a JVM of {@code heap} (e.g. "160m"), errors discarded. */
    static ChildJvm start(final String heap, final Class<?> main, final String... args) throws IOException
    {
        final List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "-Xmx" + heap, "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
            "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** Sends one line and returns the child's answer (null if it ended). */
    String ask(final String line) throws IOException
    {
        out.println(line);
        return in.readLine();
    }

    /** Closes the child's input: a child that reads to its end then stops by itself. */
    void endInput() throws IOException
    {
        process.getOutputStream().close();
    }

    /** SIGKILL, and waits for the process to be gone. */
    @Override
    public void close() throws InterruptedException
    {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
