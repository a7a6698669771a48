package io.dmkv.computenode.rereplication;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

import io.dmkv.core.address.RegionMap;

/**
 * Decides which replicas to copy where (docs/recovery.md, "Re-replication"), in this order:
 * <ol>
 * <li><b>re-replication</b>: a region with fewer than r replicas gets a joining replica;</li>
 * <li><b>decommission</b>: a replica on a draining node is copied elsewhere, and the draining node
 * leaves the region when the copy is promoted;</li>
 * <li><b>balance</b> (growing): while one eligible node holds two replicas more than another, a
 * replica moves from the fullest node to the emptiest, so a node that joined takes regions (new
 * blocks are then allocated in its memory) and frees room on the others.</li>
 * </ol>
 * A target is a live node that is not draining, does not hold the region and has a free physical
 * region; of those, the one holding the fewest replicas (then the lowest index). When every node
 * with room already holds an under-replicated region, another region's replica moves from a full
 * node that lacks it to a node with room, and the region is copied to the freed room next. A region has at
 * most one joining replica, and the planner plans one step of each region at a time. Pure: the
 * same inputs give the same plan.
 */
public final class ReplicaPlanner
{
    /** Most moves one plan holds (they are copied, sealed and promoted together). */
    public static final int MAX_MOVES = 8;

    /** Copy region {@code region} onto {@code node}'s physical region {@code physical}; {@code leaving} leaves it then (-1: none). */
    public record Move(int region, int node, int physical, int leaving)
    {
    }

    /** What the planner knows of the nodes: per map index, usable physical regions (0: dead or unusable), and who drains. */
    public record Nodes(int[] physicalRegions, Set<Integer> draining)
    {
        boolean eligible(final int n)
        {
            return n < physicalRegions.length && physicalRegions[n] > 0 && !draining.contains(n);
        }
    }

    private ReplicaPlanner()
    {
    }

    /** The moves to make next under {@code map}: the first kind of the list above that has any. */
    public static List<Move> plan(final RegionMap map, final Nodes nodes)
    {
        final State s = new State(map, nodes);
        for (int g = 0; g < map.regionCount() && s.moves.size() < MAX_MOVES; g++)
        {
            if (map.joiner(g) < 0 && !s.planned.get(g) && map.replicaCount(g) < map.replicationFactor()
                && !s.add(g, -1))
            {
                s.makeRoom(g);
            }
        }
        if (!s.moves.isEmpty())
        {
            return s.moves;
        }
        for (final int d : nodes.draining())
        {
            if (d >= map.memoryNodeCount())
            {
                continue;
            }
            for (final int g : map.regionsOn(d))
            {
                if (map.joiner(g) < 0 && !s.planned.get(g) && s.moves.size() < MAX_MOVES && !s.add(g, d))
                {
                    s.makeRoom(g);
                }
            }
        }
        if (!s.moves.isEmpty())
        {
            return s.moves;
        }
        balance(map, nodes, s);
        return s.moves;
    }

    /**
     * The regions of {@code node} that cannot be moved off it: no eligible node lacks them, or the
     * eligible nodes have fewer free regions in all than {@code node} holds (then all of them).
     * Moves that make room first (another region's replica shifted) are allowed for.
     */
    public static List<Integer> withoutRoom(final RegionMap map, final Nodes nodes, final int node)
    {
        final State s = new State(map, nodes);
        final int[] held = map.regionsOn(node);
        int free = 0;
        for (int n = 0; n < s.held.length; n++)
        {
            free += n != node && nodes.eligible(n) ? Math.max(0, s.free(n)) : 0;
        }
        final List<Integer> stuck = new ArrayList<>();
        for (final int g : held)
        {
            boolean some = false;
            for (int n = 0; n < s.held.length && !some; n++)
            {
                some = n != node && nodes.eligible(n) && !map.hasReplicaOn(g, n);
            }
            if (!some || free < held.length)
            {
                stuck.add(g);
            }
        }
        return stuck;
    }

    private static void balance(final RegionMap map, final Nodes nodes, final State s)
    {
        while (s.moves.size() < MAX_MOVES)
        {
            int most = -1;
            int least = -1;
            for (int n = 0; n < map.memoryNodeCount(); n++)
            {
                if (!nodes.eligible(n))
                {
                    continue;
                }
                if (most < 0 || s.held[n] > s.held[most])
                {
                    most = n;
                }
                if (s.free(n) > 0 && (least < 0 || s.held[n] < s.held[least]))
                {
                    least = n;
                }
            }
            if (most < 0 || least < 0 || s.held[most] - s.held[least] <= 1)
            {
                return;
            }
            boolean moved = false;
            for (final int g : map.regionsOn(most))
            {
                if (map.joiner(g) < 0 && !s.planned.get(g) && !map.hasReplicaOn(g, least))
                {
                    s.moveTo(g, least, most);
                    moved = true;
                    break;
                }
            }
            if (!moved)
            {
                return;
            }
        }
    }

    /** Replicas held and physical regions taken, as the plan grows. */
    private static final class State
    {
        final RegionMap map;
        final Nodes nodes;
        final int[] held;
        final BitSet[] used;
        final BitSet planned = new BitSet();
        final List<Move> moves = new ArrayList<>();

        State(final RegionMap map, final Nodes nodes)
        {
            this.map = map;
            this.nodes = nodes;
            this.held = new int[map.memoryNodeCount()];
            this.used = new BitSet[map.memoryNodeCount()];
            for (int n = 0; n < held.length; n++)
            {
                used[n] = map.physicalInUse(n);
                held[n] = used[n].cardinality();
            }
        }

        int free(final int n)
        {
            return n < nodes.physicalRegions().length ? nodes.physicalRegions()[n] - used[n].cardinality() : 0;
        }

        /** Plans a copy of g onto the best target; false if none has room. */
        boolean add(final int g, final int leaving)
        {
            int best = -1;
            for (int n = 0; n < held.length; n++)
            {
                if (nodes.eligible(n) && !map.hasReplicaOn(g, n) && free(n) > 0
                    && (best < 0 || held[n] < held[best]))
                {
                    best = n;
                }
            }
            if (best < 0)
            {
                return false;
            }
            moveTo(g, best, leaving);
            return true;
        }

        /**
         * Region g has no target: moves a replica of another region h off a full node F that does
         * not hold g onto a node R with room that does not hold h, so F has room for g next time.
         */
        void makeRoom(final int g)
        {
            for (int f = 0; f < held.length; f++)
            {
                if (!nodes.eligible(f) || map.hasReplicaOn(g, f) || free(f) > 0)
                {
                    continue;
                }
                for (final int h : map.regionsOn(f))
                {
                    if (h == g || map.joiner(h) >= 0 || planned.get(h))
                    {
                        continue;
                    }
                    for (int r = 0; r < held.length; r++)
                    {
                        if (nodes.eligible(r) && free(r) > 0 && !map.hasReplicaOn(h, r))
                        {
                            moveTo(h, r, f);
                            return;
                        }
                    }
                }
            }
        }

        void moveTo(final int g, final int n, final int leaving)
        {
            final int phys = used[n].nextClearBit(0);
            used[n].set(phys);
            held[n]++;
            if (leaving >= 0)
            {
                held[leaving]--;
            }
            planned.set(g);
            moves.add(new Move(g, n, phys, leaving));
        }
    }
}
