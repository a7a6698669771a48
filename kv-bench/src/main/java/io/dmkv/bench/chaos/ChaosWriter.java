package io.dmkv.bench.chaos;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStore;

/**
 * One chaos writer process: {@code ChaosWriter TRANSPORT NODES R SLOT SLOTS KEYS SEED LOG}, where
 * NODES is the memory nodes' list (static) or {@code coordinator=HOST:PORT} (coordinated: the
 * writer then goes on after a failed operation, as memory nodes are killed under it). It
 * opens a store, prints {@code ready CLIENT_ID}, then runs a mixed workload (inserts, updates,
 * deletes, read-modify-writes) on the keys it owns ({@code k<i>} with {@code i % SLOTS == SLOT})
 * until it is killed, its standard input ends (it then closes the store cleanly) or it has done
 * 10,000,000 operations or run
 * 10 minutes. Every value names the client and a sequence
 * number, so a lost update is visible. Before an operation it appends {@code B key seq value} to
 * its log (value {@code -} for a delete), after the store acknowledged it {@code A key seq MILLIS}
 * (the wall clock, for throughput over time), after a failure {@code F key seq MILLIS KIND}; each
 * line is written with one system call, so a SIGKILL loses no line of a finished write.
 */
public final class ChaosWriter
{
    /** NODES of a coordinated writer: this prefix and the coordinator's connect string. */
    static final String COORDINATOR = "coordinator=";
    private static final int MAX_OPS = 10_000_000;
    private static final long MAX_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
    private static volatile boolean stop;

    private ChaosWriter()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final String transport = args[0];
        final boolean coordinated = args[1].startsWith(COORDINATOR);
        final List<String> nodes = coordinated ? List.of() : List.of(args[1].split(","));
        final int r = Integer.parseInt(args[2]);
        final int slot = Integer.parseInt(args[3]);
        final int slots = Integer.parseInt(args[4]);
        final int keys = Integer.parseInt(args[5]);
        final SplittableRandom random = new SplittableRandom(Long.parseLong(args[6]));
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        final KvConfig.Builder config = KvConfig.builder().transport(transport).replication(r);
        try (KvStore kv = KvStore.open((coordinated ? config.coordinator(args[1].substring(COORDINATOR.length()))
            .sessionTimeout(Duration.ofSeconds(10)).mapLease(Duration.ofSeconds(3)) : config.memnodes(nodes)).build());
            BufferedWriter log = Files.newBufferedWriter(Path.of(args[7]), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND))
        {
            out.println("ready " + kv.clientId());
            final Thread stdin = new Thread(() ->
            {
                try
                {
                    while (System.in.read() >= 0)
                    {
                        // Wait for end of input: the runner's request to stop.
                    }
                }
                catch (final IOException ignored)
                {
                    // Same as end of input.
                }
                stop = true;
            }, "stop-on-eof");
            stdin.setDaemon(true);
            stdin.start();
            final String prefix = "c" + kv.clientId() + "-" + ProcessHandle.current().pid() + "-";
            final long end = System.nanoTime() + MAX_NANOS;
            for (int seq = 0; seq < MAX_OPS && !stop && System.nanoTime() < end; seq++)
            {
                final int i = slot + slots * random.nextInt(Math.max(1, keys / slots));
                final String key = "k" + i;
                final int kind = random.nextInt(10);
                final String value = kind < 2 ? null : prefix + seq + "-" + "x".repeat(random.nextInt(16, 1500));
                line(log, "B " + key + " " + seq + " " + (value == null ? "-" : value));
                try
                {
                    if (value == null)
                    {
                        kv.delete(key);
                    }
                    else if (kind < 4)
                    {
                        kv.get(key);
                        kv.put(key, value);
                    }
                    else
                    {
                        kv.put(key, value);
                    }
                }
                catch (final KvException e)
                {
                    if (!coordinated)
                    {
                        throw e;
                    }
                    line(log, "F " + key + " " + seq + " " + System.currentTimeMillis() + " "
                        + e.getClass().getSimpleName());
                    continue;
                }
                line(log, "A " + key + " " + seq + " " + System.currentTimeMillis());
            }
            // Insert locks this writer found left behind and took over after their lease: each one
            // is a lock some operation did not release (docs/recovery.md, "Insert locks across a fail-over").
            line(log, "S lockTakeovers " + kv.stats().index().lockTakeovers());
        }
    }

    private static void line(final BufferedWriter log, final String s) throws IOException
    {
        log.write(s);
        log.write('\n');
        log.flush();
    }
}
