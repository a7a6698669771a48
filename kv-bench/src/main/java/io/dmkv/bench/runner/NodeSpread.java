package io.dmkv.bench.runner;

import java.util.List;
import java.util.Locale;

import io.dmkv.KvStats;

/**
 * How a client's verbs spread over the memory nodes between two {@link KvStats#nodes()}
 * snapshots, as one line for the bench and demo output: the READs each node served and its
 * share of all verbs, which shows a node that serves most of the load.
 */
public final class NodeSpread
{
    private NodeSpread()
    {
    }

    /** {@link #text(List, List)} since the client opened. */
    public static String text(final List<KvStats.Verbs> totals)
    {
        final KvStats.Verbs zero = new KvStats.Verbs(0, 0, 0, 0, 0, 0, 0, 0);
        return text(totals.stream().map(n -> zero).toList(), totals);
    }

    /** One line: per memory node, its verbs (READs, WRITEs, atomics) and share of the verbs. */
    public static String text(final List<KvStats.Verbs> before, final List<KvStats.Verbs> after)
    {
        long total = 0;
        for (int n = 0; n < after.size(); n++)
        {
            total += after.get(n).total() - before.get(n).total();
        }
        final StringBuilder s = new StringBuilder("verbs per memory node:");
        for (int n = 0; n < after.size(); n++)
        {
            final KvStats.Verbs a = after.get(n);
            final KvStats.Verbs b = before.get(n);
            final long verbs = a.total() - b.total();
            s.append(String.format(Locale.ROOT, "%s node %d %,d (%.0f%%: %,d READ, %,d WRITE, %,d atomics)",
                n == 0 ? "" : ";", n, verbs, total == 0 ? 0.0 : 100.0 * verbs / total, a.reads() - b.reads(),
                a.writes() - b.writes(), a.cas() - b.cas() + a.faa() - b.faa()));
        }
        return s.toString();
    }
}
