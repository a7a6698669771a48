package io.dmkv.computenode.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.layout.Bucket;

/**
 * The ledger's sequences: at one bucket header a client never has two words of one sequence that
 * may be there at once, so a stranded word released later by a CAS from that exact word cannot be a
 * lock another of its operations holds. (Releasing stranded words on the memory nodes is tested with
 * the operations, in {@code InsertLockFailoverTest}.)
 */
@Timeout(60)
class InsertLockLedgerTest
{
    private static final long A = 0x10_0040L;
    private static final long B = 0x10_0080L;

    @Test
    void aHeaderHasEverySequenceOnceUntilItIsDisengaged()
    {
        final InsertLockLedger ledger = new InsertLockLedger(null, null);
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i <= Bucket.LOCK_SEQUENCE_MASK; i++)
        {
            assertTrue(seen.add(ledger.engage(A)), "sequence handed out twice at one header");
        }
        final IllegalStateException full = assertThrows(IllegalStateException.class, () -> ledger.engage(A));
        assertTrue(full.getMessage().contains("all 64 insert-lock sequences"), full.getMessage());
        // Another header is independent.
        final int atB = ledger.engage(B);
        assertTrue(ledger.isEngaged(B, atB));
        ledger.disengage(A, 17);
        assertFalse(ledger.isEngaged(A, 17));
        assertEquals(17, ledger.engage(A), "the only free sequence at A");
    }

    @Test
    void successiveWordsAtOneHeaderTakeNewSequences()
    {
        final InsertLockLedger ledger = new InsertLockLedger(null, null);
        final int first = ledger.engage(A);
        ledger.disengage(A, first);
        final int second = ledger.engage(A);
        // A waiter watching the header must see a new acquisition as a change.
        assertTrue(first != second, "a lock taken again got the sequence of the one before");
    }

    /** Many threads engage and disengage at a few headers; a checker sees every engaged (header, sequence) held once. */
    @Test
    void concurrentOperationsNeverShareASequenceAtOneHeader() throws Exception
    {
        final InsertLockLedger ledger = new InsertLockLedger(null, null);
        final long[] headers = {A, B, 0x10_00C0L};
        final ConcurrentHashMap<Long, Integer> held = new ConcurrentHashMap<>();
        final AtomicReference<String> violation = new AtomicReference<>();
        final int threads = 8;
        final CountDownLatch done = new CountDownLatch(threads);
        final List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final long seed = t;
            final Thread th = new Thread(() ->
            {
                final SplittableRandom random = new SplittableRandom(seed);
                final ArrayDeque<long[]> mine = new ArrayDeque<>();
                try
                {
                    for (int i = 0; i < 20_000 && violation.get() == null; i++)
                    {
                        if (mine.size() < 6 && (mine.isEmpty() || random.nextBoolean()))
                        {
                            final long h = headers[random.nextInt(headers.length)];
                            final int s = ledger.engage(h);
                            if (held.putIfAbsent(h * 64 + s, 1) != null)
                            {
                                violation.compareAndSet(null, "sequence " + s + " engaged twice at header " + h);
                            }
                            mine.add(new long[] {h, s});
                        }
                        else
                        {
                            final long[] w = mine.poll();
                            held.remove(w[0] * 64 + w[1]);
                            ledger.disengage(w[0], (int)w[1]);
                        }
                    }
                    for (final long[] w : mine)
                    {
                        held.remove(w[0] * 64 + w[1]);
                        ledger.disengage(w[0], (int)w[1]);
                    }
                }
                finally
                {
                    done.countDown();
                }
            });
            started.add(th);
            th.start();
        }
        done.await();
        for (final Thread th : started)
        {
            th.join();
        }
        assertNull(violation.get());
        for (final long h : headers)
        {
            for (int s = 0; s <= Bucket.LOCK_SEQUENCE_MASK; s++)
            {
                assertFalse(ledger.isEngaged(h, s), "sequence " + s + " still engaged at header " + h);
            }
        }
    }
}
