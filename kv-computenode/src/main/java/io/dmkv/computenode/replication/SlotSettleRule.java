package io.dmkv.computenode.replication;

/**
 * How a slot whose primary replica was lost (its memory node failed) is settled from the values
 * its live replicas hold, so that the replica promoted to primary and the others agree before
 * any client reads the slot again. The rule must pick a value some live replica holds: every
 * value there is either the last acknowledged one or a later proposal whose writer has not been
 * told it succeeded (docs/recovery.md, "Fail-over").
 *
 * <p>SNAPSHOT wrote every slot of a FUSEE index, and {@link SnapshotSettleRule} follows its
 * rules. A writer that updates all replicas with plain WRITEs (FlexKV's proxy) leaves other
 * disagreements, which the log order of {@link CommitLog} resolves; a protocol with its own
 * rule supplies its own implementation.
 */
@FunctionalInterface
public interface SlotSettleRule
{
    /** What the embedded operation log says about the objects slot values point at. */
    @FunctionalInterface
    interface CommitLog
    {
        /**
         * True if {@code newer} points at a whole object whose committed log entry names
         * {@code older} as the primary value its operation replaced: {@code newer} was written
         * after {@code older}. False when that is not known (no object, not committed, torn).
         */
        boolean replaced(long newer, long older);
    }

    /**
     * The value the slot settles on.
     *
     * @param live  the slot's value on each live replica, the new primary first.
     * @param count how many entries of {@code live} are used (at least 1).
     * @param log   the log order of candidate values.
     * @return one of {@code live[0..count)}.
     */
    long settle(long[] live, int count, CommitLog log);
}
