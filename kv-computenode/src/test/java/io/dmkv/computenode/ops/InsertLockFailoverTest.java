package io.dmkv.computenode.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvOutcomeUnknownException;
import io.dmkv.computenode.Closer;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.Bucket;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbBatch;

/**
 * An insert lock does not outlive its operation when a memory node refuses the operation's verbs
 * half-way, as the survivors do once they re-keyed a region for a fail-over (docs/recovery.md,
 * "Insert locks across a fail-over"). Two memory nodes, r = 2, the coordinated client's index
 * ({@link CoordinatedIndex} on a {@link StubRouting}) over the FUSEE path; a transport refuses
 * one chosen part of one batch. Before the client's lock ledger, the header kept the lock of a
 * client that had moved on: for the lock lease, or for good if no other inserter came.
 */
@Timeout(60)
class InsertLockFailoverTest
{
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(10);

    private final Closer closer = new Closer();
    private RefusingTransport refusing;
    private FuseeClients.Client client;
    private CoordinatedIndex index;
    /** Where the refused or failed lock verb pointed: the lock's bucket header on the primary. */
    private RemoteRegion lockRegion;
    private long lockOffset;

    @BeforeEach
    void start()
    {
        final FuseeClients fusee = closer.add(new FuseeClients(2, "local", t -> refusing = new RefusingTransport(t)));
        client = fusee.newClient(2, 1 << 12);
        final OpRuntime runtime = closer.add(new OpRuntime(null, new SystemNanoClock()));
        index = new CoordinatedIndex(client.index(), new StubRouting(() -> { }, () -> 1L), runtime, WAIT_NS);
    }

    @AfterEach
    void stop()
    {
        closer.close();
    }

    @Test
    void aLockWhoseReleaseWasRefusedIsReleasedAfterTheOperationFailed() throws Exception
    {
        // The step that CASes the primary and releases the lock meets the re-keyed primary: after
        // the backup CAS, so the insert's outcome is unknown and it is not run again.
        refusing.arm((b, part) -> lockVerb(b, part, true));
        final Outcome o = insert("k-release");
        assertTrue(refusing.fired(), "the release was refused");
        assertNull(o.result());
        assertInstanceOf(KvOutcomeUnknownException.class, o.failure());
        awaitUnlocked();
        assertEquals(1, client.index().insertLocks().released(), "the ledger released the lock");
        assertEquals(0, client.index().insertLocks().pending());
    }

    @Test
    void aLockAcquiredInABatchThatFailedIsReleasedBeforeTheRetryTakesIt() throws Exception
    {
        // The first step's lock CAS lands on the primary, but the object's WRITE to the other node
        // is refused: the batch fails, the operation never learns it holds the lock, and the
        // coordinated index runs it again with the keys learnt anew.
        refusing.arm((b, part) -> besideAnAcquire(b, part));
        final Outcome o = insert("k-acquire");
        assertTrue(refusing.fired(), "the first step was refused on the object's other replica");
        assertNull(o.failure());
        assertEquals(Result.INSERTED, o.result());
        assertEquals(0, client.index().lockTakeovers(), "the retry found the bucket unlocked: no lease was waited out");
        awaitUnlocked();
        assertEquals(0, client.index().insertLocks().pending());
        assertEquals(1, client.index().insertLocks().released(), "the lock of the failed attempt was released");
    }

    @Test
    void manyContendedInsertsLeaveNoSequenceEngaged() throws Exception
    {
        // Every way an operation ends gives its lock sequences back: threads of one client insert
        // and delete keys that share buckets (busy locks, lost races), nothing is refused.
        final Thread[] threads = new Thread[4];
        final AtomicInteger done = new AtomicInteger();
        for (int t = 0; t < threads.length; t++)
        {
            threads[t] = new Thread(() ->
            {
                for (int i = 0; i < 300; i++)
                {
                    final byte[] k = ("c" + (i % 24)).getBytes(StandardCharsets.UTF_8);
                    client.index().mutate(i % 2 == 0 ? Mode.INSERT : Mode.DELETE, k, k);
                }
                done.incrementAndGet();
            });
            threads[t].start();
        }
        for (final Thread th : threads)
        {
            th.join();
        }
        assertEquals(threads.length, done.get(), "every thread finished");
        assertEquals(0, client.index().insertLocks().engagedHeaders());
        assertEquals(0, client.index().insertLocks().pending());
    }

    private record Outcome(Result result, Throwable failure)
    {
    }

    private Outcome insert(final String key) throws Exception
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final CompletableFuture<Outcome> done = new CompletableFuture<>();
        index.mutate(Mode.INSERT, k, KeyHash.hash(k), "v".getBytes(StandardCharsets.UTF_8),
            (result, failure) -> done.complete(new Outcome(result, failure)));
        return done.get(30, TimeUnit.SECONDS);
    }

    /**
     * True if {@code part} holds an insert lock's releasing CAS ({@code release}) or acquiring CAS;
     * remembers where it points.
     */
    private boolean lockVerb(final VerbBatch b, final int part, final boolean release)
    {
        for (int i = 0; i < b.size(); i++)
        {
            if (b.partOf(i) == part && b.op(i) == Verb.CAS && isLockCas(b, i, release))
            {
                lockRegion = b.region(i);
                lockOffset = b.offset(i);
                return true;
            }
        }
        return false;
    }

    /** True if {@code part} holds no CAS while another part of the batch acquires an insert lock. */
    private boolean besideAnAcquire(final VerbBatch b, final int part)
    {
        for (int i = 0; i < b.size(); i++)
        {
            if (b.partOf(i) == part && b.op(i) == Verb.CAS)
            {
                return false;
            }
        }
        for (int p = 0; p < b.partCount(); p++)
        {
            if (p != part && lockVerb(b, p, false))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean isLockCas(final VerbBatch b, final int i, final boolean release)
    {
        final long expected = b.operand(i);
        final long desired = b.swap(i);
        return release ? Bucket.isInsertLocked(expected) && desired == Bucket.plain(expected)
            : !Bucket.isInsertLocked(expected) && Bucket.isInsertLocked(desired) && Bucket.plain(desired) == expected;
    }

    private void awaitUnlocked() throws InterruptedException
    {
        final UnsafeBuffer header = new UnsafeBuffer(new byte[8]);
        final long deadline = System.nanoTime() + WAIT_NS;
        while (true)
        {
            final VerbBatch read = new VerbBatch();
            read.read(lockRegion, lockOffset, header, 0, 8);
            client.verbs().execute(read);
            if (!Bucket.isInsertLocked(header.getLong(0)))
            {
                return;
            }
            assertFalse(System.nanoTime() > deadline, "the bucket header still holds the insert lock of client "
                + Bucket.lockOwner(header.getLong(0)) + " " + TimeUnit.NANOSECONDS.toSeconds(WAIT_NS)
                + " s after its operation ended");
            Thread.sleep(10);
        }
    }
}
