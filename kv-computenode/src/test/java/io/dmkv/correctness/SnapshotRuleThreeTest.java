package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.KvStore;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.ops.BlockingDriver;
import io.dmkv.computenode.replication.SnapshotReplicator;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.VerbBatch;

/**
 * SNAPSHOT's rule 3 with three writers of one slot at r = 3, driven step by step through
 * {@link SnapshotReplicator} so the interleaving is exact. It is the interleaving that
 * {@link SnapshotContentionTest} met under contention (traced there: all writers of a hot key
 * then wait for a primary CAS that never comes, until a helper installs a value whose writer had
 * already abandoned and freed its object):
 * <ol>
 * <li>writer A takes backup 1 (proposal a), writer B takes backup 2 (proposal b &lt; a);</li>
 * <li>writer C, proposing c &lt; b, finds both backups taken: it holds none of them;</li>
 * <li>B decides: no majority, the primary still holds vOld, b is the smallest proposal on the
 * backups: B wins by rule 3 and moves backup 1 to b;</li>
 * <li>C decides before B's primary CAS lands.</li>
 * </ol>
 * C must lose: its value is on no backup, so it was never proposed (rule 3 picks the smallest
 * value the backups hold). Exactly one writer may win a round, and the backups must end with the
 * winner's value.
 */
@Timeout(60)
class SnapshotRuleThreeTest
{
    @Test
    void aWriterHoldingNoBackupNeverWinsByRuleThree()
    {
        try (EmbeddedCluster cluster = Fixtures.cluster(3, 16L << 20, 4L << 20, "local"))
        {
            // A store formats the cluster (tiny subtables); the raw view then works on one empty slot.
            try (KvStore formatter = KvStore.open(Fixtures.small(cluster, 3).build()))
            {
                formatter.put("k", "v");
            }
            try (Fixtures.Raw raw = new Fixtures.Raw(cluster, 3))
            {
                final long subtable = IndexRoot.entrySubtable(new IndexDirectory(raw.view, raw.client).refresh().entries()[0]);
                final int groups = raw.view.descriptor().bucketGroups();
                final long slot = GlobalAddress.add(subtable,
                    Subtable.slotOffset(Subtable.combinedBuckets(groups) - 1, 13));
                final long vOld = raw.read(slot, 0);
                assertEquals(vOld, raw.read(slot, 1));
                assertEquals(vOld, raw.read(slot, 2));
                final long a = vOld + 0x3000;
                final long b = vOld + 0x2000;
                final long c = vOld + 0x1000;

                final SnapshotReplicator writerB = replicator(raw);
                final SnapshotReplicator writerC = replicator(raw);

                // 1. A takes backup 1; B proposes and takes backup 2 only.
                assertEquals(vOld, raw.cas(slot, 1, vOld, a));
                final VerbBatch batchB = new VerbBatch();
                final int firstB = writerB.propose(batchB, slot, vOld, b);
                raw.client.execute(batchB);
                // 2. C proposes and takes nothing.
                final VerbBatch batchC = new VerbBatch();
                final int firstC = writerC.propose(batchC, slot, vOld, c);
                raw.client.execute(batchC);
                assertFalse(batchC.casSucceeded(firstC) || batchC.casSucceeded(firstC + 1), "C holds no backup");

                // 3. B decides: rule 3, b is the smallest proposal.
                final SnapshotReplicator.Round roundB = writerB.newRound();
                final BlockingDriver driver = new BlockingDriver(raw.client);
                roundB.decide(driver, batchB, firstB, slot, vOld, b, () -> { });
                driver.check();
                assertTrue(roundB.won(), "B holds the smallest proposal on the backups");
                assertEquals(1, writerB.stats().rule3());

                // 4. C decides before B's primary CAS.
                final SnapshotReplicator.Round roundC = writerC.newRound();
                roundC.decide(driver, batchC, firstC, slot, vOld, c, () -> { });
                driver.check();
                final boolean cWins = roundC.won();

                // B's primary CAS (its last batch).
                assertEquals(vOld, raw.cas(slot, 0, vOld, b));
                try
                {
                    assertFalse(cWins, "C held no backup, so c was never proposed, yet C decided it won by rule 3: "
                        + writerC.stats() + " — two winners in one round");
                    assertEquals(1, writerC.stats().losses(), writerC.stats().toString());
                    assertEquals(b, raw.read(slot, 1), "backup 1 holds the winner's value");
                    assertEquals(b, raw.read(slot, 2), "backup 2 holds the winner's value");
                }
                finally
                {
                    // Leave the slot as it was, whatever happened.
                    for (int j = 2; j >= 0; j--)
                    {
                        raw.cas(slot, j, raw.read(slot, j), vOld);
                    }
                }
            }
        }
    }

    private static SnapshotReplicator replicator(final Fixtures.Raw raw)
    {
        return new SnapshotReplicator(raw.view, SystemNanoClock.INSTANCE, TimeUnit.SECONDS.toNanos(5),
            TimeUnit.SECONDS.toNanos(10));
    }
}
