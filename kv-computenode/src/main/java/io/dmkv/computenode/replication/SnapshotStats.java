package io.dmkv.computenode.replication;

import java.util.concurrent.atomic.LongAdder;

/** How SNAPSHOT decisions went: which rule made each winner, how many lost, how often a loser helped. */
public final class SnapshotStats
{
    final LongAdder rule1 = new LongAdder();
    final LongAdder rule2 = new LongAdder();
    final LongAdder rule3 = new LongAdder();
    final LongAdder losses = new LongAdder();
    final LongAdder helps = new LongAdder();
    final LongAdder primaryOnly = new LongAdder();

    /** Winners because every backup took their value. */
    public long rule1()
    {
        return rule1.sum();
    }

    /** Winners by a majority of the backups (r >= 4), after fixing the dissenters. */
    public long rule2()
    {
        return rule2.sum();
    }

    /** Winners with no majority for anyone, by holding the smallest proposed value. */
    public long rule3()
    {
        return rule3.sum();
    }

    public long losses()
    {
        return losses.sum();
    }

    /** Losers that completed a stalled winner's primary CAS themselves. */
    public long helps()
    {
        return helps.sum();
    }

    /** Decisions with r = 1, made by the primary CAS alone. */
    public long primaryOnly()
    {
        return primaryOnly.sum();
    }

    @Override
    public String toString()
    {
        return "snapshot{rule1=" + rule1() + ", rule2=" + rule2() + ", rule3=" + rule3() + ", losses=" + losses()
            + ", helps=" + helps() + ", primaryOnly=" + primaryOnly() + "}";
    }
}
