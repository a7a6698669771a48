package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.transport.local.LocalVerbsTransport;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * The daemon as a user runs it: a separate JVM, its options, its shared file, and SIGTERM.
 */
@Timeout(120)
class MemoryNodeMainTest
{
    private static final Pattern READY = Pattern.compile("ready on (\\S+) with");

    @Test
    void helpDocumentsEveryOption() throws Exception
    {
        final Result r = runToEnd("--help");
        assertEquals(0, r.exit);
        for (final String option : List.of("--host", "--port", "--memory", "--region-size", "--shm-file", "--name",
            "--io-threads", "--max-frame", "--rdma-host", "--rdma-port", "--coordinator", "--advertise-host", "--cluster",
            "--session-timeout", "--force", "--secret-file", "--tls-cert", "--tls-key", "--tls-ca", "--metrics",
            "--metrics-port"))
        {
            assertTrue(r.out.contains(option), "help lacks " + option);
        }
        assertTrue(r.out.contains("volatile"), "help says memory nodes are volatile");
    }

    @Test
    void badOptionsFailWithAClearMessage() throws Exception
    {
        final Result missing = runToEnd("--port", "0");
        assertEquals(2, missing.exit);
        assertTrue(missing.err.contains("--memory"), missing.err);
        final Result badSize = runToEnd("--memory", "lots");
        assertEquals(2, badSize.exit);
        assertTrue(badSize.err.contains("not a size: 'lots'"), badSize.err);
        final Result badRegion = runToEnd("--memory", "64M", "--region-size", "2G");
        assertEquals(2, badRegion.exit);
        assertTrue(badRegion.err.contains("region size"), badRegion.err);
        final Result noRnic = runToEnd("--memory", "1M", "--port", "0", "--rdma-host", "127.0.0.1");
        assertEquals(2, noRnic.exit);
        assertTrue(noRnic.err.contains("--rdma-host") && noRnic.err.contains("rdma.md"), noRnic.err);
        final Result badPort = runToEnd("--memory", "64M", "--port", "70000");
        assertEquals(2, badPort.exit);
        assertTrue(badPort.err.contains("--port"), badPort.err);
    }

    @Test
    void aPortInUseIsNamed() throws Exception
    {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final int port = taken.getLocalPort();
            final Result r = runToEnd("--host", "127.0.0.1", "--port", Integer.toString(port), "--memory", "1M");
            assertEquals(1, r.exit, r.err);
            assertTrue(r.err.contains("cannot listen on 127.0.0.1:" + port) && r.err.contains("in use")
                && r.err.contains("--port 0"), r.err);
        }
    }

    @Test
    void memoryBeyondThisHostIsRefusedBeforeAnyIsTaken() throws Exception
    {
        final Result r = runToEnd("--host", "127.0.0.1", "--port", "0", "--memory", "64T");
        assertEquals(2, r.exit, r.err);
        assertTrue(r.err.contains("--memory 64 TiB is more than this host can give") && r.err.contains("--force"),
            r.err);
    }

    @Test
    void sharedFileDaemonServesTcpAndLocalClientsOnTheSameMemoryAndCleansUpOnSigterm() throws Exception
    {
        final Path shm = Path.of(Files.isWritable(Path.of("/dev/shm")) ? "/dev/shm" : System.getProperty("java.io.tmpdir"))
            .resolve("dmkv-memnode-test-" + UUID.randomUUID() + ".shm");
        final Process p = start("--host", "127.0.0.1", "--port", "0", "--memory", "8M", "--region-size", "4M",
            "--shm-file", shm.toString(), "--name", "child-mn");
        try
        {
            final String endpoint = awaitReady(p);
            assertTrue(Files.exists(shm), "the shared file exists while the node runs");
            try (TcpVerbsTransport tcp = new TcpVerbsTransport();
                LocalVerbsTransport local = new LocalVerbsTransport();
                VerbsClient viaTcp = VerbsClient.connect(tcp, List.of(endpoint), ClientOptions.defaults());
                VerbsClient viaShm = VerbsClient.connect(local, List.of(endpoint), ClientOptions.defaults()))
            {
                assertEquals("child-mn", viaTcp.channel(0).node().name());
                assertEquals(2, viaTcp.channel(0).regions().size());
                final byte[] text = "written through the mapping".getBytes(StandardCharsets.US_ASCII);
                final VerbBatch w = new VerbBatch();
                w.write(viaShm.channel(0).region(1), 4096, new UnsafeBuffer(text), 0, text.length);
                w.faa(viaShm.channel(0).region(1), 8192, 40);
                viaShm.execute(w);
                final byte[] back = new byte[text.length];
                final VerbBatch r = new VerbBatch();
                r.read(viaTcp.channel(0).region(1), 4096, new UnsafeBuffer(back), 0, back.length);
                final int faa = r.faa(viaTcp.channel(0).region(1), 8192, 2);
                viaTcp.execute(r);
                assertEquals(new String(text, StandardCharsets.US_ASCII), new String(back, StandardCharsets.US_ASCII));
                assertEquals(40, r.result(faa), "an FAA through tcp sees the one done on the shared mapping");
                assertEquals(0, viaShm.counters().rpcs());
                assertEquals(0, viaShm.rpc(0, MemoryNodeRpc.SCRATCH, java.nio.ByteBuffer.allocate(0)).getInt());
            }
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the daemon stops on SIGTERM");
            assertFalse(Files.exists(shm), "the shared file is deleted on SIGTERM");
        }
        finally
        {
            p.destroyForcibly();
            Files.deleteIfExists(shm);
        }
    }

    @Test
    void theDefaultRegionSizeGivesEveryNodeAtLeastFourRegions()
    {
        assertEquals(1L << 30, MemoryNode.Config.defaultRegionBytes(64L << 30));
        assertEquals(1L << 30, MemoryNode.Config.defaultRegionBytes(4L << 30));
        assertEquals(512L << 20, MemoryNode.Config.defaultRegionBytes(3L << 30));
        assertEquals(64L << 20, MemoryNode.Config.defaultRegionBytes(256L << 20));
        assertEquals(16L << 10, MemoryNode.Config.defaultRegionBytes(32L << 10), "not below the 16 KiB minimum");
    }

    @Test
    void registersMoreMemoryThanTheJvmDirectMemoryCap() throws Exception
    {
        // -Xmx64m caps direct buffers at 64 MiB; 1.5 GiB of memory-node memory must not care.
        final File log = File.createTempFile("memnode-log", ".txt");
        final Process p = start(ProcessBuilder.Redirect.to(log), MemoryNodeMain.class, "--host", "127.0.0.1",
            "--port", "0", "--memory", "1536M");
        try
        {
            final String endpoint = awaitReady(p);
            final String logged = Files.readString(log.toPath());
            assertTrue(logged.contains("zeroing 1.5 GiB of memory before serving")
                && logged.contains("1.5 GiB zeroed in"), "zeroing is logged before the ready line: " + logged);
            try (TcpVerbsTransport tcp = new TcpVerbsTransport();
                VerbsClient c = VerbsClient.connect(tcp, List.of(endpoint), ClientOptions.defaults()))
            {
                assertEquals(6, c.channel(0).regions().size(), "no --region-size: 256 MiB regions, at least 4");
                assertEquals(256L << 20, c.channel(0).region(0).length());
                final VerbBatch b = new VerbBatch();
                final long last = c.channel(0).region(1).length() - 8;
                b.faa(c.channel(0).region(1), last, 9);
                b.faa(c.channel(0).region(1), last, 0);
                c.execute(b);
                assertEquals(9, b.result(1));
            }
        }
        finally
        {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
            Files.deleteIfExists(log.toPath());
        }
    }

    @Test
    void prometheusMetricsAreServedOnLoopback() throws Exception
    {
        final Process p = start("--host", "127.0.0.1", "--port", "0", "--memory", "16M", "--metrics", "prometheus",
            "--metrics-port", "0");
        try
        {
            final String url = awaitLine(p, Pattern.compile("metrics: (http://127\\.0\\.0\\.1:\\d+/metrics)"));
            final String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(16 << 20, sample(text, "dmkv_memnode_bytes", "total"), text);
            assertEquals(0, sample(text, "dmkv_memnode_blocks", "owned"), text);
        }
        finally
        {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
        final Result bad = runToEnd("--port", "0", "--memory", "1M", "--metrics", "graphite");
        assertEquals(2, bad.exit, bad.err);
        assertTrue(bad.err.contains("metrics export 'graphite' is not jmx, jmx-eager, prometheus or none"), bad.err);
    }

    private static double sample(final String text, final String name, final String state)
    {
        final Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*state=\"" + state + "\"[^}]*} (\\S+)$").matcher(text);
        assertTrue(m.find(), "no " + name + " " + state);
        return Double.parseDouble(m.group(1));
    }

    static String awaitReady(final Process p) throws IOException
    {
        return awaitLine(p, READY);
    }

    /** Reads the child's output until a line matches {@code pattern}; returns its first group. */
    static String awaitLine(final Process p, final Pattern pattern) throws IOException
    {
        final BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null)
        {
            final Matcher m = pattern.matcher(line);
            if (m.find())
            {
                return m.group(1);
            }
        }
        throw new AssertionError("the daemon exited before it was ready (exit " + waitExit(p) + ")");
    }

    private static int waitExit(final Process p)
    {
        try
        {
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static Process start(final String... args) throws IOException
    {
        return start(MemoryNodeMain.class, args);
    }

    /** Starts {@code main} in a child JVM with -Xmx64m and the project's JVM flags. */
    static Process start(final Class<?> main, final String... args) throws IOException
    {
        return start(ProcessBuilder.Redirect.DISCARD, main, args);
    }

    /** As {@link #start(Class, String...)}, with the child's stderr (its log) sent to {@code err}. */
    static Process start(final ProcessBuilder.Redirect err, final Class<?> main, final String... args)
        throws IOException
    {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx64m");
        final String flags = System.getProperty("dmkv.jvm.flags", "");
        if (!flags.isBlank())
        {
            cmd.addAll(Arrays.asList(flags.trim().split("\\s+")));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(Arrays.asList(args));
        final ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(err);
        return pb.start();
    }

    private static Result runToEnd(final String... args) throws Exception
    {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx64m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MemoryNodeMain.class.getName());
        cmd.addAll(Arrays.asList(args));
        final File out = File.createTempFile("memnode-out", ".txt");
        final File err = File.createTempFile("memnode-err", ".txt");
        try
        {
            final Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            return new Result(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
        }
        finally
        {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }

    private record Result(int exit, String out, String err)
    {
    }
}
