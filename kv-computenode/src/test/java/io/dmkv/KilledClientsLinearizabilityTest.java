package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.correctness.LinearizabilityChecker;
import io.dmkv.correctness.Op;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * The per-key linearizability checker over histories with client kills: client processes race on
 * a few shared keys while some are SIGKILLed and recovered ({@link KvAdmin#recover}); an
 * operation in flight at a kill may have happened or not (the checker's "failed" call), and
 * nothing else is allowed. The seed is printed.
 */
@Timeout(240)
class KilledClientsLinearizabilityTest
{
    private static final int CLIENTS = 3;
    private static final int KILLS = 4;
    private static final int KEYS = 6;

    @Test
    void historiesWithKilledClientsStayLinearizable(@TempDir final Path dir) throws Exception
    {
        final long seed = System.nanoTime();
        System.out.println("killed-clients history: seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 16L << 20, 4L << 20, "tcp", false))
        {
            final KvConfig config = KvConfig.builder().memnodes(cluster.endpoints()).transport("tcp").replication(2)
                .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(1 << 20).build();
            final List<Path> logs = new ArrayList<>();
            try (KvAdmin admin = KvAdmin.open(config))
            {
                final ChildJvm[] p = new ChildJvm[CLIENTS];
                for (int c = 0; c < CLIENTS; c++)
                {
                    p[c] = start(cluster, dir, logs, random);
                }
                for (int k = 0; k < KILLS; k++)
                {
                    Thread.sleep(300 + random.nextInt(900));
                    final int c = random.nextInt(CLIENTS);
                    p[c].close();
                    admin.recover(p[c].clientId);
                    p[c] = start(cluster, dir, logs, random);
                }
                Thread.sleep(500);
                for (final ChildJvm q : p)
                {
                    q.endInput();
                }
                for (final ChildJvm q : p)
                {
                    assertTrue(q.process.waitFor(60, TimeUnit.SECONDS), "a client stopped when asked");
                    assertEquals(0, q.process.exitValue(), "a client that was not killed exits cleanly");
                }
                final List<Op> history = new ArrayList<>();
                for (int i = 0; i < logs.size(); i++)
                {
                    read(logs.get(i), i, history);
                }
                try (KvStore kv = KvStore.open(config))
                {
                    for (int key = 0; key < KEYS; key++)
                    {
                        final long t0 = System.nanoTime();
                        final String v = kv.get("h" + key);
                        history.add(Op.get(10_000, "h" + key, v, t0, System.nanoTime()));
                    }
                }
                final LinearizabilityChecker.Result r = new LinearizabilityChecker().check(history);
                System.out.println("killed-clients history: " + history.size() + " operations, " + r.verdict());
                assertTrue(history.size() > 200, "enough operations ran: " + history.size());
                assertEquals(LinearizabilityChecker.Verdict.LINEARIZABLE, r.verdict(), r.toString());
                assertEquals(List.of(), admin.verify(true));
                assertEquals(0, admin.blocks().owned(), "no block left owned");
            }
        }
    }

    private static ChildJvm start(final EmbeddedCluster cluster, final Path dir, final List<Path> logs,
        final SplittableRandom random) throws IOException
    {
        final Path log = dir.resolve("history-" + logs.size() + ".log");
        logs.add(log);
        return ChildJvm.start("128m", HistoryChild.class, String.join(",", cluster.endpoints()), "2",
            Integer.toString(KEYS), Long.toString(random.nextLong()), log.toString());
    }

    /** Turns one client's log into operations; a call without its response was cut off by a kill. */
    static void read(final Path log, final int process, final List<Op> out) throws IOException
    {
        final Map<String, String[]> open = new HashMap<>();
        for (final String line : Files.readAllLines(log, StandardCharsets.UTF_8))
        {
            final String[] w = line.split(" ");
            if (w[0].equals("I") && w.length == 6)
            {
                open.put(w[1], w);
            }
            else if (w[0].equals("R") && w.length == 4)
            {
                final String[] i = open.remove(w[1]);
                final long t0 = Long.parseLong(i[5]);
                final long t1 = Long.parseLong(w[3]);
                final String key = i[3];
                final String value = i[4];
                out.add(switch (i[2])
                {
                    case "0" -> Op.get(process, key, w[2].equals("null") ? null : w[2], t0, t1);
                    case "1" -> Op.put(process, key, value, t0, t1);
                    case "2" -> Op.insert(process, key, value, Boolean.parseBoolean(w[2]), t0, t1);
                    case "3" -> Op.update(process, key, value, Boolean.parseBoolean(w[2]), t0, t1);
                    default -> Op.delete(process, key, Boolean.parseBoolean(w[2]), t0, t1);
                });
            }
        }
        for (final String[] i : open.values())
        {
            final Op.Kind kind = switch (i[2])
            {
                case "0" -> Op.Kind.GET;
                case "1" -> Op.Kind.PUT;
                case "2" -> Op.Kind.INSERT;
                case "3" -> Op.Kind.UPDATE;
                default -> Op.Kind.DELETE;
            };
            out.add(Op.failed(process, kind, i[3], kind == Op.Kind.DELETE || kind == Op.Kind.GET ? null : i[4],
                Long.parseLong(i[5])));
        }
    }
}
