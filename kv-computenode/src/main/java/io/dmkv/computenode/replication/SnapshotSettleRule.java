package io.dmkv.computenode.replication;

/**
 * SNAPSHOT's settle rule for a slot whose primary was lost, with the primary's value unknown:
 * <ol>
 * <li>the value more than half of the live replicas hold (Rules 1 and 2: a value every backup
 * or a majority of backups took);</li>
 * <li>otherwise the value named last by the log: a candidate whose object's committed log entry
 * names another candidate as the value it replaced is newer than that one, so the candidates no
 * other candidate replaced remain;</li>
 * <li>of those, the smallest (Rule 3's tie-break), so every repairer picks the same one.</li>
 * </ol>
 * Any value a live replica holds is safe: a write is acknowledged only after every backup held
 * it, so the replicas hold the last acknowledged value or proposals made after it.
 */
public final class SnapshotSettleRule implements SlotSettleRule
{
    /** The one instance; the rule keeps no state. */
    public static final SnapshotSettleRule INSTANCE = new SnapshotSettleRule();

    private SnapshotSettleRule()
    {
    }

    @Override
    public long settle(final long[] live, final int count, final CommitLog log)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("a slot needs at least one live replica to settle, got " + count);
        }
        for (int j = 0; j < count; j++)
        {
            if (occurrences(live, count, live[j]) * 2 > count)
            {
                return live[j];
            }
        }
        boolean found = false;
        long best = 0;
        for (int j = 0; j < count; j++)
        {
            final long v = live[j];
            if (replacedByAnother(live, count, v, log))
            {
                continue;
            }
            if (!found || Long.compareUnsigned(v, best) < 0)
            {
                best = v;
                found = true;
            }
        }
        if (found)
        {
            return best;
        }
        // The log names a cycle (only possible through reuse of objects): fall back to Rule 3 alone.
        best = live[0];
        for (int j = 1; j < count; j++)
        {
            if (Long.compareUnsigned(live[j], best) < 0)
            {
                best = live[j];
            }
        }
        return best;
    }

    private static int occurrences(final long[] live, final int count, final long v)
    {
        int c = 0;
        for (int k = 0; k < count; k++)
        {
            if (live[k] == v)
            {
                c++;
            }
        }
        return c;
    }

    private static boolean replacedByAnother(final long[] live, final int count, final long v, final CommitLog log)
    {
        for (int k = 0; k < count; k++)
        {
            if (live[k] != v && log.replaced(live[k], v))
            {
                return true;
            }
        }
        return false;
    }
}
