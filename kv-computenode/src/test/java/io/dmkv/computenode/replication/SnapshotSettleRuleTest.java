package io.dmkv.computenode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * SNAPSHOT's settle rule for a slot whose primary died: a majority of the live replicas, else the
 * value the log names last, else the smallest; always one of the values the replicas hold.
 */
class SnapshotSettleRuleTest
{
    private static final SlotSettleRule.CommitLog NO_LOG = (newer, older) -> false;

    private static long settle(final SlotSettleRule.CommitLog log, final long... live)
    {
        return SnapshotSettleRule.INSTANCE.settle(live, live.length, log);
    }

    @Test
    void replicasThatAgreeKeepTheirValue()
    {
        assertEquals(7L, settle(NO_LOG, 7L, 7L));
        assertEquals(7L, settle(NO_LOG, 7L));
    }

    @Test
    void aValueMostLiveReplicasHoldWinsWhateverTheLogSays()
    {
        assertEquals(9L, settle((newer, older) -> newer == 3L, 9L, 3L, 9L));
    }

    @Test
    void withoutAMajorityTheValueTheLogNamesLastWins()
    {
        // 50's committed entry replaced 10: 50 is the newer, though 10 is smaller.
        final Map<Long, Long> replaced = Map.of(50L, 10L);
        final SlotSettleRule.CommitLog log = (newer, older) -> replaced.getOrDefault(newer, -1L) == older;
        assertEquals(50L, settle(log, 10L, 50L));
        assertEquals(50L, settle(log, 50L, 10L));
    }

    @Test
    void aChainOfCommitsIsFollowedToItsEnd()
    {
        final Map<Long, Long> replaced = Map.of(20L, 30L, 5L, 20L);
        final SlotSettleRule.CommitLog log = (newer, older) -> replaced.getOrDefault(newer, -1L) == older;
        // 20 replaced 30 and 5 replaced 20: 5 is the newest, though a larger value came in between.
        assertEquals(5L, settle(log, 30L, 20L, 5L));
    }

    @Test
    void proposalsTheLogDoesNotOrderGoToTheSmallestAsInRuleThree()
    {
        assertEquals(4L, settle(NO_LOG, 8L, 4L));
        // Unsigned order, as SNAPSHOT compares slot values.
        assertEquals(1L, settle(NO_LOG, -1L, 1L));
    }

    @Test
    void aLogThatNamesACycleStillSettlesOnAValueAReplicaHolds()
    {
        final SlotSettleRule.CommitLog cycle = (newer, older) -> true;
        assertEquals(3L, settle(cycle, 6L, 3L));
    }

    @Test
    void aSlotWithNoLiveReplicaCannotBeSettled()
    {
        assertThrows(IllegalArgumentException.class, () -> SnapshotSettleRule.INSTANCE.settle(new long[1], 0, NO_LOG));
    }
}
