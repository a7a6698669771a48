package io.dmkv.computenode.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.dmkv.core.cluster.PartitionMap;

/**
 * The rank-aware rule gives each proxy one partition of every rank of hotness, keeps owners where
 * the rule allows, leaves pins alone; the assignment around it triggers only past the imbalance
 * threshold, absorbs proxies joining and leaving, and does not flap under noise.
 */
class RankAwareAssignmentTest
{
    private static final int P = 64;

    private static Map<String, String> proxies(final String... names)
    {
        final Map<String, String> m = new TreeMap<>();
        for (final String n : names)
        {
            m.put(n, "127.0.0.1:" + (9000 + Math.abs(n.hashCode() % 100)));
        }
        return m;
    }

    /** Every hand-over of {@code m} done, as the proxies would mark them. */
    private static PartitionMap settled(final PartitionMap m)
    {
        PartitionMap out = m;
        for (int p = 0; p < m.partitions(); p++)
        {
            out = out.withSettled(p);
        }
        return out;
    }

    private static String[] owners(final PartitionMap m)
    {
        final String[] o = new String[m.partitions()];
        for (int p = 0; p < o.length; p++)
        {
            o[p] = m.owner(p);
        }
        return o;
    }

    private static int moved(final String[] a, final String[] b)
    {
        int n = 0;
        for (int p = 0; p < a.length; p++)
        {
            n += a[p].equals(b[p]) ? 0 : 1;
        }
        return n;
    }

    private static Map<String, Integer> counts(final String[] owner)
    {
        final Map<String, Integer> out = new HashMap<>();
        for (final String o : owner)
        {
            out.merge(o, 1, Integer::sum);
        }
        return out;
    }

    /** A static spread over {@code names}, settled. */
    private static PartitionMap spread(final String... names)
    {
        return settled(new BalancedAssignment().assign(PartitionMap.flexkv(P), proxies(names)));
    }

    /**
     * Hotness in tiers of 4 partitions (a random permutation), each tier 1.25× colder than the one
     * before and 1% apart within it: the ranks of 4 are unambiguous.
     */
    private static double[] separated(final long seed)
    {
        final List<Integer> order = new ArrayList<>();
        for (int p = 0; p < P; p++)
        {
            order.add(p);
        }
        java.util.Collections.shuffle(order, new Random(seed));
        final double[] h = new double[P];
        for (int rank = 0; rank < P; rank++)
        {
            h[order.get(rank)] = 1e6 * Math.pow(1.25, -(rank / 4)) * (1 + 0.01 * (rank % 4));
        }
        return h;
    }

    @Test
    void eachProxyGetsOnePartitionOfEveryRank()
    {
        final Set<String> names = new TreeSet<>(List.of("a", "b", "c", "d"));
        for (long seed = 1; seed <= 20; seed++)
        {
            final double[] h = separated(seed);
            final String[] plan = RankAwareRule.plan(spread("a", "b", "c", "d"), names, h);
            final List<Integer> byHotness = new ArrayList<>();
            for (int p = 0; p < P; p++)
            {
                byHotness.add(p);
            }
            byHotness.sort(Comparator.comparingDouble(p -> -h[p]));
            for (int rank = 0; rank < P / 4; rank++)
            {
                final Set<String> owners = new HashSet<>();
                for (int i = rank * 4; i < rank * 4 + 4; i++)
                {
                    owners.add(plan[byHotness.get(i)]);
                }
                assertEquals(names, owners, "rank " + rank + " of seed " + seed + " has one partition per proxy");
            }
            assertEquals(Map.of("a", 16, "b", 16, "c", 16, "d", 16), counts(plan));
        }
    }

    @Test
    void keepsEveryOwnerWhenTheRuleAlreadyHolds()
    {
        final PartitionMap now = spread("a", "b", "c");
        final double[] h = separated(7);
        final String[] first = RankAwareRule.plan(now, new TreeSet<>(List.of("a", "b", "c")), h);
        PartitionMap applied = now;
        for (int p = 0; p < P; p++)
        {
            applied = applied.withOwner(p, first[p], "x");
        }
        final String[] again = RankAwareRule.plan(settled(applied), new TreeSet<>(List.of("a", "b", "c")), h);
        assertEquals(0, moved(first, again), "a plan that holds is kept as it is");
    }

    @Test
    void aHotSetOnOneProxyMovesFewPartitionsAndBalancesTheLoad()
    {
        final PartitionMap now = spread("a", "b", "c", "d");
        final double[] h = new double[P];
        int hot = 0;
        for (int p = 0; p < P && hot < 8; p++)
        {
            if (now.owner(p).equals("a"))
            {
                h[p] = 1000 + p;
                hot++;
            }
        }
        for (int p = 0; p < P; p++)
        {
            h[p] = Math.max(h[p], 1);
        }
        final Set<String> names = new TreeSet<>(List.of("a", "b", "c", "d"));
        final String[] before = owners(now);
        final String[] plan = RankAwareRule.plan(now, names, h);
        assertTrue(RankAwareRule.imbalance(before, names, h) > 3.5, "all 8 hot partitions on a");
        assertTrue(RankAwareRule.imbalance(plan, names, h) < 1.05, "balanced: " + RankAwareRule.imbalance(plan, names, h));
        // 6 of the 8 hot partitions must leave a, and a must take 6 cold ones back to keep its
        // count: 12 moves, and the rule makes no more.
        final int moves = moved(before, plan);
        assertEquals(12, moves, "moves");
    }

    @Test
    void pinnedPartitionsStayWithTheirPinAndCountInTheLoad()
    {
        PartitionMap now = spread("a", "b", "c");
        now = now.withPin(0, "a").withPin(1, "a").withPin(2, PartitionMap.NONE);
        now = settled(now.withOwner(0, "a", "x").withOwner(1, "a", "x").withOwner(2, PartitionMap.NONE, null));
        final double[] h = separated(3);
        final String[] plan = RankAwareRule.plan(now, new TreeSet<>(List.of("a", "b", "c")), h);
        assertEquals("a", plan[0]);
        assertEquals("a", plan[1]);
        assertEquals(PartitionMap.NONE, plan[2]);
        final RankAwareAssignment policy = new RankAwareAssignment(1.0, 0.0);
        final PartitionMap next = policy.assign(now, proxies("a", "b", "c"), h, 10, true);
        assertEquals("a", next.owner(0));
        assertEquals(PartitionMap.NONE, next.owner(2));
    }

    @Test
    void rebalancesOnlyPastTheThresholdAndAtAPeriodsEnd()
    {
        final PartitionMap now = spread("a", "b");
        final double[] even = new double[P];
        java.util.Arrays.fill(even, 100);
        final RankAwareAssignment policy = new RankAwareAssignment(1.25, 0.1);
        assertEquals(now, policy.assign(now, proxies("a", "b"), even, 10, true), "balanced load: nothing moves");
        final double[] skewed = even.clone();
        for (int p = 0; p < P; p++)
        {
            if (now.owner(p).equals("a"))
            {
                skewed[p] = 300;
            }
        }
        assertEquals(now, policy.assign(now, proxies("a", "b"), skewed, 10, false), "not at a period's end");
        final PartitionMap next = policy.assign(now, proxies("a", "b"), skewed, 10, true);
        assertNotEquals(now, next);
        assertTrue(RankAwareRule.imbalance(owners(next), Set.of("a", "b"), skewed) < 1.1);
        assertEquals(1, policy.rebalances());
        assertEquals(next, policy.assign(next, proxies("a", "b"), skewed, 11, true),
            "no second rebalance while the first one's hand-overs are under way");
    }

    @Test
    void aProxyLeavingMovesOnlyItsOwnAndOneJoiningGetsItsShare()
    {
        final RankAwareAssignment policy = new RankAwareAssignment(1.25, 0.1);
        final double[] h = separated(11);
        final PartitionMap three = spread("a", "b", "c");
        final PartitionMap two = policy.assign(three, proxies("a", "b"), h, 1, false);
        for (int p = 0; p < P; p++)
        {
            if (!three.owner(p).equals("c"))
            {
                assertEquals(three.owner(p), two.owner(p), "partition " + p + " of a survivor stays");
            }
            else
            {
                assertTrue(Set.of("a", "b").contains(two.owner(p)));
            }
        }
        final PartitionMap four = policy.assign(settled(two), proxies("a", "b", "d", "e"), h, 2, false);
        final Map<String, Integer> c = counts(owners(four));
        assertEquals(Map.of("a", 16, "b", 16, "d", 16, "e", 16), c);
        assertEquals(32, moved(owners(settled(two)), owners(four)), "the two new proxies get their share, no more");
    }

    @Test
    void noiseWithinTheHysteresisDoesNotMakeItFlap()
    {
        final RankAwareAssignment policy = new RankAwareAssignment(1.25, 0.1);
        final Map<String, String> proxies = proxies("a", "b", "c");
        PartitionMap map = spread("a", "b", "c");
        final double[] base = new double[P];
        final Random random = new Random(42);
        for (int p = 0; p < P; p++)
        {
            // zipf-like: a few hot partitions, a long tail.
            base[p] = 10_000.0 / (1 + p);
        }
        int moves = 0;
        for (int period = 1; period <= 60; period++)
        {
            final double[] h = base.clone();
            for (int p = 0; p < P; p++)
            {
                h[p] *= 1 + (random.nextDouble() - 0.5) * 0.1;
            }
            final PartitionMap next = policy.assign(map, proxies, h, period, true);
            moves += moved(owners(map), owners(next));
            map = settled(next);
        }
        assertTrue(policy.rebalances() >= 1, "the skew was rebalanced once");
        assertTrue(policy.rebalances() <= 2, "±5% noise does not make it rebalance again and again: "
            + policy.rebalances() + " rebalances, " + moves + " moves");
        assertTrue(moves <= P, "moves: " + moves);
    }
}
