package io.dmkv.computenode.proxy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.dmkv.core.cluster.PartitionMap;

/**
 * FlexKV's rank-aware rule (docs/flexkv.md §7), a pure function: the partitions that are not
 * pinned are sorted by hotness, cut into ranks of C (the live proxies), and each proxy gets one
 * partition of every rank (the last rank, when P is not a multiple of C, gives one to some).
 * Within a rank a partition keeps its current owner unless that owner already has one of the
 * rank; the others go, hottest first, to the proxy without one in this rank with the least load
 * so far (pinned partitions count in their proxy's load).
 *
 * <p>Three things keep moves few. Hotness is compared in steps of {@value #STEP}× (partitions
 * within one step are equally hot, ordered by number), so nothing moves for a difference the
 * rule cannot see; the order does not depend on the owners, so a plan that holds is kept as it
 * is; and the partitions below {@value #COLD_SHARE} of the mean hotness (past the last rank that
 * holds a hotter one) are not ranked: only their counts are evened out, each proxy keeping its
 * own up to its share.
 */
final class RankAwareRule
{
    static final double STEP = 1.2;
    static final double COLD_SHARE = 0.05;

    private RankAwareRule()
    {
    }

    /**
     * The owner of every partition by the rule.
     *
     * @param proxies the live proxies (names).
     * @param hotness operations per second by partition, summed over compute nodes.
     */
    static String[] plan(final PartitionMap current, final Set<String> proxies, final double[] hotness)
    {
        final int n = current.partitions();
        final String[] owner = new String[n];
        final Map<String, Double> load = new TreeMap<>();
        proxies.forEach(name -> load.put(name, 0.0));
        final List<Integer> free = new ArrayList<>();
        for (int p = 0; p < n; p++)
        {
            final String pin = current.pin(p);
            if (pin.isEmpty())
            {
                free.add(p);
            }
            else
            {
                owner[p] = proxies.contains(pin) ? pin : PartitionMap.NONE;
                final double h = hotness[p];
                load.computeIfPresent(owner[p], (k, v) -> v + h);
            }
        }
        if (proxies.isEmpty())
        {
            free.forEach(p -> owner[p] = PartitionMap.NONE);
            return owner;
        }
        final int hot = sort(free, hotness);
        final int c = proxies.size();
        final int ranked = Math.min(free.size(), (hot + c - 1) / c * c);
        for (int from = 0; from < ranked; from += c)
        {
            final List<Integer> rank = free.subList(from, Math.min(ranked, from + c));
            final Set<String> used = new HashSet<>();
            for (final int p : rank)
            {
                final String now = current.owner(p);
                if (proxies.contains(now) && used.add(now))
                {
                    owner[p] = now;
                    load.merge(now, hotness[p], Double::sum);
                }
            }
            for (final int p : rank)
            {
                if (owner[p] == null)
                {
                    final String to = load.entrySet().stream().filter(e -> !used.contains(e.getKey()))
                        .min(Map.Entry.comparingByValue()).orElseThrow().getKey();
                    used.add(to);
                    owner[p] = to;
                    load.merge(to, hotness[p], Double::sum);
                }
            }
        }
        spreadCold(current, free.subList(ranked, free.size()), proxies, owner);
        return owner;
    }

    /**
     * Sorts {@code free} hottest first by steps of hotness (partition number within a step, so the
     * order does not depend on the owners and a plan that holds is kept as it is).
     *
     * @return how many are not cold.
     */
    private static int sort(final List<Integer> free, final double[] hotness)
    {
        double total = 0;
        for (final int p : free)
        {
            total += hotness[p];
        }
        final double cold = free.isEmpty() ? 0 : total / free.size() * COLD_SHARE;
        final Map<Integer, Integer> step = new HashMap<>();
        int hot = 0;
        for (final int p : free)
        {
            final boolean isCold = cold == 0 || hotness[p] <= cold;
            step.put(p, isCold ? -1 : (int)Math.floor(Math.log(hotness[p] / cold) / Math.log(STEP)));
            hot += isCold ? 0 : 1;
        }
        free.sort(Comparator.<Integer>comparingInt(p -> -step.get(p)).thenComparingInt(p -> p));
        return hot;
    }

    /**
     * The cold partitions (after the ranks) carry no load worth moving for, so only their counts
     * are evened out: each proxy's share is floor(cold / C) or one more (the extra ones to those
     * holding most now); each keeps its own up to its share, the rest go to the proxy furthest
     * below its share.
     */
    private static void spreadCold(final PartitionMap current, final List<Integer> cold, final Set<String> proxies,
        final String[] owner)
    {
        final Map<String, Integer> held = new TreeMap<>();
        proxies.forEach(name -> held.put(name, 0));
        for (final int p : cold)
        {
            held.computeIfPresent(current.owner(p), (k, v) -> v + 1);
        }
        final List<String> byHeld = new ArrayList<>(held.keySet());
        byHeld.sort(Comparator.comparingInt(name -> -held.get(name)));
        final Map<String, Integer> room = new TreeMap<>();
        for (int i = 0; i < byHeld.size(); i++)
        {
            room.put(byHeld.get(i), cold.size() / proxies.size() + (i < cold.size() % proxies.size() ? 1 : 0));
        }
        for (final int p : cold)
        {
            final String now = current.owner(p);
            if (room.getOrDefault(now, 0) > 0)
            {
                owner[p] = now;
                room.merge(now, -1, Integer::sum);
            }
        }
        for (final int p : cold)
        {
            if (owner[p] == null)
            {
                final String to = room.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
                owner[p] = to;
                room.merge(to, -1, Integer::sum);
            }
        }
    }

    /** Max proxy load over mean proxy load when {@code owner} holds (1 with no load or no proxy). */
    static double imbalance(final String[] owner, final Set<String> proxies, final double[] hotness)
    {
        if (proxies.isEmpty())
        {
            return 1;
        }
        final Map<String, Double> load = new HashMap<>();
        proxies.forEach(name -> load.put(name, 0.0));
        double total = 0;
        for (int p = 0; p < owner.length; p++)
        {
            if (load.containsKey(owner[p]))
            {
                load.merge(owner[p], hotness[p], Double::sum);
                total += hotness[p];
            }
        }
        if (total <= 0)
        {
            return 1;
        }
        final double max = load.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return max / (total / proxies.size());
    }
}
