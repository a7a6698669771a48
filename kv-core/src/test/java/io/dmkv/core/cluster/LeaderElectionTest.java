package io.dmkv.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Exactly one leader acts; when it dies or is deposed another takes over with a higher leader
 * epoch, and the deposed leader's writes are refused.
 */
@Timeout(60)
class LeaderElectionTest
{
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception
    {
        for (int i = open.size() - 1; i >= 0; i--)
        {
            open.get(i).close();
        }
    }

    @Test
    void oneLeaderActsAndADeposedLeadersWritesFail() throws Exception
    {
        final String connect = EmbeddedZooKeeper.shared().freshConnectString();
        final List<Coordinator> members = new ArrayList<>();
        final List<LeaderElection> elections = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            final Coordinator c = Coordinator.open(CoordinatorTest.settings(connect));
            open.add(c);
            members.add(c);
        }
        members.get(0).maps().claimFormat("f");
        members.get(0).maps().publish(new byte[0], 1, new byte[0], new byte[0]);
        for (int i = 0; i < 3; i++)
        {
            final LeaderElection e = members.get(i).election("member-" + i);
            open.add(e);
            elections.add(e);
        }

        final int first = awaitSoleLeader(elections, -1);
        final LeaderElection.Token firstToken = elections.get(first).token();
        assertEquals(Optional.of("member-" + first), LeaderElection.currentLeader(members.get(0)));
        final VersionedMap m1 = members.get(first).maps().writeAsLeader(firstToken,
            members.get(first).maps().read(MapName.PARTITIONS).orElseThrow(), 2, new byte[] {1});
        assertEquals(2, m1.epoch());

        // The leader stalls long enough for its session to expire: the others move on.
        members.get(first).curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        final int second = awaitSoleLeader(elections, first);
        final LeaderElection.Token secondToken = elections.get(second).token();
        assertTrue(secondToken.epoch() > firstToken.epoch(), "leader epochs grow");

        final VersionedMap current = members.get(first).maps().read(MapName.PARTITIONS).orElseThrow();
        final NotLeaderException late = assertThrows(NotLeaderException.class,
            () -> members.get(first).maps().writeAsLeader(firstToken, current, current.epoch() + 1, new byte[] {9}));
        assertTrue(late.getMessage().contains("member-" + first), late.getMessage());
        assertEquals(3, members.get(second).maps().writeAsLeader(secondToken, current, 3, new byte[] {2}).epoch());

        // The leader dies (closes): exactly one of the others takes over.
        elections.get(second).close();
        members.get(second).close();
        final int third = awaitSoleLeader(elections, second);
        assertNotEquals(second, third);
        assertTrue(elections.get(third).token().epoch() > secondToken.epoch());
        assertEquals(elections.get(third).token().epoch(), LeaderElection.currentEpoch(members.get(third)));
    }

    /** Waits until exactly one election other than {@code not} leads, and returns it. */
    private static int awaitSoleLeader(final List<LeaderElection> elections, final int not) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            int leaders = 0;
            int leader = -1;
            for (int i = 0; i < elections.size(); i++)
            {
                if (i != not && elections.get(i).isLeader())
                {
                    leaders++;
                    leader = i;
                }
            }
            if (leaders == 1 && (not < 0 || !elections.get(not).isLeader()))
            {
                return leader;
            }
            assertTrue(leaders <= 1, "two leaders at once");
            Thread.sleep(20);
        }
        throw new AssertionError("no single leader emerged");
    }
}
