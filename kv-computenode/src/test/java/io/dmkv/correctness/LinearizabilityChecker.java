package io.dmkv.correctness;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Decides whether a recorded history of a key-value store is linearizable, key by key.
 *
 * <p>Linearizability is local (Herlihy and Wing): a history is linearizable iff the history of
 * every object is, so the checker splits the history by key and checks each key as one register
 * with conditional operations, whose sequential model is:
 * <pre>
 *   get        returns the value (null if absent)
 *   put v      value := v
 *   insert v   if absent: value := v, true   else false
 *   update v   if present: value := v, true  else false
 *   delete     if present: absent, true      else false
 * </pre>
 *
 * <p>The search is Wing and Gong's, with Lowe's memoization (the "WGL" algorithm, as in Knossos
 * and Porcupine): the invocations and responses of the key's operations form a list in time
 * order; the search repeatedly picks an operation whose invocation comes before the first
 * response still in the list (it is minimal: nothing that had to precede it is left), applies it
 * to the model, and removes it; when the first entry is a response, the operation it belongs to
 * could not be linearized yet, so the search backtracks. A set of (linearized operations, model
 * state) pairs already explored prunes the search. Ties of timestamps count as overlap.
 *
 * <p>An operation that failed ({@link Op#completed()} false) responds "never": it may be
 * linearized anywhere after its invocation, with whatever outcome the model gives, which
 * includes "after everything else", i.e. not at all.
 */
public final class LinearizabilityChecker
{
    /** Default bound on search steps per key, so a pathological history cannot hang a build. */
    public static final long DEFAULT_MAX_STEPS = 50_000_000L;
    /** Bound on explored states remembered per key (a few dozen bytes each), so one cannot exhaust the heap. */
    public static final int DEFAULT_MAX_MEMOS = 4_000_000;

    private static final Object REJECTED = new Object();

    private final long maxSteps;
    private final int maxMemos;

    public LinearizabilityChecker()
    {
        this(DEFAULT_MAX_STEPS);
    }

    public LinearizabilityChecker(final long maxSteps)
    {
        this(maxSteps, DEFAULT_MAX_MEMOS);
    }

    public LinearizabilityChecker(final long maxSteps, final int maxMemos)
    {
        this.maxSteps = maxSteps;
        this.maxMemos = maxMemos;
    }

    /** The verdict on a history. */
    public record Result(Verdict verdict, String key, int operations, String explanation)
    {
        public boolean isLinearizable()
        {
            return verdict == Verdict.LINEARIZABLE;
        }

        @Override
        public String toString()
        {
            return verdict + (key == null ? "" : " (key " + key + ")") + ", " + operations + " operations"
                + (explanation.isEmpty() ? "" : ": " + explanation);
        }
    }

    /** What the checker found. */
    public enum Verdict
    {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        /** The step bound ran out before a decision. */
        UNKNOWN
    }

    /** Checks every key of {@code history}; every key starts absent. */
    public Result check(final List<Op> history)
    {
        final Map<String, List<Op>> byKey = new LinkedHashMap<>();
        for (final Op op : history)
        {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        Result unknown = null;
        for (final Map.Entry<String, List<Op>> e : byKey.entrySet())
        {
            final Result r = checkKey(e.getKey(), e.getValue(), null);
            if (r.verdict() == Verdict.NOT_LINEARIZABLE)
            {
                return r;
            }
            if (r.verdict() == Verdict.UNKNOWN)
            {
                unknown = r;
            }
        }
        return unknown != null ? unknown : new Result(Verdict.LINEARIZABLE, null, history.size(), "");
    }

    /** Checks the operations of one key, starting from {@code initial} (null: absent). */
    public Result checkKey(final String key, final List<Op> ops, final String initial)
    {
        final int n = ops.size();
        final Entry head = buildList(ops);
        // The set of linearized operations, as two 64-bit Zobrist hashes kept up to date per step: a memo
        // costs a few dozen bytes instead of a copy of an n-bit set (histories of 10^4 operations on a key
        // exhausted a 1 GiB heap). Two different sets share both hashes with a chance of about 2^-128 per
        // pair; such a clash could only prune a path not yet explored, i.e. report a violation, never hide one.
        final long[] zobrist = zobrist(n);
        long h1 = 0;
        long h2 = 0;
        final Set<Memo> seen = new HashSet<>();
        final Deque<Frame> stack = new ArrayDeque<>();
        String state = initial;
        Entry entry = head.next;
        long steps = 0;
        int deepest = -1;
        String stuck = "";
        while (head.next != null)
        {
            if (++steps > maxSteps)
            {
                return new Result(Verdict.UNKNOWN, key, n, "gave up after " + maxSteps + " steps");
            }
            if (entry.call)
            {
                final Object next = apply(state, entry.op);
                if (next != REJECTED)
                {
                    final long g1 = h1 ^ zobrist[2 * entry.id];
                    final long g2 = h2 ^ zobrist[2 * entry.id + 1];
                    if (seen.add(new Memo(g1, g2, (String)next)))
                    {
                        if (seen.size() > maxMemos)
                        {
                            return new Result(Verdict.UNKNOWN, key, n, "gave up after remembering " + maxMemos
                                + " explored states (" + steps + " steps)");
                        }
                        stack.push(new Frame(entry, state));
                        state = (String)next;
                        h1 = g1;
                        h2 = g2;
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                }
                entry = entry.next;
            }
            else
            {
                if (stack.size() > deepest)
                {
                    deepest = stack.size();
                    stuck = describeStuck(head, entry, state, stack.size(), n);
                }
                if (stack.isEmpty())
                {
                    return new Result(Verdict.NOT_LINEARIZABLE, key, n, stuck);
                }
                final Frame f = stack.pop();
                state = f.state;
                h1 ^= zobrist[2 * f.entry.id];
                h2 ^= zobrist[2 * f.entry.id + 1];
                unlift(f.entry);
                entry = f.entry.next;
            }
        }
        return new Result(Verdict.LINEARIZABLE, key, n, "");
    }

    /** The sequential model: the next state, or {@link #REJECTED} if {@code op}'s outcome is impossible here. */
    private static Object apply(final String state, final Op op)
    {
        final boolean present = state != null;
        final boolean known = op.completed();
        switch (op.kind())
        {
            case GET:
                return !known || Objects.equals(state, op.value()) ? state : REJECTED;
            case PUT:
                return op.value();
            case INSERT:
                if (known && op.ok() == present)
                {
                    return REJECTED;
                }
                return present ? state : op.value();
            case UPDATE:
                if (known && op.ok() != present)
                {
                    return REJECTED;
                }
                return present ? op.value() : null;
            case DELETE:
                if (known && op.ok() != present)
                {
                    return REJECTED;
                }
                return null;
            default:
                throw new IllegalStateException("unknown kind " + op.kind());
        }
    }

    private static String describeStuck(final Entry head, final Entry firstReturn, final String state,
        final int linearizedCount, final int n)
    {
        final StringBuilder s = new StringBuilder();
        s.append("the longest linearizable prefix has ").append(linearizedCount).append(" of ").append(n)
            .append(" operations and leaves the value ").append(state).append("; then ").append(firstReturn.op)
            .append(" must take effect, but neither it nor any operation concurrent with it can go next:");
        for (Entry e = head.next; e != null && e != firstReturn; e = e.next)
        {
            if (e.call)
            {
                s.append("\n    ").append(e.op);
            }
        }
        s.append("\n    ").append(firstReturn.op);
        return s.toString();
    }

    private static Entry buildList(final List<Op> ops)
    {
        final List<Entry> entries = new ArrayList<>(2 * ops.size());
        for (int i = 0; i < ops.size(); i++)
        {
            final Op op = ops.get(i);
            final Entry call = new Entry(i, true, op, op.invokeNs());
            final Entry ret = new Entry(i, false, op, op.completed() ? op.responseNs() : Long.MAX_VALUE);
            call.match = ret;
            entries.add(call);
            entries.add(ret);
        }
        // Time order; on a tie, invocations first, so operations that touch in time count as concurrent.
        entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
        final Entry head = new Entry(-1, false, null, Long.MIN_VALUE);
        Entry prev = head;
        for (final Entry e : entries)
        {
            prev.next = e;
            e.prev = prev;
            prev = e;
        }
        return head;
    }

    /** Removes a call and its return from the list. */
    private static void lift(final Entry call)
    {
        call.prev.next = call.next;
        call.next.prev = call.prev;
        final Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null)
        {
            ret.next.prev = ret.prev;
        }
    }

    /** Puts them back, in the reverse order. */
    private static void unlift(final Entry call)
    {
        final Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null)
        {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }

    private static final class Entry
    {
        final int id;
        final boolean call;
        final Op op;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(final int id, final boolean call, final Op op, final long time)
        {
            this.id = id;
            this.call = call;
            this.op = op;
            this.time = time;
        }
    }

    private record Frame(Entry entry, String state)
    {
    }

    /** Two random words per operation, the same for every run (a failure repeats). */
    private static long[] zobrist(final int n)
    {
        final SplittableRandom random = new SplittableRandom(0x6c696e65L);
        final long[] z = new long[2 * n];
        for (int i = 0; i < z.length; i++)
        {
            z[i] = random.nextLong();
        }
        return z;
    }

    private record Memo(long linearized1, long linearized2, String state)
    {
    }
}
