package io.dmkv.computenode.index;

/**
 * Splits a full subtable (RACE extendible hashing) under the protocol of docs/index-split.md.
 */
public interface SubtableSplitter
{
    /**
     * Splits the subtable that directory entry {@code entry} (read for a key with {@code hash})
     * points at, or waits for a split of it already under way.
     *
     * @return false if it cannot split (maximum global depth, or the index area is full).
     */
    boolean split(long hash, long entry);

    /**
     * A writer whose primary CAS landed on a subtable that was frozen for a split (or already
     * split) re-applies its change where the key lives now.
     */
    void reapply(long hash, long slotAddress, long vOld, long vNew);
}
