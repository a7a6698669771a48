package io.dmkv.examples;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbCounters;

/**
 * The smallest complete dmkv program: two memory nodes in this JVM, one store replicating every
 * object on both, and each kind of operation once.
 *
 * <p>Against real memory nodes (started with {@code scripts/memnode}) only the configuration
 * changes: {@code KvConfig.builder().memnodes("10.0.0.5:7410", "10.0.0.6:7410").replication(2)}.
 *
 * <pre>
 * java -cp ... io.dmkv.examples.QuickStart [local|tcp]
 * </pre>
 */
public final class QuickStart
{
    private QuickStart()
    {
    }

    /** Runs the example on {@code tcp} (loopback), or on the transport named by the first argument. */
    public static void main(final String[] args)
    {
        run(args.length > 0 ? args[0] : "tcp", System.out);
    }

    /** Runs the example on {@code transport} ("local" or "tcp"), printing what each call returned to {@code out}. */
    public static void run(final String transport, final PrintStream out)
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 64L << 20, transport);
            KvStore kv = KvStore.open(KvConfig.builder().memnodes(cluster.endpoints()).transport(cluster.transport())
                .replication(2).build()))
        {
            kv.put("user:1", "alice");
            out.println("put user:1 alice; get user:1 -> " + kv.get("user:1"));

            out.println("insert user:2 bob -> " + kv.insert(utf8("user:2"), utf8("bob")));
            out.println("insert user:2 eve -> " + kv.insert(utf8("user:2"), utf8("eve")) + " (already present)");
            out.println("update user:1 alice2 -> " + kv.update(utf8("user:1"), utf8("alice2")));
            out.println("update user:3 carol -> " + kv.update(utf8("user:3"), utf8("carol")) + " (absent)");
            out.println("get user:1 -> " + kv.get("user:1"));

            out.println("delete user:2 -> " + kv.delete("user:2"));
            out.println("delete user:2 -> " + kv.delete("user:2") + " (already gone)");
            out.println("get user:2 -> " + kv.get("user:2"));

            // Async calls run on the store's threads; chain on the futures instead of blocking in between.
            final CompletableFuture<String> async = kv.putAsync(utf8("user:4"), utf8("dave"))
                .thenCompose(done -> kv.getAsync(utf8("user:4")))
                .thenApply(v -> new String(v, StandardCharsets.UTF_8));
            out.println("putAsync user:4 dave, then getAsync user:4 -> " + async.join());

            final VerbCounters.Snapshot c = kv.counters();
            out.println("verbs so far: " + c.roundTrips() + " round trips, " + c.reads() + " READ, " + c.writes()
                + " WRITE, " + c.cas() + " CAS, " + c.faa() + " FAA");
        }
    }

    private static byte[] utf8(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
