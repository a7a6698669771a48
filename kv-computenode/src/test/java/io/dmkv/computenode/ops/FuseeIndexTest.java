package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.InvalidInputException;
import io.dmkv.computenode.Closer;
import io.dmkv.computenode.ops.Mode;
import io.dmkv.computenode.ops.Result;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.ThreadCounters;

@Timeout(120)
class FuseeIndexTest
{
    private final Closer clients = new Closer();
    private FuseeClients fusee;

    @AfterEach
    void stop()
    {
        clients.close();
    }

    private FuseeIndex start(final int nodes, final int r, final String transportName)
    {
        fusee = clients.add(new FuseeClients(nodes, transportName, t -> t));
        return newClient(r, 1 << 12);
    }

    private FuseeIndex newClient(final int r, final int cacheEntries)
    {
        return fusee.newClient(r, cacheEntries).index();
    }

    private static byte[] b(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void putGetUpdateDeleteFollowMapSemantics(final int r)
    {
        final FuseeIndex kv = start(3, r, "local");
        assertNull(kv.search(b("k1")));
        assertEquals(Result.INSERTED, kv.mutate(Mode.PUT, b("k1"), b("v1")));
        assertArrayEquals(b("v1"), kv.search(b("k1")));
        assertEquals(Result.UPDATED, kv.mutate(Mode.PUT, b("k1"), b("v2")));
        assertArrayEquals(b("v2"), kv.search(b("k1")));
        assertEquals(Result.EXISTS, kv.mutate(Mode.INSERT, b("k1"), b("v3")));
        assertArrayEquals(b("v2"), kv.search(b("k1")));
        assertEquals(Result.UPDATED, kv.mutate(Mode.UPDATE, b("k1"), b("v4")));
        assertEquals(Result.NOT_FOUND, kv.mutate(Mode.UPDATE, b("nope"), b("x")));
        assertEquals(Result.DELETED, kv.mutate(Mode.DELETE, b("k1"), null));
        assertNull(kv.search(b("k1")));
        assertEquals(Result.NOT_FOUND, kv.mutate(Mode.DELETE, b("k1"), null));
        assertEquals(Result.INSERTED, kv.mutate(Mode.INSERT, b("k1"), b("again")));
        assertArrayEquals(b("again"), kv.search(b("k1")));
    }

    @Test
    void otherClientsSeeWritesAndCachesNeverServeStaleValues()
    {
        final FuseeIndex a = start(2, 2, "tcp");
        final FuseeIndex c = newClient(2, 1 << 12);
        for (int i = 0; i < 200; i++)
        {
            a.mutate(Mode.PUT, b("key" + i), b("a" + i));
        }
        for (int i = 0; i < 200; i++)
        {
            assertArrayEquals(b("a" + i), c.search(b("key" + i)));
        }
        for (int i = 0; i < 200; i += 2)
        {
            a.mutate(Mode.PUT, b("key" + i), b("b" + i));
        }
        for (int i = 0; i < 200; i++)
        {
            assertArrayEquals(b((i % 2 == 0 ? "b" : "a") + i), c.search(b("key" + i)), "key" + i);
        }
    }

    @Test
    void badKeysAndValuesAreRejectedBeforeAnyVerb()
    {
        final FuseeIndex kv = start(2, 2, "local");
        assertThrows(InvalidInputException.class, () -> kv.search(null));
        assertThrows(InvalidInputException.class, () -> kv.search(new byte[0]));
        assertThrows(InvalidInputException.class, () -> kv.search(new byte[1025]));
        assertThrows(InvalidInputException.class, () -> kv.mutate(Mode.PUT, b("k"), null));
        assertThrows(InvalidInputException.class, () -> kv.mutate(Mode.PUT, b("k"), new byte[70_000]));
        assertNull(kv.search(b("k")));
    }

    @Test
    void roundTripsPerOperationMatchFusee()
    {
        final FuseeIndex kv = start(3, 3, "local");
        final ThreadCounters t = ThreadCounters.current();
        long before = t.roundTrips;
        assertEquals(Result.INSERTED, kv.mutate(Mode.INSERT, b("rtt"), b("v0")));
        assertTrue(t.roundTrips - before <= 4, "INSERT took " + (t.roundTrips - before));
        before = t.roundTrips;
        kv.search(b("rtt"));
        assertEquals(1, t.roundTrips - before, "SEARCH on a cache hit");
        before = t.roundTrips;
        assertEquals(Result.UPDATED, kv.mutate(Mode.UPDATE, b("rtt"), b("v1")));
        assertTrue(t.roundTrips - before <= 4, "warm UPDATE took " + (t.roundTrips - before));
        before = t.roundTrips;
        assertEquals(Result.DELETED, kv.mutate(Mode.DELETE, b("rtt"), null));
        assertTrue(t.roundTrips - before <= 4, "warm DELETE took " + (t.roundTrips - before));

        final FuseeIndex cold = newClient(3, 0);
        kv.mutate(Mode.PUT, b("cold"), b("x"));
        before = t.roundTrips;
        assertArrayEquals(b("x"), cold.search(b("cold")));
        assertTrue(t.roundTrips - before <= 2, "cold SEARCH took " + (t.roundTrips - before));
        before = t.roundTrips;
        assertEquals(Result.UPDATED, cold.mutate(Mode.UPDATE, b("cold"), b("y")));
        assertTrue(t.roundTrips - before <= 5, "cold UPDATE took " + (t.roundTrips - before));
        before = t.roundTrips;
        assertEquals(Result.DELETED, cold.mutate(Mode.DELETE, b("cold"), null));
        assertTrue(t.roundTrips - before <= 5, "cold DELETE took " + (t.roundTrips - before));
    }

    @Test
    void aClientWithAnEmptyCacheGuessesSlotsFromItsCopyOfTheSubtablesAndReadsInOneRoundTrip()
    {
        final FuseeIndex writer = start(2, 2, "local");
        for (int i = 0; i < 300; i++)
        {
            writer.mutate(Mode.PUT, b("key" + i), b("a" + i));
        }
        // An index cache of two entries: almost every search misses it, as every first look-up does.
        final FuseeIndex reader = newClient(2, 2);
        final int subtables = 4;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int pass = 0; pass < 40 && reader.buckets().copies() < subtables && System.nanoTime() < deadline; pass++)
        {
            for (int i = 0; i < 300; i++)
            {
                assertArrayEquals(b("a" + i), reader.search(b("key" + i)));
            }
        }
        assertEquals(subtables, reader.buckets().copies(), "every subtable copied after enough misses");

        final ThreadCounters t = ThreadCounters.current();
        long right = reader.buckets().rightGuesses();
        for (int i = 0; i < 300; i++)
        {
            final long before = t.roundTrips;
            assertArrayEquals(b("a" + i), reader.search(b("key" + i)));
            assertEquals(1, t.roundTrips - before, "a guessed search of key" + i);
        }
        assertTrue(reader.buckets().rightGuesses() - right >= 298, "guesses taken and right");

        for (int i = 0; i < 300; i += 2)
        {
            writer.mutate(Mode.PUT, b("key" + i), b("b" + i));
        }
        assertEquals(Result.DELETED, writer.mutate(Mode.DELETE, b("key1"), null));
        for (int i = 0; i < 300; i++)
        {
            final long before = t.roundTrips;
            final byte[] want = i == 1 ? null : b((i % 2 == 0 ? "b" : "a") + i);
            assertArrayEquals(want, reader.search(b("key" + i)), "a stale copy never serves a stale value: key" + i);
            assertTrue(t.roundTrips - before <= 2, "a wrong guess costs one more round trip at most: key" + i);
        }
        right = reader.buckets().rightGuesses();
        for (int i = 2; i < 300; i++)
        {
            final long before = t.roundTrips;
            assertArrayEquals(b((i % 2 == 0 ? "b" : "a") + i), reader.search(b("key" + i)));
            assertEquals(1, t.roundTrips - before, "the copy learned the buckets it read: key" + i);
        }
        assertTrue(reader.buckets().rightGuesses() - right >= 296, "guesses right again");
    }

    @Test
    void readersGuessingFromTheirCopiesNeverSeeAVersionOlderThanOneAlreadyWritten() throws Exception
    {
        final int keys = 40;
        final FuseeIndex writer = start(2, 2, "tcp");
        final java.util.concurrent.atomic.AtomicLongArray written = new java.util.concurrent.atomic.AtomicLongArray(keys);
        for (int i = 0; i < keys; i++)
        {
            writer.mutate(Mode.PUT, b("hot" + i), b("0"));
        }
        final List<FuseeIndex> readers = new ArrayList<>();
        for (int r = 0; r < 3; r++)
        {
            final FuseeIndex reader = newClient(2, 2);
            for (int pass = 0; pass < 40 && reader.buckets().copies() < 4; pass++)
            {
                for (int i = 0; i < keys; i++)
                {
                    reader.search(b("hot" + i));
                }
                Thread.yield();
            }
            readers.add(reader);
        }
        final ExecutorService pool = Executors.newFixedThreadPool(1 + readers.size());
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            final Future<?> writes = pool.submit(() ->
            {
                for (int v = 1; v <= 30 && System.nanoTime() < deadline; v++)
                {
                    for (int i = 0; i < keys; i++)
                    {
                        writer.mutate(Mode.PUT, b("hot" + i), b(Integer.toString(v)));
                        written.set(i, v);
                    }
                }
                return null;
            });
            final List<Future<Long>> reads = new ArrayList<>();
            for (final FuseeIndex reader : readers)
            {
                reads.add(pool.submit(() ->
                {
                    final long[] last = new long[keys];
                    long n = 0;
                    while (!writes.isDone() && System.nanoTime() < deadline)
                    {
                        for (int i = 0; i < keys; i++)
                        {
                            final long floor = written.get(i);
                            final long seen = Long.parseLong(new String(reader.search(b("hot" + i)), StandardCharsets.UTF_8));
                            assertTrue(seen >= floor, "hot" + i + ": read version " + seen + " after " + floor + " was written");
                            assertTrue(seen >= last[i], "hot" + i + ": version " + seen + " after " + last[i]);
                            last[i] = seen;
                            n++;
                        }
                    }
                    return n;
                }));
            }
            writes.get();
            for (final Future<Long> f : reads)
            {
                assertTrue(f.get() > 0, "every reader read");
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        long guesses = 0;
        for (final FuseeIndex reader : readers)
        {
            assertTrue(reader.buckets().copies() > 0, "a reader copied subtables");
            guesses += reader.buckets().guesses();
        }
        assertTrue(guesses > 0, "readers guessed from their copies");
    }

    @Test
    void warmOperationsCarryNoFreesAndReadOneBucketAndTheUsedBytes()
    {
        final FuseeIndex kv = start(3, 3, "local");
        final ThreadCounters t = ThreadCounters.current();
        assertEquals(Result.INSERTED, kv.mutate(Mode.INSERT, b("econ"), b("v0")));
        long verbs = t.verbs;
        final long in = t.bytesIn;
        kv.search(b("econ"));
        assertEquals(2, t.verbs - verbs, "cached SEARCH: the combined bucket holding the slot and the object");
        assertEquals(CombinedBucket.LENGTH + Slot.codeLength(Slot.lengthCode(KvObject.usedLength(4, 2))),
            t.bytesIn - in, "the object is READ by its used length (64 B), not its 256-B class");
        for (int i = 1; i <= 3; i++)
        {
            verbs = t.verbs;
            assertEquals(Result.UPDATED, kv.mutate(Mode.UPDATE, b("econ"), b("v" + i)));
            // r = 3: READ bucket + fence, WRITE object and commit to 3 replicas, CAS 2 backups + primary.
            assertEquals(2 + 6 + 3, t.verbs - verbs, "warm UPDATE " + i + ": no FAA or WRITE frees the replaced object");
        }
        verbs = t.verbs;
        assertArrayEquals(b("v3"), kv.search(b("econ")));
        assertEquals(2, t.verbs - verbs, "no free rides on the next operation");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void ofConcurrentInsertsOfOneKeyExactlyOneSucceeds(final int r) throws Exception
    {
        final FuseeIndex first = start(3, r, "tcp");
        final List<FuseeIndex> racers = new ArrayList<>();
        racers.add(first);
        for (int i = 1; i < 6; i++)
        {
            racers.add(newClient(r, 1 << 10));
        }
        final ExecutorService pool = Executors.newFixedThreadPool(racers.size());
        try
        {
            for (int round = 0; round < 20; round++)
            {
                final byte[] key = b("contended-" + round);
                final List<Future<Result>> inserts = new ArrayList<>();
                for (final FuseeIndex c : racers)
                {
                    inserts.add(pool.submit(() -> c.mutate(Mode.INSERT, key, b("v"))));
                }
                int inserted = 0;
                for (final Future<Result> f : inserts)
                {
                    final Result res = f.get();
                    assertTrue(res == Result.INSERTED || res == Result.EXISTS, res.toString());
                    inserted += res == Result.INSERTED ? 1 : 0;
                }
                assertEquals(1, inserted, "round " + round);
                final List<Future<Result>> deletes = new ArrayList<>();
                for (final FuseeIndex c : racers)
                {
                    deletes.add(pool.submit(() -> c.mutate(Mode.DELETE, key, null)));
                }
                int deleted = 0;
                for (final Future<Result> f : deletes)
                {
                    deleted += f.get() == Result.DELETED ? 1 : 0;
                }
                assertEquals(1, deleted, "round " + round);
                assertNull(first.search(key));
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }
}
