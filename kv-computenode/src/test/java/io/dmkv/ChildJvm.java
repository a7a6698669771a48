package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A client in a JVM of its own, for tests that kill or stop it: started with this test run's
 * class path and an explicit heap, it must print {@code ready CLIENT_ID} first; then the test
 * talks to it line by line on its standard input and output. {@link #close} kills it (SIGKILL);
 * {@link #stop} and {@link #resume} pause and continue it (SIGSTOP, SIGCONT).
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

    /**
     * SIGSTOP, and waits until every thread of the child has stopped. The signal stops the threads
     * one by one as each is next scheduled: on a busy machine a thread that runs meanwhile (a
     * network event loop) may still answer a request sent after {@code kill} returned.
     */
    void stop() throws Exception
    {
        signal("STOP");
        final Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        if (!Files.isDirectory(tasks))
        {
            return; // no /proc here: the stop is as prompt as the system makes it
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!allStopped(tasks))
        {
            assertTrue(System.nanoTime() < deadline, "child " + process.pid() + " stopped within 30 s of SIGSTOP");
            Thread.sleep(5);
        }
    }

    /** SIGCONT. */
    void resume() throws Exception
    {
        signal("CONT");
    }

    private void signal(final String signal) throws Exception
    {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start()
            .waitFor(), "kill -" + signal);
    }

    /** True if every thread under {@code tasks} is stopped (state T in its stat line). */
    private static boolean allStopped(final Path tasks) throws IOException
    {
        try (Stream<Path> threads = Files.list(tasks))
        {
            return threads.allMatch(t ->
            {
                try
                {
                    final String stat = Files.readString(t.resolve("stat"));
                    // "tid (name) S ...": the state follows the last ')' (a name may hold one).
                    final char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    return state == 'T' || state == 't';
                }
                catch (final IOException e)
                {
                    return true; // the thread ended meanwhile
                }
            });
        }
    }

    /** SIGKILL, and waits for the process to be gone. */
    @Override
    public void close() throws InterruptedException
    {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
