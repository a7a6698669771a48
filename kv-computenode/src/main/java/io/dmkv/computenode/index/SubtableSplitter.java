package io.dmkv.computenode.index;

import io.dmkv.computenode.ops.OpDriver;

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
     * Waits until no split is under way (the root is unlocked) and refreshes the directory. A
     * writer whose fence saw a frozen or no longer covering bucket header calls it before it
     * looks where its key lives now.
     */
    void awaitSplit();

    /**
     * {@link #awaitSplit()} without holding a thread: polls the root on the operation's timer
     * until no split is under way, refreshes the directory, then runs {@code then}.
     */
    void awaitSplit(OpDriver driver, Runnable then);
}
