package io.dmkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * Many threads on three compute nodes (two proxies, one plain client) write and read while
 * every partition is moved again and again between the proxies and one-sided mode. Each key has
 * one writer, which writes increasing sequence numbers; the checker holds every read to the
 * per-key linearizability window: a read returns a value at least as new as the last write
 * acknowledged before it started and no newer than the last write started before it ended. At
 * the end every key holds its last acknowledged write, and {@code kv verify} finds the cluster
 * consistent.
 */
@Timeout(240)
class FlexKvHandoverLinearizabilityTest
{
    private static final int KEYS = 96;
    private static final int WRITERS = 4;
    private static final int READERS = 3;
    private static final int MOVES = 20;

    @Test
    void readsStayInTheirWindowAndNoAcknowledgedWriteIsLostAcrossHandOvers() throws Exception
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
            KvStore a = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(200)).build());
            KvStore b = KvStore.open(FlexKvTest.flexkv(cluster, 2).proxyEnabled(true)
                .proxyHandoverGrace(Duration.ofMillis(200)).build());
            KvStore c = KvStore.open(FlexKvTest.flexkv(cluster, 2).mode("").build());
            KvAdmin admin = KvAdmin.open(FlexKvTest.flexkv(cluster, 2).mode("").build()))
        {
            FlexKvTest.await("the proxies serve every partition", () -> admin.proxies().size() == 2
                && FlexKvTest.settledOver(admin, admin.proxies().keySet()));
            final KvStore[] stores = {a, b, c};
            final AtomicLongArray acked = new AtomicLongArray(KEYS);
            final AtomicLongArray started = new AtomicLongArray(KEYS);
            for (int k = 0; k < KEYS; k++)
            {
                stores[k % 3].put(key(k), "0");
            }
            final AtomicBoolean stop = new AtomicBoolean();
            final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
            final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            final long[] reads = new long[READERS];
            final List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++)
            {
                final int writer = w;
                threads.add(new Thread(() ->
                {
                    long seq = 0;
                    int round = 0;
                    while (!stop.get() && seq < 100_000)
                    {
                        for (int k = writer; k < KEYS && !stop.get(); k += WRITERS)
                        {
                            seq++;
                            started.set(k, seq);
                            try
                            {
                                stores[(k + round) % 3].put(key(k), Long.toString(seq));
                                acked.set(k, seq);
                            }
                            catch (final KvTimeoutException e)
                            {
                                // Outcome unknown: the window's upper bound already allows it.
                            }
                            catch (final RuntimeException e)
                            {
                                errors.add(e);
                                return;
                            }
                        }
                        round++;
                    }
                }, "writer-" + w));
            }
            for (int r = 0; r < READERS; r++)
            {
                final int reader = r;
                threads.add(new Thread(() ->
                {
                    final ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (!stop.get())
                    {
                        final int k = rnd.nextInt(KEYS);
                        final long low = acked.get(k);
                        final String v;
                        try
                        {
                            v = stores[rnd.nextInt(3)].get(key(k));
                        }
                        catch (final KvTimeoutException e)
                        {
                            continue;
                        }
                        catch (final RuntimeException e)
                        {
                            errors.add(e);
                            return;
                        }
                        final long high = started.get(k);
                        final long got = v == null ? -1 : Long.parseLong(v);
                        if (got < low || got > high)
                        {
                            violations.add("key " + k + ": read " + v + " outside [" + low + ", " + high + "]");
                        }
                        reads[reader]++;
                    }
                }, "reader-" + r));
            }
            threads.forEach(Thread::start);
            final List<String> names = List.copyOf(admin.proxies().keySet());
            final String[] targets = {"none", names.get(0), names.get(1), "auto"};
            for (int move = 0; move < MOVES && errors.isEmpty(); move++)
            {
                final String target = targets[move % targets.length];
                for (int p = 0; p < 8; p++)
                {
                    // Half the partitions move each time, so hand-overs overlap with served ones.
                    if ((p + move) % 2 == 0)
                    {
                        admin.assignPartition(p, target);
                    }
                }
                final Set<String> owners = new HashSet<>(names);
                owners.add(PartitionMap.NONE);
                FlexKvTest.await("hand-over " + move + " to " + target + " done", () -> FlexKvTest.settledOver(admin,
                    owners));
            }
            stop.set(true);
            for (final Thread t : threads)
            {
                t.join(60_000);
            }
            assertTrue(errors.isEmpty(), "operations failed: " + errors);
            assertTrue(violations.isEmpty(), violations.size() + " reads outside their window, e.g. "
                + violations.stream().limit(5).toList());
            long total = 0;
            for (final long n : reads)
            {
                total += n;
            }
            assertTrue(total > 100, "readers ran: " + total);
            for (int k = 0; k < KEYS; k++)
            {
                final long last = acked.get(k);
                final String v = c.get(key(k));
                final long got = Long.parseLong(v);
                assertTrue(got >= last && got <= started.get(k), "key " + k + " holds " + v + ", last acknowledged "
                    + last);
            }
            assertEquals(List.of(), admin.verify(false), "kv verify");
        }
    }

    private static String key(final int k)
    {
        return "lin-" + k;
    }
}
