package io.dmkv.bench.jmh;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.dmkv.bench.runner.ChildReaper;
import io.dmkv.bench.runner.JvmCommand;

/**
 * Memory-node daemons in processes of their own ({@link MemnodeChild}, one JVM each with an
 * explicit heap), listening on loopback ports they pick themselves ({@code --port 0}), for
 * benchmarks whose memory nodes must not share the client's JVM. {@link #close} closes each
 * daemon's stdin, which stops it as SIGTERM would; one that does not stop in time is killed.
 */
public final class MemnodeDaemons implements AutoCloseable
{
    /** The line a daemon prints on stdout once it serves: {@code ... ready on HOST:PORT with ...}. */
    private static final Pattern READY = Pattern.compile("ready on (\\S+) with");
    /** Heap of a daemon: its memory is off-heap, the heap holds only buffers and bookkeeping. */
    static final String HEAP = "256m";

    private final List<Process> processes = new ArrayList<>();
    private final List<String> endpoints = new ArrayList<>();

    private MemnodeDaemons()
    {
    }

    /**
     * Starts {@code count} daemons of {@code memory} bytes each, in regions of {@code regionBytes},
     * and waits until each one serves.
     *
     * @throws IllegalStateException if a daemon exits or is not ready within {@code timeout}
     *                               (its stderr, with the reason, is on ours).
     */
    static MemnodeDaemons start(final int count, final long memory, final long regionBytes, final Duration timeout)
        throws IOException
    {
        return start(count, memory, regionBytes, timeout, "bench-mn", List.of());
    }

    /**
     * As {@link #start(int, long, long, Duration)}, naming daemon i {@code prefix + i} and giving
     * each the further memnode options {@code extra} (a coordinator, a session timeout, ...).
     */
    public static MemnodeDaemons start(final int count, final long memory, final long regionBytes,
        final Duration timeout, final String prefix, final List<String> extra) throws IOException
    {
        final MemnodeDaemons all = new MemnodeDaemons();
        try
        {
            final List<CompletableFuture<String>> ready = new ArrayList<>();
            for (int i = 0; i < count; i++)
            {
                ready.add(all.launch(memory, regionBytes, prefix + i, extra));
            }
            final long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < count; i++)
            {
                all.endpoints.add(ready.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            }
            return all;
        }
        catch (final ExecutionException e)
        {
            all.close();
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
        catch (final TimeoutException e)
        {
            all.close();
            throw new IllegalStateException("memory-node daemons were not ready within " + timeout.toSeconds() + " s");
        }
        catch (final InterruptedException e)
        {
            all.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting memory-node daemons", e);
        }
        catch (final IOException | RuntimeException e)
        {
            all.close();
            throw e;
        }
    }

    /**
     * Follows a daemon's stdout: group 1 of {@code ready} in its ready line (its endpoint), then
     * any further lines to our stderr.
     */
    public static CompletableFuture<String> readReadyLine(final Process p, final String name, final Pattern ready)
    {
        final CompletableFuture<String> endpoint = new CompletableFuture<>();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    final Matcher m = ready.matcher(line);
                    if (!endpoint.isDone() && m.find())
                    {
                        endpoint.complete(m.group(1));
                    }
                    else
                    {
                        System.err.println("[" + name + "] " + line);
                    }
                }
            }
            catch (final IOException e)
            {
                // the daemon is gone; the check below says so if it never became ready
            }
            endpoint.completeExceptionally(new IllegalStateException("daemon " + name
                + " ended before it was ready (its messages are above)"));
        }, "dmkv-" + name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        return endpoint;
    }

    private CompletableFuture<String> launch(final long memory, final long regionBytes, final String name,
        final List<String> extra) throws IOException
    {
        final List<String> cmd = new ArrayList<>(JvmCommand.forChild(HEAP));
        cmd.addAll(List.of(MemnodeChild.class.getName(), "--host", "127.0.0.1", "--port", "0",
            "--memory", Long.toString(memory), "--region-size", Long.toString(regionBytes),
            "--io-threads", "1", "--name", name));
        cmd.addAll(extra);
        final Process p = ChildReaper.watch(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
            .start());
        processes.add(p);
        return readReadyLine(p, name, READY);
    }

    /**
     * Starts one more daemon (a replacement, a node added for capacity) named {@code name} and
     * waits until it serves; returns its endpoint. Its index is the next one.
     */
    public String add(final long memory, final long regionBytes, final Duration timeout, final String name,
        final List<String> extra) throws IOException, InterruptedException
    {
        try
        {
            final String endpoint = launch(memory, regionBytes, name, extra).get(timeout.toMillis(),
                TimeUnit.MILLISECONDS);
            endpoints.add(endpoint);
            return endpoint;
        }
        catch (final ExecutionException | TimeoutException e)
        {
            throw new IllegalStateException("memory node " + name + " did not start within " + timeout.toSeconds()
                + " s: " + e.getMessage(), e);
        }
    }

    /** The daemons' endpoints, {@code 127.0.0.1:PORT}, in start order. */
    public List<String> endpoints()
    {
        return List.copyOf(endpoints);
    }

    /** SIGKILLs daemon {@code i} and waits until it is gone. */
    public void kill(final int i) throws InterruptedException
    {
        processes.get(i).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** Daemon {@code i}'s process (to stop and continue it). */
    public Process process(final int i)
    {
        return processes.get(i);
    }

    /** True while every daemon runs. */
    boolean allAlive()
    {
        return processes.stream().allMatch(Process::isAlive);
    }

    /** True while any daemon runs. */
    boolean anyAlive()
    {
        return processes.stream().anyMatch(Process::isAlive);
    }

    /** Stops every daemon (closing its stdin), killing any that is still there after 10 s. */
    @Override
    public void close()
    {
        stop(processes);
    }

    /** Closes each process's stdin (the daemons stop), killing any still there after 10 s. */
    public static void stop(final List<Process> processes)
    {
        for (final Process p : processes)
        {
            try
            {
                p.getOutputStream().close();
            }
            catch (final IOException e)
            {
                p.destroy();
            }
        }
        boolean interrupted = false;
        for (final Process p : processes)
        {
            try
            {
                if (!p.waitFor(10, TimeUnit.SECONDS))
                {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
            catch (final InterruptedException e)
            {
                p.destroyForcibly();
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }
}
