package io.dmkv.computenode.rereplication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.dmkv.core.address.RegionMap;

/** Which replicas the planner copies where: re-replication first, then a drain, then balance. */
class ReplicaPlannerTest
{
    private static ReplicaPlanner.Nodes nodes(final int[] physical, final Integer... draining)
    {
        return new ReplicaPlanner.Nodes(physical, Set.of(draining));
    }

    /** Applies every move as the copier would (joiner, then promotion), so plans can be followed to the end. */
    private static RegionMap apply(final RegionMap map, final List<ReplicaPlanner.Move> moves)
    {
        RegionMap m = map;
        for (final ReplicaPlanner.Move mv : moves)
        {
            m = m.withJoiner(mv.region(), mv.node(), mv.physical()).withJoinerPromoted(mv.region(), mv.leaving());
        }
        return m;
    }

    private static RegionMap settle(final RegionMap start, final ReplicaPlanner.Nodes nodes)
    {
        return settle(start, nodes, false);
    }

    private static RegionMap settle(final RegionMap start, final ReplicaPlanner.Nodes nodes, final boolean grow)
    {
        RegionMap m = start;
        for (int round = 0; round < 50; round++)
        {
            final List<ReplicaPlanner.Move> moves = ReplicaPlanner.plan(m, nodes, grow);
            if (moves.isEmpty())
            {
                return m;
            }
            m = apply(m, moves);
        }
        throw new AssertionError("the plans never ended");
    }

    @Test
    void aReplacementTakesEveryUnderReplicatedRegionAndNoNodeHoldsARegionTwice()
    {
        // Four nodes of 4 regions, r = 3, 5 regions; node 3 died and was failed over; node 4 replaces it.
        final RegionMap failed = RegionMap.place(1, 5, 4, 3).withoutNode(3).withMemoryNodes(5);
        final RegionMap done = settle(failed, nodes(new int[] {4, 4, 4, 0, 4}));
        for (int g = 0; g < done.regionCount(); g++)
        {
            assertEquals(3, done.replicaCount(g), "region " + g);
            assertEquals(-1, done.joiner(g));
            assertFalse(done.hasReplicaOn(g, 3));
        }
        assertTrue(done.regionsOn(4).length > 0, "the replacement holds replicas");
        for (int n = 0; n < 5; n++)
        {
            assertTrue(done.physicalInUse(n).cardinality() <= 4, "node " + n + " holds no more than its regions");
        }
    }

    @Test
    void withOneSpareRegionInAllTheRegionsStillReachRByMakingRoom()
    {
        // After two deaths of four (r = 3, 5 regions), two replacements: 16 regions for 15 replicas.
        final RegionMap failed = RegionMap.place(1, 5, 4, 3).withoutNode(2).withoutNode(3).withMemoryNodes(6);
        final RegionMap done = settle(failed, nodes(new int[] {4, 4, 0, 0, 4, 4}));
        for (int g = 0; g < done.regionCount(); g++)
        {
            assertEquals(3, done.replicaCount(g), "region " + g + " in " + Arrays.toString(done.replicas(g)));
        }
    }

    @Test
    void aDrainingNodeIsEmptiedAndNeverChosenAsATarget()
    {
        final RegionMap start = RegionMap.place(1, 5, 4, 3).withMemoryNodes(5);
        final ReplicaPlanner.Nodes n = nodes(new int[] {4, 4, 4, 4, 4}, 1);
        assertEquals(List.of(), ReplicaPlanner.withoutRoom(start, n, 1));
        final RegionMap done = settle(start, n);
        assertEquals(0, done.regionsOn(1).length);
        for (int g = 0; g < done.regionCount(); g++)
        {
            assertEquals(3, done.replicaCount(g));
        }
    }

    @Test
    void aDrainWithoutRoomIsReported()
    {
        final RegionMap start = RegionMap.place(1, 5, 4, 3);
        // 16 regions for 15 replicas: the three other nodes have one free region between them.
        assertFalse(ReplicaPlanner.withoutRoom(start, nodes(new int[] {4, 4, 4, 4}), 0).isEmpty());
    }

    @Test
    void aNodeAddedForCapacityTakesReplicasUntilTheNodesAreBalanced()
    {
        final RegionMap start = RegionMap.place(1, 5, 4, 3).withMemoryNodes(5);
        final RegionMap done = settle(start, nodes(new int[] {4, 4, 4, 4, 4}));
        int most = 0;
        int least = Integer.MAX_VALUE;
        for (int n = 0; n < 5; n++)
        {
            most = Math.max(most, done.physicalInUse(n).cardinality());
            least = Math.min(least, done.physicalInUse(n).cardinality());
        }
        assertTrue(done.regionsOn(4).length >= 2, "the new node took replicas");
        assertTrue(most - least <= 1, "balanced: " + most + " vs " + least);
    }

    @Test
    void aRegionWithAJoinerIsNotPlannedAgain()
    {
        final RegionMap failed = RegionMap.place(1, 5, 4, 3).withoutNode(3).withMemoryNodes(5);
        int g = 0;
        while (failed.replicaCount(g) == 3)
        {
            g++;
        }
        final RegionMap joining = failed.withJoiner(g, 4, 0);
        for (final ReplicaPlanner.Move m : ReplicaPlanner.plan(joining, nodes(new int[] {4, 4, 4, 0, 4})))
        {
            assertTrue(joining.joiner(m.region()) < 0, "region " + m.region() + " already joining");
            assertTrue(m.node() != 4 || m.physical() != 0, "physical region 0 of node 4 is taken");
        }
    }

    /** Follows plans and new regions to the end, as the agent would. */
    private static RegionMap grow(final RegionMap start, final ReplicaPlanner.Nodes nodes)
    {
        RegionMap m = start;
        for (int round = 0; round < 50; round++)
        {
            m = settle(m, nodes, true);
            final List<ReplicaPlanner.NewRegion> added = ReplicaPlanner.newRegions(m, nodes);
            if (added.isEmpty())
            {
                return m;
            }
            m = m.withRegions(added.stream().map(ReplicaPlanner.NewRegion::nodes).toArray(int[][]::new),
                added.stream().map(ReplicaPlanner.NewRegion::physical).toArray(int[][]::new));
        }
        throw new AssertionError("the growth never ended");
    }

    private static int freeRegions(final RegionMap map, final int[] physical)
    {
        int free = 0;
        for (int n = 0; n < physical.length; n++)
        {
            free += physical[n] - map.physicalInUse(n).cardinality();
        }
        return free;
    }

    @Test
    void aFullClusterWithNoNewNodeGetsNoNewRegion()
    {
        final RegionMap full = RegionMap.place(1, 2, 2, 2);
        assertEquals(List.of(), ReplicaPlanner.newRegions(full, nodes(new int[] {2, 2})));
        assertEquals(List.of(), ReplicaPlanner.plan(full, nodes(new int[] {2, 2})));
    }

    @Test
    void aNodeJoiningTwoFullNodesTakesAReplicaAndMakesRoomForANewRegion()
    {
        // r = 2, two nodes of two regions each, both full; a third node of two regions joins.
        final int[] physical = {2, 2, 2};
        final RegionMap done = grow(RegionMap.place(1, 2, 2, 2).withMemoryNodes(3), nodes(physical));
        assertEquals(3, done.regionCount(), "one region added: six physical regions hold three of r = 2");
        assertEquals(0, freeRegions(done, physical));
        assertEquals(2, done.replicaCount(2));
        assertTrue(done.regionsOn(2).length == 2, "the new node is full too");
    }

    @Test
    void rThreeNeedsRoomOnThreeNodesAndGetsItByMovingAReplicaOntoTheNewNode()
    {
        // The design's example: r = 3, three full nodes of two regions each, a new node of four.
        final int[] physical = {2, 2, 2, 4};
        final RegionMap start = RegionMap.place(1, 2, 3, 3).withMemoryNodes(4);
        assertEquals(List.of(), ReplicaPlanner.newRegions(settle(start, nodes(physical)), nodes(physical)),
            "balancing alone leaves room on two nodes only");
        final RegionMap done = grow(start, nodes(physical));
        assertEquals(3, done.regionCount(), "one region added");
        assertEquals(1, freeRegions(done, physical), "ten physical regions hold three regions of r = 3");
        for (int g = 0; g < done.regionCount(); g++)
        {
            assertEquals(3, done.replicaCount(g), "region " + g);
        }
    }

    @Test
    void newRegionsPutThePrimaryOnTheNodeWithTheMostRoomAndStopWhenFewerThanRNodesHaveRoom()
    {
        final RegionMap map = RegionMap.place(1, 2, 2, 2).withMemoryNodes(4);
        final List<ReplicaPlanner.NewRegion> added = ReplicaPlanner.newRegions(map, nodes(new int[] {2, 3, 5, 1}));
        // Free: node 1 one, node 2 five, node 3 one: the first region goes on 2 and 3 (of equal room,
        // the node holding fewer replicas), the second on 2 and 1, then only node 2 has room.
        assertEquals(2, added.size(), added.toString());
        assertEquals(List.of(2, 3), Arrays.stream(added.get(0).nodes()).boxed().toList());
        assertEquals(List.of(2, 1), Arrays.stream(added.get(1).nodes()).boxed().toList());
        assertEquals(List.of(0, 0), Arrays.stream(added.get(0).physical()).boxed().toList());
        assertEquals(List.of(1, 2), Arrays.stream(added.get(1).physical()).boxed().toList(),
            "each node's next free physical region");
    }
}
