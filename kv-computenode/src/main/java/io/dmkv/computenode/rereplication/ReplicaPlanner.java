package io.dmkv.computenode.rereplication;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.address.RegionMap;

/**
 * Decides which replicas to copy where (docs/recovery.md, "Re-replication"), in this order:
 * <ol>
 * <li><b>re-replication</b>: a region with fewer than r replicas gets a joining replica;</li>
 * <li><b>decommission</b>: a replica on a draining node is copied elsewhere, and the draining node
 * leaves the region when the copy is promoted;</li>
 * <li><b>balance</b> (growing): while one eligible node holds two replicas more than another, a
 * replica moves from the fullest node to the emptiest, so a node that joined takes regions (new
 * blocks are then allocated in its memory) and frees room on the others;</li>
 * <li><b>room for a region</b> (growing): when r free physical regions exist but on fewer than r
 * nodes, replicas move from full nodes to the node with the most room until r nodes have some.</li>
 * </ol>
 * Once none of these has a move, {@link #newRegions} says which new global regions fit the room
 * left (capacity).
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

    /** A new global region for capacity: its replicas' nodes (primary first) and their physical regions. */
    public record NewRegion(int[] nodes, int[] physical)
    {
        @Override
        public String toString()
        {
            return "NewRegion" + Arrays.toString(nodes) + "@" + Arrays.toString(physical);
        }
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

    /** The moves to make next under {@code map}: the first kind of the list above that has any, room for a region aside. */
    public static List<Move> plan(final RegionMap map, final Nodes nodes)
    {
        return plan(map, nodes, false);
    }

    /**
     * As {@link #plan(RegionMap, Nodes)}; with {@code grow} (the cluster runs short of free blocks)
     * the last kind, room for a region, too.
     */
    public static List<Move> plan(final RegionMap map, final Nodes nodes, final boolean grow)
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
        if (s.moves.isEmpty() && grow)
        {
            makeRoomForRegions(map, nodes, s);
        }
        return s.moves;
    }

    /**
     * Room for a new region (capacity): the free physical regions may sit on fewer than r nodes (a
     * node that joined holds most of them) although there are r of them. Then replicas move from full
     * nodes onto the node with the most room, one free region each, until r nodes have room; the
     * moves are kept only if that is reached and leave the nodes balanced (so {@link #balance} never
     * moves them back). {@link #newRegions} then finds its r nodes.
     */
    private static void makeRoomForRegions(final RegionMap map, final Nodes nodes, final State s)
    {
        final int r = map.replicationFactor();
        final int count = map.memoryNodeCount();
        final int[] free = new int[count];
        final int[] held = s.held.clone();
        int withRoom = 0;
        for (int n = 0; n < count; n++)
        {
            free[n] = nodes.eligible(n) ? Math.max(0, s.free(n)) : 0;
            withRoom += free[n] > 0 ? 1 : 0;
        }
        final List<Move> moves = new ArrayList<>();
        final BitSet moved = new BitSet();
        while (withRoom < r && moves.size() < MAX_MOVES)
        {
            int roomy = -1;
            for (int n = 0; n < count; n++)
            {
                roomy = free[n] >= 2 && (roomy < 0 || free[n] > free[roomy]) ? n : roomy;
            }
            Move move = null;
            for (int f = 0; f < count && roomy >= 0 && move == null; f++)
            {
                if (!nodes.eligible(f) || free[f] > 0 || f == roomy)
                {
                    continue;
                }
                held[f]--;
                held[roomy]++;
                final boolean balanced = spread(nodes, held, free, f, roomy) <= 1;
                held[f]++;
                held[roomy]--;
                for (final int h : balanced ? map.regionsOn(f) : new int[0])
                {
                    if (map.joiner(h) < 0 && !moved.get(h) && !map.hasReplicaOn(h, roomy))
                    {
                        move = new Move(h, roomy, -1, f);
                        break;
                    }
                }
            }
            if (move == null)
            {
                return;
            }
            moves.add(move);
            moved.set(move.region());
            held[move.leaving()]--;
            held[roomy]++;
            free[roomy]--;
            free[move.leaving()]++;
            withRoom++;
        }
        if (withRoom >= r)
        {
            for (final Move m : moves)
            {
                s.moveTo(m.region(), m.node(), m.leaving());
            }
        }
    }

    /** Most replicas held by an eligible node less the fewest held by one with room, were f to give one to roomy. */
    private static int spread(final Nodes nodes, final int[] held, final int[] free, final int f, final int roomy)
    {
        int most = Integer.MIN_VALUE;
        int least = Integer.MAX_VALUE;
        for (int n = 0; n < held.length; n++)
        {
            if (!nodes.eligible(n))
            {
                continue;
            }
            most = Math.max(most, held[n]);
            final int room = free[n] + (n == f ? 1 : 0) - (n == roomy ? 1 : 0);
            least = room > 0 ? Math.min(least, held[n]) : least;
        }
        return least == Integer.MAX_VALUE ? 0 : most - least;
    }

    /**
     * New global regions for capacity (docs/recovery.md, "Growing capacity"), to be created once
     * {@link #plan} has nothing left to move: while at least r eligible nodes have a free physical
     * region, one region with a replica on r of them, the nodes with the most free regions first
     * (then the fewest replicas held, then the lowest index), the primary on the one with the most.
     * At most {@value #MAX_MOVES}, and never past the global address space's region count. Pure.
     */
    public static List<NewRegion> newRegions(final RegionMap map, final Nodes nodes)
    {
        final State s = new State(map, nodes);
        final int r = map.replicationFactor();
        final List<NewRegion> out = new ArrayList<>();
        while (out.size() < MAX_MOVES && map.regionCount() + out.size() < GlobalAddress.MAX_REGIONS)
        {
            final Integer[] order = IntStream.range(0, s.held.length).filter(n -> nodes.eligible(n) && s.free(n) > 0)
                .boxed().sorted(Comparator.<Integer>comparingInt(n -> -s.free(n)).thenComparingInt(n -> s.held[n])
                    .thenComparingInt(n -> n)).toArray(Integer[]::new);
            if (order.length < r)
            {
                break;
            }
            final int[] chosen = new int[r];
            final int[] phys = new int[r];
            for (int j = 0; j < r; j++)
            {
                chosen[j] = order[j];
                phys[j] = s.used[chosen[j]].nextClearBit(0);
                s.used[chosen[j]].set(phys[j]);
                s.held[chosen[j]]++;
            }
            out.add(new NewRegion(chosen, phys));
        }
        return out;
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
