package io.dmkv.bench.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client processes of one run phase, seen from {@code kv bench}: starts one JVM per
 * {@link BenchSpec} ({@link BenchProcess}), waits until every one has opened its store, starts
 * them all at once (a line on each one's stdin), follows their progress and collects their
 * results. Their stderr goes to ours. {@link #close} ends any that are still running.
 */
public final class ClientProcesses implements AutoCloseable
{
    private final List<Child> children = new ArrayList<>();

    private ClientProcesses()
    {
    }

    /**
     * Starts one process per spec; spec i is written to {@code dir/client-i.properties}.
     *
     * @param command the JVM command line up to (not including) the main class.
     */
    public static ClientProcesses start(final List<String> command, final List<BenchSpec> specs, final Path dir)
        throws IOException
    {
        final ClientProcesses all = new ClientProcesses();
        try
        {
            for (final BenchSpec spec : specs)
            {
                final Path file = dir.resolve("client-" + spec.process() + ".properties");
                spec.write(file);
                final List<String> cmd = new ArrayList<>(command);
                cmd.add(BenchProcess.class.getName());
                cmd.add(file.toString());
                final Process p = ChildReaper.watch(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start());
                all.children.add(new Child(spec, p));
            }
        }
        catch (final IOException | RuntimeException e)
        {
            all.close();
            throw e;
        }
        return all;
    }

    /** Waits until every process has opened its store. */
    public void awaitReady(final Duration timeout) throws InterruptedException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        for (final Child c : children)
        {
            while (!c.ready.await(100, TimeUnit.MILLISECONDS))
            {
                if (!c.process.isAlive())
                {
                    c.reader.join(1000);
                    if (c.ready.getCount() == 0)
                    {
                        break;
                    }
                    throw new IllegalStateException("client process " + c.spec.process() + " exited with code "
                        + c.process.exitValue() + " before it was ready (its messages are above)");
                }
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException("client process " + c.spec.process() + " was not ready within "
                        + timeout.toSeconds() + " s");
                }
            }
        }
    }

    /** Starts the run phase in every process. */
    public void go() throws IOException
    {
        for (final Child c : children)
        {
            final OutputStream in = c.process.getOutputStream();
            in.write((BenchProcess.GO + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        }
    }

    /** True once every process ended its warm-up (or stopped). */
    public boolean warmedUp()
    {
        for (final Child c : children)
        {
            if (!c.warm && c.process.isAlive())
            {
                return false;
            }
        }
        return true;
    }

    /** Operations done so far over all processes. */
    public long opsDone()
    {
        long n = 0;
        for (final Child c : children)
        {
            n += c.progress.get();
        }
        return n;
    }

    /** True while any process runs. */
    public boolean running()
    {
        for (final Child c : children)
        {
            if (c.process.isAlive())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits for every process to finish and reads its result.
     *
     * @throws IllegalStateException if a process failed or did not finish in time.
     */
    public List<ProcessResult> results(final Duration timeout) throws InterruptedException, IOException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        final List<ProcessResult> results = new ArrayList<>();
        for (final Child c : children)
        {
            final long left = Math.max(1, deadline - System.nanoTime());
            if (!c.process.waitFor(left, TimeUnit.NANOSECONDS))
            {
                throw new IllegalStateException("client process " + c.spec.process() + " did not finish within "
                    + timeout.toSeconds() + " s");
            }
            c.reader.join(5000);
            if (c.process.exitValue() != 0 || !c.done)
            {
                throw new IllegalStateException("client process " + c.spec.process() + " failed with exit code "
                    + c.process.exitValue() + " (its messages are above)");
            }
            results.add(ProcessResult.read(c.spec.output()));
        }
        return results;
    }

    /** Ends the processes still running (ours only). */
    @Override
    public void close()
    {
        for (final Child c : children)
        {
            if (c.process.isAlive())
            {
                c.process.destroy();
            }
        }
        for (final Child c : children)
        {
            try
            {
                if (!c.process.waitFor(5, TimeUnit.SECONDS))
                {
                    c.process.destroyForcibly();
                }
            }
            catch (final InterruptedException e)
            {
                c.process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One process and the thread reading its stdout. */
    private static final class Child
    {
        final BenchSpec spec;
        final Process process;
        final CountDownLatch ready = new CountDownLatch(1);
        final AtomicLong progress = new AtomicLong();
        final Thread reader;
        volatile boolean done;
        volatile boolean warm;

        Child(final BenchSpec spec, final Process process)
        {
            this.spec = spec;
            this.process = process;
            this.reader = new Thread(this::read, "dmkv-client-" + spec.process() + "-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        private void read()
        {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    if (line.equals(BenchProcess.READY))
                    {
                        ready.countDown();
                    }
                    else if (line.startsWith(BenchProcess.PROGRESS))
                    {
                        progress.set(Long.parseLong(line.substring(BenchProcess.PROGRESS.length()).trim()));
                    }
                    else if (line.equals(BenchProcess.WARM))
                    {
                        warm = true;
                    }
                    else if (line.equals(BenchProcess.DONE))
                    {
                        done = true;
                    }
                    else
                    {
                        System.err.println("[client " + spec.process() + "] " + line);
                    }
                }
            }
            catch (final IOException | NumberFormatException e)
            {
                System.err.println("[client " + spec.process() + "] unreadable output: " + e.getMessage());
            }
        }
    }
}
