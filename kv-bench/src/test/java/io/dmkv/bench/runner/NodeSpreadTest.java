package io.dmkv.bench.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.dmkv.KvStats;

class NodeSpreadTest
{
    @Test
    void eachNodeGetsItsVerbsOfTheIntervalAndItsShare()
    {
        final List<KvStats.Verbs> before = List.of(new KvStats.Verbs(10, 5, 1, 1, 0, 0, 0, 0),
            new KvStats.Verbs(0, 0, 0, 0, 0, 0, 0, 0));
        final List<KvStats.Verbs> after = List.of(new KvStats.Verbs(310, 105, 1, 1, 0, 0, 0, 0),
            new KvStats.Verbs(100, 0, 50, 50, 0, 0, 0, 0));
        assertEquals("verbs per memory node: node 0 400 (67%: 300 READ, 100 WRITE, 0 atomics);"
            + " node 1 200 (33%: 100 READ, 0 WRITE, 100 atomics)", NodeSpread.text(before, after));
        assertEquals("verbs per memory node: node 0 0 (0%: 0 READ, 0 WRITE, 0 atomics)",
            NodeSpread.text(List.of(new KvStats.Verbs(0, 0, 0, 0, 0, 0, 0, 0))));
    }
}
