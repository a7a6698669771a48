package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.dmkv.correctness.LinearizabilityChecker.Verdict;

/** The checker itself: it must reject what is not linearizable and accept what is. */
class LinearizabilityCheckerTest
{
    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private void accepts(final Op... history)
    {
        final LinearizabilityChecker.Result r = checker.check(List.of(history));
        assertTrue(r.isLinearizable(), r.toString());
    }

    private String rejects(final Op... history)
    {
        final LinearizabilityChecker.Result r = checker.check(List.of(history));
        assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), r.toString());
        return r.explanation();
    }

    @Test
    void acceptsASequentialHistoryThatFollowsTheModel()
    {
        accepts(
            Op.get(0, "k", null, 0, 1),
            Op.insert(0, "k", "a", true, 2, 3),
            Op.insert(0, "k", "b", false, 4, 5),
            Op.get(0, "k", "a", 6, 7),
            Op.update(0, "k", "c", true, 8, 9),
            Op.put(0, "k", "d", 10, 11),
            Op.get(0, "k", "d", 12, 13),
            Op.delete(0, "k", true, 14, 15),
            Op.delete(0, "k", false, 16, 17),
            Op.update(0, "k", "e", false, 18, 19),
            Op.get(0, "k", null, 20, 21));
    }

    /** Failed puts of distinct values, any subset of which may have landed in any order, then a read of none of them. */
    private static List<Op> failedPutsThenAnUnwrittenRead(final int failed)
    {
        final List<Op> history = new ArrayList<>();
        for (int i = 0; i < failed; i++)
        {
            history.add(Op.failed(i, Op.Kind.PUT, "k", "v" + i, i));
        }
        history.add(Op.get(failed, "k", "zzz", 1_000, 1_001));
        return history;
    }

    @Test
    void exploresEverySubsetOfFailedWritesBeforeRejecting()
    {
        final LinearizabilityChecker.Result r = checker.check(failedPutsThenAnUnwrittenRead(12));
        assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), r.toString());
    }

    @Test
    void aSearchTooLargeToRememberGivesUpInsteadOfExhaustingTheHeap()
    {
        final LinearizabilityChecker.Result r = new LinearizabilityChecker(LinearizabilityChecker.DEFAULT_MAX_STEPS, 10_000)
            .check(failedPutsThenAnUnwrittenRead(40));
        assertEquals(Verdict.UNKNOWN, r.verdict(), r.toString());
        assertTrue(r.explanation().contains("remembering 10000 explored states"), r.explanation());
    }

    @Test
    void rejectsAReadOfAValueNeverWritten()
    {
        final String why = rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.get(1, "k", "zzz", 2, 3));
        assertTrue(why.contains("zzz"), why);
    }

    @Test
    void rejectsAStaleReadAfterACompletedWrite()
    {
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.put(0, "k", "b", 2, 3),
            Op.get(1, "k", "a", 4, 5));
    }

    @Test
    void acceptsEitherValueForAReadConcurrentWithAWrite()
    {
        accepts(
            Op.put(0, "k", "a", 0, 1),
            Op.put(0, "k", "b", 2, 10),
            Op.get(1, "k", "a", 3, 4),
            Op.get(2, "k", "b", 5, 6));
    }

    @Test
    void rejectsReadsThatSeeAConcurrentWriteUndone()
    {
        // Once one reader saw b, a later reader (in real time) may not see a again.
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.put(0, "k", "b", 2, 10),
            Op.get(1, "k", "b", 3, 4),
            Op.get(2, "k", "a", 5, 6));
    }

    @Test
    void rejectsTwoSuccessfulInsertsWithNoDeleteBetween()
    {
        rejects(
            Op.insert(0, "k", "a", true, 0, 10),
            Op.insert(1, "k", "b", true, 1, 11));
        rejects(
            Op.insert(0, "k", "a", true, 0, 1),
            Op.get(1, "k", "a", 2, 3),
            Op.insert(1, "k", "b", true, 4, 5));
    }

    @Test
    void acceptsTwoConcurrentInsertsOfWhichExactlyOneWins()
    {
        accepts(
            Op.insert(0, "k", "a", true, 0, 10),
            Op.insert(1, "k", "b", false, 1, 11),
            Op.get(2, "k", "a", 12, 13));
    }

    @Test
    void acceptsTwoSuccessfulInsertsWithAConcurrentDeleteBetween()
    {
        accepts(
            Op.insert(0, "k", "a", true, 0, 2),
            Op.delete(1, "k", true, 1, 20),
            Op.insert(2, "k", "b", true, 3, 21),
            Op.get(2, "k", "b", 22, 23));
    }

    @Test
    void rejectsTwoDeletesThatBothReportADeletion()
    {
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.delete(1, "k", true, 2, 10),
            Op.delete(2, "k", true, 3, 11));
    }

    @Test
    void rejectsConditionalResultsThatContradictTheState()
    {
        rejects(
            Op.update(0, "k", "a", true, 0, 1));
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.insert(1, "k", "b", true, 2, 3));
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.delete(1, "k", false, 2, 3));
        rejects(
            Op.put(0, "k", "a", 0, 1),
            Op.update(1, "k", "b", false, 2, 3));
    }

    @Test
    void aFailedWriteMayOrMayNotHaveTakenEffect()
    {
        accepts(
            Op.put(0, "k", "a", 0, 1),
            Op.failed(1, Op.Kind.PUT, "k", "b", 2),
            Op.get(2, "k", "a", 3, 4),
            Op.get(2, "k", "b", 5, 6));
        accepts(
            Op.put(0, "k", "a", 0, 1),
            Op.failed(1, Op.Kind.DELETE, "k", null, 2),
            Op.get(2, "k", "a", 3, 4));
        // But not before it was invoked.
        rejects(
            Op.get(2, "k", "b", 0, 1),
            Op.failed(1, Op.Kind.PUT, "k", "b", 2));
    }

    @Test
    void keysAreCheckedIndependently()
    {
        accepts(
            Op.put(0, "x", "a", 0, 1),
            Op.put(0, "y", "b", 2, 3),
            Op.get(1, "x", "a", 4, 5),
            Op.get(1, "y", "b", 6, 7));
        final LinearizabilityChecker.Result r = checker.check(List.of(
            Op.put(0, "x", "a", 0, 1),
            Op.get(1, "y", "a", 4, 5)));
        assertFalse(r.isLinearizable());
        assertEquals("y", r.key());
    }

    /**
     * Histories made by running the sequential model with each operation's effect at an instant
     * inside its (randomly stretched, overlapping) interval are linearizable by construction; the
     * same history with one read corrupted is not.
     */
    @Test
    void acceptsLargeGeneratedLinearizableHistoriesAndRejectsACorruptedRead()
    {
        final Random random = new Random(42);
        for (int round = 0; round < 20; round++)
        {
            final List<Op> history = generate(random, 400, 8);
            final LinearizabilityChecker.Result ok = checker.check(history);
            assertTrue(ok.isLinearizable(), ok.toString());

            final List<Op> corrupted = new ArrayList<>(history);
            for (int i = corrupted.size() / 2; i < corrupted.size(); i++)
            {
                final Op op = corrupted.get(i);
                if (op.kind() == Op.Kind.GET && op.completed())
                {
                    corrupted.set(i, Op.get(op.process(), op.key(), "never-written", op.invokeNs(), op.responseNs()));
                    break;
                }
            }
            assertEquals(Verdict.NOT_LINEARIZABLE, checker.check(corrupted).verdict());
        }
    }

    /** {@code n} operations on 2 keys by {@code processes} processes, linearizable by construction. */
    private static List<Op> generate(final Random random, final int n, final int processes)
    {
        final Map<String, String> model = new HashMap<>();
        final long[] busyUntil = new long[processes];
        final List<Op> out = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < n; i++)
        {
            now += 1 + random.nextInt(3);
            final int p = random.nextInt(processes);
            // The operation takes effect at 'now'; its interval straddles it, after p's previous one.
            final long invoke = Math.max(busyUntil[p] + 1, now - random.nextInt(20));
            final long effect = Math.max(invoke, now);
            final long response = effect + random.nextInt(20);
            busyUntil[p] = response;
            now = effect;
            final String key = random.nextBoolean() ? "a" : "b";
            final String current = model.get(key);
            final String value = "v" + i;
            final Op op;
            switch (random.nextInt(5))
            {
                case 0 -> op = Op.get(p, key, current, invoke, response);
                case 1 ->
                {
                    model.put(key, value);
                    op = Op.put(p, key, value, invoke, response);
                }
                case 2 ->
                {
                    if (current == null)
                    {
                        model.put(key, value);
                    }
                    op = Op.insert(p, key, value, current == null, invoke, response);
                }
                case 3 ->
                {
                    if (current != null)
                    {
                        model.put(key, value);
                    }
                    op = Op.update(p, key, value, current != null, invoke, response);
                }
                default ->
                {
                    model.remove(key);
                    op = Op.delete(p, key, current != null, invoke, response);
                }
            }
            out.add(op);
        }
        return out;
    }
}
