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
    final LongAdder fenced = new LongAdder();
    final LongAdder withdrawn = new LongAdder();

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

    /** Losers whose wait ended because the slot's subtable split under them (they redo the operation). */
    public long fenced()
    {
        return fenced.sum();
    }

    /** Writers whose value a split stranded in a subtable that no longer covers their key (they redo). */
    public long withdrawn()
    {
        return withdrawn.sum();
    }

    @Override
    public String toString()
    {
        return "snapshot{rule1=" + rule1() + ", rule2=" + rule2() + ", rule3=" + rule3() + ", losses=" + losses()
            + ", helps=" + helps() + ", primaryOnly=" + primaryOnly()
            + ", fenced=" + fenced() + ", withdrawn=" + withdrawn() + "}";
    }
}
