package io.dmkv.computenode.alloc;

import java.util.Arrays;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * Moves block-table entries forward on the backups, never back (docs/memory.md, "Backups of the
 * block table"). A release or hand-over changes the entry on the primary first, and from that
 * moment the primary may grant the block to another client, whose claim then reaches the backups
 * on its own connection. A plain WRITE of the released entry that lands on a backup after that
 * claim would put the older state back: the backup would show the block free while a client owns
 * it, and a fail-over or copy that promotes it would grant the block twice. So each entry goes to a
 * backup as a CAS from the state it replaces; a CAS that finds an older state than the one wanted
 * (the claim never reached that backup) is tried again from what it found, and one that finds the
 * wanted or a later state is done. Not thread-safe; one instance per call site.
 */
public final class BackupEntries
{
    private static final Logger LOG = LoggerFactory.getLogger(BackupEntries.class);

    /** Rounds of CASes: each round after the first needs an older state than the last one found. */
    static final int ROUNDS = 8;

    private final VerbsClient client;
    private RemoteRegion[] regions = new RemoteRegion[16];
    private long[] offsets = new long[16];
    private long[] expected = new long[16];
    private long[] desired = new long[16];
    private int size;

    public BackupEntries(final VerbsClient client)
    {
        this.client = client;
    }

    /** Asks for the entry at {@code offset} of {@code backup} to go from {@code from} to {@code to}. */
    public BackupEntries add(final RemoteRegion backup, final long offset, final long from, final long to)
    {
        if (size == regions.length)
        {
            regions = Arrays.copyOf(regions, size * 2);
            offsets = Arrays.copyOf(offsets, size * 2);
            expected = Arrays.copyOf(expected, size * 2);
            desired = Arrays.copyOf(desired, size * 2);
        }
        regions[size] = backup;
        offsets[size] = offset;
        expected[size] = from;
        desired[size] = to;
        size++;
        return this;
    }

    /**
     * CASes every entry asked for, blocking; then none is pending.
     *
     * @return the entries left behind a later state that someone else wrote (not an error: that
     *     state supersedes this one).
     * @throws io.dmkv.rdma.RemoteAccessException and the like as {@link VerbsClient#execute} does
     *     (nothing is pending then): a refused batch may have landed in part, and adding and running
     *     the same entries again is safe.
     */
    public int run()
    {
        try
        {
            int superseded = 0;
            for (int round = 0; round < ROUNDS && size > 0; round++)
            {
                superseded += round();
            }
            if (size > 0)
            {
                LOG.warn("{} block-table entries on backups kept changing under {} rounds of CAS; left as they are",
                    size, ROUNDS);
            }
            return superseded;
        }
        finally
        {
            clear();
        }
    }

    /** One CAS per pending entry; keeps those that found an older state, from that state. */
    private int round()
    {
        int superseded = 0;
        int kept = 0;
        final VerbBatch b = new VerbBatch();
        for (int first = 0; first < size; first += VerbRunner.MAX_VERBS)
        {
            final int end = Math.min(size, first + VerbRunner.MAX_VERBS);
            b.reset();
            for (int k = first; k < end; k++)
            {
                b.cas(regions[k], offsets[k], expected[k], desired[k]);
            }
            client.execute(b);
            for (int k = first; k < end; k++)
            {
                final long found = b.result(k - first);
                if (found == expected[k] || found == desired[k])
                {
                    continue;
                }
                if (!BlockAllocationTable.isBefore(found, desired[k]))
                {
                    superseded++;
                    continue;
                }
                // An older state than expected: a claim or release that never reached this backup.
                regions[kept] = regions[k];
                offsets[kept] = offsets[k];
                expected[kept] = found;
                desired[kept] = desired[k];
                kept++;
            }
        }
        size = kept;
        return superseded;
    }

    /** Drops what is pending. */
    private void clear()
    {
        Arrays.fill(regions, 0, size, null);
        size = 0;
    }
}
