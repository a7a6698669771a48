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

import io.dmkv.bench.runner.JvmCommand;

/**
 * Memory-node daemons in processes of their own ({@link MemnodeChild}, one JVM each with an
 * explicit heap), listening on loopback ports they pick themselves ({@code --port 0}), for
 * benchmarks whose memory nodes must not share the client's JVM. {@link #close} closes each
 * daemon's stdin, which stops it as SIGTERM would; one that does not stop in time is killed.
 */
final class MemnodeDaemons implements AutoCloseable
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
        final MemnodeDaemons all = new MemnodeDaemons();
        try
        {
            final List<CompletableFuture<String>> ready = new ArrayList<>();
            for (int i = 0; i < count; i++)
            {
                final List<String> cmd = new ArrayList<>(JvmCommand.forChild(HEAP));
                cmd.addAll(List.of(MemnodeChild.class.getName(), "--host", "127.0.0.1", "--port", "0",
                    "--memory", Long.toString(memory), "--region-size", Long.toString(regionBytes),
                    "--io-threads", "1", "--name", "bench-mn" + i));
                final Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                all.processes.add(p);
                ready.add(readEndpoint(p, "bench-mn" + i));
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

    /** Follows a daemon's stdout: the endpoint of its ready line, then any further lines to our stderr. */
    private static CompletableFuture<String> readEndpoint(final Process p, final String name)
    {
        final CompletableFuture<String> endpoint = new CompletableFuture<>();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    final Matcher m = READY.matcher(line);
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
            endpoint.completeExceptionally(new IllegalStateException("memory-node daemon " + name
                + " ended before it was ready (its messages are above)"));
        }, "dmkv-" + name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        return endpoint;
    }

    /** The daemons' endpoints, {@code 127.0.0.1:PORT}, in start order. */
    List<String> endpoints()
    {
        return List.copyOf(endpoints);
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
