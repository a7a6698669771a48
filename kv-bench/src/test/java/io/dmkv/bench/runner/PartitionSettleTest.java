package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.dmkv.KvAdmin;

/** When a FlexKV run may start: the map has settled on the run's proxies. */
class PartitionSettleTest
{
    private static final Map<String, String> TWO = Map.of("cn-a", "127.0.0.1:1", "cn-b", "127.0.0.1:2");

    private static KvAdmin.Partition p(final int i, final String owner, final String from)
    {
        return new KvAdmin.Partition(i, owner, from, "");
    }

    @Test
    void aMapOnLiveProxiesWithNoHandOverHasSettled()
    {
        assertEquals("cn-a,cn-b,-,", PartitionSettle.settled(List.of(p(0, "cn-a", ""), p(1, "cn-b", ""), p(2, "-", "")),
            TWO, 2), "a partition left one-sided (a memory budget) is settled too");
    }

    @Test
    void aHandOverAnOrphanOrTooFewProxiesHaveNot()
    {
        assertNull(PartitionSettle.settled(List.of(p(0, "cn-a", "loader")), TWO, 2), "hand-over under way");
        assertNull(PartitionSettle.settled(List.of(p(0, "loader", "")), TWO, 2), "owner gone (the closed loader)");
        assertNull(PartitionSettle.settled(List.of(p(0, "cn-a", "")), TWO, 3), "a client process not yet a proxy");
        assertNull(PartitionSettle.settled(List.of(), TWO, 2), "no map yet");
    }
}
