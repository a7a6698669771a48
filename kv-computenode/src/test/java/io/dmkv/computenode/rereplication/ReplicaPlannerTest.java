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
        RegionMap m = start;
        for (int round = 0; round < 50; round++)
        {
            final List<ReplicaPlanner.Move> moves = ReplicaPlanner.plan(m, nodes);
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
}
