package io.dmkv;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A client process recording a history for the linearizability checker:
 * {@code HistoryChild NODES R KEYS SEED LOG} opens a static store (small blocks and subtables), or
 * with NODES {@code coordinator=HOST:PORT} a coordinated one that goes on after a failed call (its
 * memory nodes are killed: the call is logged {@code X seq exception} and stays without a response),
 * prints {@code ready ID}, then runs random gets, puts, inserts, updates and deletes on the keys
 * {@code h0..h(KEYS-1)}, every value unique, until its standard input ends or it is killed (10
 * minutes at most). Before each call it appends {@code I seq kind key value nanoTime} to its log,
 * after it {@code R seq result nanoTime}; one system call per line, so a SIGKILL loses none.
 * {@code System.nanoTime} is the machine's monotonic clock, comparable across processes.
 */
public final class HistoryChild
{
    /** NODES of a coordinated child: this prefix and the coordinator's connect string. */
    static final String COORDINATOR = "coordinator=";
    private static volatile boolean stop;

    private HistoryChild()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final int keys = Integer.parseInt(args[2]);
        final SplittableRandom random = new SplittableRandom(Long.parseLong(args[3]));
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        final boolean coordinated = args[0].startsWith(COORDINATOR);
        final KvConfig.Builder config = KvConfig.builder().transport("tcp").replication(Integer.parseInt(args[1]))
            .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(1 << 20);
        try (KvStore kv = KvStore.open((coordinated ? config.coordinator(args[0].substring(COORDINATOR.length()))
            .sessionTimeout(Duration.ofSeconds(10)).mapLease(Duration.ofSeconds(3))
            : config.memnodes(List.of(args[0].split(",")))).build());
            BufferedWriter log = Files.newBufferedWriter(Path.of(args[4]), StandardCharsets.UTF_8))
        {
            out.println("ready " + kv.clientId());
            final Thread eof = new Thread(() ->
            {
                try
                {
                    while (System.in.read() >= 0)
                    {
                        // Until the parent closes our input.
                    }
                }
                catch (final IOException ignored)
                {
                    // Same as end of input.
                }
                stop = true;
            }, "stop-on-eof");
            eof.setDaemon(true);
            eof.start();
            final long end = System.nanoTime() + 600_000_000_000L;
            for (int seq = 0; !stop && System.nanoTime() < end; seq++)
            {
                final String key = "h" + random.nextInt(keys);
                final int kind = random.nextInt(5);
                final String value = "c" + kv.clientId() + "-" + ProcessHandle.current().pid() + "-" + seq;
                line(log, "I " + seq + " " + kind + " " + key + " " + value + " " + System.nanoTime());
                final String result;
                try
                {
                    result = switch (kind)
                    {
                        case 0 -> String.valueOf(kv.get(key));
                        case 1 ->
                        {
                            kv.put(key, value);
                            yield "ok";
                        }
                        case 2 -> String.valueOf(kv.insert(key, value));
                        case 3 -> String.valueOf(kv.update(key, value));
                        default -> String.valueOf(kv.delete(key));
                    };
                }
                catch (final KvException e)
                {
                    if (!coordinated)
                    {
                        throw e;
                    }
                    line(log, "X " + seq + " " + e.getClass().getSimpleName());
                    continue;
                }
                line(log, "R " + seq + " " + result + " " + System.nanoTime());
            }
        }
    }

    private static void line(final BufferedWriter log, final String s) throws IOException
    {
        log.write(s);
        log.write('\n');
        log.flush();
    }
}
