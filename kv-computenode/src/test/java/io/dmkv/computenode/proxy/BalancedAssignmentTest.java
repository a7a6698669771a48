package io.dmkv.computenode.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.dmkv.core.cluster.PartitionMap;

/**
 * The static assignment spreads partitions evenly, moves few when a proxy joins or leaves,
 * honours pins, and records each move as a hand-over from the previous owner; the partition map
 * survives its text form.
 */
class BalancedAssignmentTest
{
    private final BalancedAssignment policy = new BalancedAssignment();

    private static Map<String, String> proxies(final String... names)
    {
        final Map<String, String> m = new TreeMap<>();
        for (final String n : names)
        {
            m.put(n, "127.0.0.1:" + (9000 + n.hashCode() % 100));
        }
        return m;
    }

    private static Map<String, Integer> load(final PartitionMap m)
    {
        final Map<String, Integer> out = new HashMap<>();
        for (int p = 0; p < m.partitions(); p++)
        {
            out.merge(m.owner(p), 1, Integer::sum);
        }
        return out;
    }

    private static int moved(final PartitionMap a, final PartitionMap b)
    {
        int n = 0;
        for (int p = 0; p < a.partitions(); p++)
        {
            n += a.owner(p).equals(b.owner(p)) ? 0 : 1;
        }
        return n;
    }

    @Test
    void spreadsEvenlyAndMovesFewWhenProxiesJoinAndLeave()
    {
        final PartitionMap fresh = PartitionMap.flexkv(64);
        final PartitionMap one = policy.assign(fresh, proxies("a"));
        assertEquals(Map.of("a", 64), load(one));
        assertEquals(PartitionMap.NONE, one.from(0), "taken from one-sided mode");

        assertEquals(PartitionMap.NONE, policy.assign(one, proxies("a", "b")).from(63),
            "a hand-over not yet done keeps waiting for the owner that last served the partition");
        PartitionMap served = one;
        for (int p = 0; p < 64; p++)
        {
            served = served.withSettled(p);
        }
        final PartitionMap two = policy.assign(served, proxies("a", "b"));
        assertEquals(Map.of("a", 32, "b", 32), load(two));
        assertEquals(32, moved(served, two), "only b's share moves");
        for (int p = 0; p < 64; p++)
        {
            assertEquals(two.owner(p).equals("b") ? "a" : PartitionMap.SETTLED, two.from(p), "partition " + p);
        }

        final PartitionMap three = policy.assign(two, proxies("a", "b", "c"));
        final Map<String, Integer> l3 = load(three);
        assertTrue(l3.values().stream().allMatch(n -> n >= 21 && n <= 22), l3.toString());
        assertTrue(moved(two, three) <= 22, "moves " + moved(two, three));

        final PartitionMap left = policy.assign(three, proxies("a", "c"));
        assertEquals(Map.of("a", 32, "c", 32), load(left));
        assertEquals(l3.get("b").intValue(), moved(three, left), "only b's partitions move when b leaves");

        final PartitionMap none = policy.assign(left, proxies());
        assertEquals(Map.of(PartitionMap.NONE, 64), load(none), "no proxy: every partition one-sided");
    }

    @Test
    void pinsWinAndAPinToADeadNodeMeansOneSided()
    {
        PartitionMap m = policy.assign(PartitionMap.flexkv(8), proxies("a", "b"));
        m = m.withPin(3, "b").withPin(4, PartitionMap.NONE).withPin(5, "gone");
        final PartitionMap next = policy.assign(m, proxies("a", "b"));
        assertEquals("b", next.owner(3));
        assertEquals(PartitionMap.NONE, next.owner(4));
        assertEquals(PartitionMap.NONE, next.owner(5));
        assertEquals(next, policy.assign(next, proxies("a", "b")), "stable once assigned");
    }

    @Test
    void theMapSurvivesItsTextFormAndRefusesAMalformedOne()
    {
        final PartitionMap m = policy.assign(PartitionMap.flexkv(16), proxies("a", "b")).withPin(2, "a")
            .withSettled(0).withOneSidedUsed();
        assertEquals(m, PartitionMap.decode(m.encode()));
        assertEquals(PartitionMap.FUSEE, PartitionMap.decode(new byte[0]).mode(), "an empty map is a FUSEE cluster");
        assertThrows(IllegalArgumentException.class, () -> PartitionMap.decode(
            "mode=flexkv\npartitions=6\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> PartitionMap.decode(
            "mode=flexkv\npartitions=4\nowners=a,b\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThrows(IllegalArgumentException.class, () -> PartitionMap.decode(
            "mode=other\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
