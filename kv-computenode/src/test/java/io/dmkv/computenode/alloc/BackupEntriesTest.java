package io.dmkv.computenode.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * A release sent to the backups after the primary granted the block again never puts the older
 * state back over the next owner's claim, in whichever order the two land; a backup that missed the
 * claim still gets the release.
 */
@Timeout(120)
class BackupEntriesTest
{
    private static final int REGION = 0;
    private static final int OWNER = 7;
    private static final int NEXT_OWNER = 9;

    @Test
    void aReleaseLandingAfterTheNextClaimLeavesTheClaim()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 4L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final Entry e = new Entry(f.client, view, 3);
            final long claim = BlockAllocationTable.claimed(BlockAllocationTable.entry(0, 0, BlockAllocationTable.FREE, 4),
                OWNER, 1);
            final long released = BlockAllocationTable.released(claim);
            final long next = BlockAllocationTable.claimed(released, NEXT_OWNER, 2);
            e.write(next);
            final int superseded = new BackupEntries(f.client).add(e.backup, e.offset, claim, released).run();
            assertEquals(BlockAllocationTable.toString(next), BlockAllocationTable.toString(e.read()));
            assertEquals(1, superseded);
        }
    }

    @Test
    void aBackupThatMissedTheClaimStillGetsTheRelease()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 4L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final Entry e = new Entry(f.client, view, 5);
            final long before = BlockAllocationTable.entry(0, 0, BlockAllocationTable.FREE, 4);
            final long claim = BlockAllocationTable.claimed(before, OWNER, 1);
            final long handedOver = BlockAllocationTable.handedOver(claim);
            e.write(before);
            assertEquals(0, new BackupEntries(f.client).add(e.backup, e.offset, claim, handedOver).run());
            assertEquals(BlockAllocationTable.toString(handedOver), BlockAllocationTable.toString(e.read()));
            // And from the claim itself, the usual case.
            e.write(claim);
            assertEquals(0, new BackupEntries(f.client).add(e.backup, e.offset, claim, handedOver).run());
            assertEquals(BlockAllocationTable.toString(handedOver), BlockAllocationTable.toString(e.read()));
        }
    }

    /**
     * Two threads race per round on one backup entry, as two clients do: one releases generation g
     * (by {@link BackupEntries}), the other writes the next claim (g + 1) with a plain WRITE, as a
     * block's set-up does. Whatever the order, the entry ends at the claim; with a plain WRITE for
     * the release too, the rounds where the release lands last end at the release.
     */
    @Test
    void racingReleasesAndClaimsEndAtTheNewestState() throws Exception
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 4L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final Entry e = new Entry(f.client, view, 1);
            final int rounds = 400;
            final CyclicBarrier start = new CyclicBarrier(2);
            final long[] claims = new long[rounds];
            long state = BlockAllocationTable.entry(0, 0, BlockAllocationTable.FREE, 0);
            for (int i = 0; i < rounds; i++)
            {
                claims[i] = BlockAllocationTable.claimed(state, OWNER, 1);
                state = BlockAllocationTable.released(claims[i]);
            }
            final List<String> wrong = new ArrayList<>();
            for (int i = 0; i + 1 < rounds; i++)
            {
                e.write(claims[i]);
                final long release = BlockAllocationTable.released(claims[i]);
                final long next = claims[i + 1];
                final BackupEntries backups = new BackupEntries(f.client).add(e.backup, e.offset, claims[i], release);
                final Thread releaser = new Thread(() ->
                {
                    await(start);
                    backups.run();
                }, "releaser");
                releaser.start();
                await(start);
                e.write(next);
                releaser.join(TimeUnit.SECONDS.toMillis(30));
                final long got = e.read();
                if (got != next)
                {
                    wrong.add("round " + i + ": " + BlockAllocationTable.toString(got));
                }
            }
            assertEquals(List.of(), wrong);
        }
    }

    private static void await(final CyclicBarrier barrier)
    {
        try
        {
            barrier.await(30, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** One block's table entry on region 0's backup. */
    private static final class Entry
    {
        final VerbsClient client;
        final RemoteRegion backup;
        final long offset;
        private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Long.BYTES]);

        Entry(final VerbsClient client, final ClusterView view, final int block)
        {
            this.client = client;
            this.backup = view.replica(REGION, 1);
            this.offset = view.batOffset(REGION) + BlockAllocationTable.entryOffset(block);
        }

        synchronized void write(final long entry)
        {
            final UnsafeBuffer bytes = new UnsafeBuffer(new byte[Long.BYTES]);
            bytes.putLong(0, entry);
            final VerbBatch b = new VerbBatch();
            b.write(backup, offset, bytes, 0, Long.BYTES);
            client.execute(b);
        }

        synchronized long read()
        {
            final VerbBatch b = new VerbBatch();
            b.read(backup, offset, buffer, 0, Long.BYTES);
            client.execute(b);
            return buffer.getLong(0);
        }
    }
}
