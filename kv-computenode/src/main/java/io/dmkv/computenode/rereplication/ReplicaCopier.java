package io.dmkv.computenode.rereplication;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.core.address.RegionMap;
import io.dmkv.rdma.FailedNodeChannel;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsClient;

/**
 * Runs one plan of moves (docs/recovery.md, "Re-replication"): publishes the joining replicas,
 * copies the regions while writes go on, seals them (writers hold; every full replica is
 * write-protected, stops granting blocks and re-keys, so nothing lands on it any more), waits a
 * grace for frees already decided to land, takes the last differences, and publishes the map where
 * each joiner is a full replica in the leaving replica's place, the seal gone. A failure leaves the
 * joiners in the map, unsealed if the copier still can: the next run starts their copies again.
 */
public final class ReplicaCopier
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaCopier.class);
    /** Live passes at most before the seal (the last one may still have written a few chunks). */
    private static final int LIVE_PASSES = 4;
    private static final int REFUSALS = 5;

    /** Publishes a map in place of the current one, returning it as published; the map store's CAS. */
    interface Publisher
    {
        RegionMap publish(RegionMap expected, RegionMap next);
    }

    /** What a plan did. */
    public record Report(List<ReplicaPlanner.Move> moves, long bytesCopied, int livePasses, long sealedNanos,
        long totalNanos, RegionMap published)
    {
        @Override
        public String toString()
        {
            return "copied " + moves.size() + " region replica(s) " + moves + ": " + bytesCopied / 1024 + " KiB in "
                + livePasses + " live pass(es); writes held " + TimeUnit.NANOSECONDS.toMillis(sealedNanos) + " ms; "
                + TimeUnit.NANOSECONDS.toMillis(totalNanos) + " ms in all; map epoch " + published.epoch();
        }
    }

    private final VerbsClient client;
    private final Duration grace;
    private final Duration fenceTimeout;
    private volatile String phase = "idle";

    ReplicaCopier(final VerbsClient client, final Duration grace, final Duration fenceTimeout)
    {
        this.client = client;
        this.grace = grace;
        this.fenceTimeout = fenceTimeout;
    }

    /** What the copier does now, for logs and status. */
    String phase()
    {
        return phase;
    }

    /**
     * Runs {@code moves} from {@code current}, whose regions have no joiner yet or have exactly the
     * joiner the move names (a copy restarted).
     */
    Report run(final RegionMap current, final List<ReplicaPlanner.Move> moves, final Publisher publisher)
    {
        final long start = System.nanoTime();
        RegionMap withJoiners = current;
        for (final ReplicaPlanner.Move m : moves)
        {
            withJoiners = withJoiners.joiner(m.region()) == m.node() ? withJoiners.withSealed(m.region(), false)
                : withJoiners.withJoiner(m.region(), m.node(), m.physical());
        }
        RegionMap published = publisher.publish(current, withJoiners);
        // Joining nodes re-key the regions they are given: learn those keys, then copy.
        final RegionCopy[] copies = new RegionCopy[moves.size()];
        int livePasses = 0;
        phase = "copying";
        int changed = Integer.MAX_VALUE;
        for (int pass = 0; pass < LIVE_PASSES && changed > moves.size(); pass++)
        {
            changed = copyPass(published, moves, copies);
            livePasses++;
        }
        phase = "sealing";
        final RegionMap sealedMap = transform(published, moves, (m, g) -> m.withSealed(g, true));
        final List<RemoteRegion> holders = fullReplicas(published, moves);
        final long[] keysBefore = keys(holders);
        final long sealedAt = System.nanoTime();
        published = publisher.publish(published, sealedMap);
        try
        {
            awaitFence(published, holders, keysBefore);
            phase = "last pass";
            sleep(grace);
            copyPass(published, moves, copies);
            // Nothing landed on a full replica since the fence (the nodes enforce the seal), so each
            // joiner holds its primary's bytes and can take the leaving replica's place, the primary's
            // too: the backups keep what they held, as if the leaving node had stayed.
            final List<RemoteRegion> leaving = leavingReplicas(published, moves);
            final long[] leavingKeys = keys(leaving);
            RegionMap next = published;
            for (final ReplicaPlanner.Move m : moves)
            {
                next = next.withJoinerPromoted(m.region(), m.leaving());
            }
            if (!leaving.isEmpty())
            {
                // Promoted but still sealed until every leaving replica re-keyed: a reader whose map is
                // still the sealed one would otherwise read a leaving replica, frozen at the seal, after
                // writes resumed on the new replicas (docs/recovery.md, "Leaving replicas").
                phase = "promoting";
                published = publisher.publish(published, transform(next, moves, (m, g) -> m.withSealed(g, true)));
                awaitLeft(published, leaving, leavingKeys);
                next = transform(published, moves, (m, g) -> m.withSealed(g, false));
            }
            published = publisher.publish(published, next);
            final long sealed = System.nanoTime() - sealedAt;
            long bytes = 0;
            for (final RegionCopy c : copies)
            {
                bytes += c.bytesWritten();
            }
            phase = "idle";
            return new Report(List.copyOf(moves), bytes, livePasses, sealed, System.nanoTime() - start, published);
        }
        catch (final RuntimeException e)
        {
            phase = "failed";
            try
            {
                publisher.publish(published, transform(published, moves, (m, g) -> m.withSealed(g, false)));
            }
            catch (final RuntimeException unseal)
            {
                e.addSuppressed(unseal);
            }
            throw e;
        }
    }

    private interface RegionChange
    {
        RegionMap apply(RegionMap map, int region);
    }

    private static RegionMap transform(final RegionMap map, final List<ReplicaPlanner.Move> moves,
        final RegionChange change)
    {
        RegionMap next = map;
        for (final ReplicaPlanner.Move m : moves)
        {
            next = change.apply(next, m.region());
        }
        return next;
    }

    /** One pass over every move's region; a refusal (a re-keyed region) learns the keys and passes again. */
    private int copyPass(final RegionMap map, final List<ReplicaPlanner.Move> moves, final RegionCopy[] copies)
    {
        return RefusedKeys.retrying(() -> client.refreshKeys(n -> involved(map, moves).contains(n)), REFUSALS,
            "a copy pass", () ->
            {
                int changed = 0;
                for (int i = 0; i < moves.size(); i++)
                {
                    final int g = moves.get(i).region();
                    final RemoteRegion primary = client.channel(map.primary(g)).region(map.physical(g, 0));
                    final RemoteRegion joiner = client.channel(map.joiner(g)).region(map.joinerPhysical(g));
                    if (copies[i] == null)
                    {
                        copies[i] = new RegionCopy(client, primary.length());
                    }
                    changed += copies[i].pass(primary, joiner);
                }
                return changed;
            });
    }

    private static Set<Integer> involved(final RegionMap map, final List<ReplicaPlanner.Move> moves)
    {
        final Set<Integer> nodes = new HashSet<>();
        for (final ReplicaPlanner.Move m : moves)
        {
            for (final int n : map.replicas(m.region()))
            {
                nodes.add(n);
            }
            nodes.add(m.node());
        }
        return nodes;
    }

    private List<RemoteRegion> fullReplicas(final RegionMap map, final List<ReplicaPlanner.Move> moves)
    {
        final List<RemoteRegion> out = new ArrayList<>();
        for (final ReplicaPlanner.Move m : moves)
        {
            for (int j = 0; j < map.replicaCount(m.region()); j++)
            {
                out.add(client.channel(map.replica(m.region(), j)).region(map.physical(m.region(), j)));
            }
        }
        return out;
    }

    /** The replicas that leave their regions when the moves are promoted (none for re-replication). */
    private List<RemoteRegion> leavingReplicas(final RegionMap map, final List<ReplicaPlanner.Move> moves)
    {
        final List<RemoteRegion> out = new ArrayList<>();
        for (final ReplicaPlanner.Move m : moves)
        {
            if (m.leaving() >= 0 && map.hasReplicaOn(m.region(), m.leaving())
                && !(client.channel(m.leaving()) instanceof FailedNodeChannel))
            {
                out.add(client.channel(m.leaving()).region(map.physicalOn(m.region(), m.leaving())));
            }
        }
        return out;
    }

    private static long[] keys(final List<RemoteRegion> regions)
    {
        final long[] keys = new long[regions.size()];
        for (int i = 0; i < keys.length; i++)
        {
            keys[i] = regions.get(i).key();
        }
        return keys;
    }

    /**
     * Waits until every region of {@code holders} has re-keyed: the full replicas of the sealed
     * regions (a node write-protects a sealed replica and stops granting blocks in it before it
     * re-keys it, so from then on nothing lands on it, whatever keys a writer holds, until the map
     * lifts the seal). A node that cannot be asked, or a fence that takes longer than the timeout,
     * fails the copy (the seal is lifted and the copy starts again later).
     */
    private void awaitFence(final RegionMap map, final List<RemoteRegion> holders, final long[] before)
    {
        if (!fenced(holders, before, false))
        {
            throw new IllegalStateException("the replicas of the sealed regions did not re-key within "
                + fenceTimeout.toMillis() + " ms of map epoch " + map.epoch() + ": the seal is lifted and the copy"
                + " starts again later");
        }
    }

    /**
     * Waits until every replica a promotion left has re-keyed the physical region it left (it then
     * refuses every verb of the maps that named it), at most the fence timeout. A node that cannot be
     * asked is asked again until then. Past it the seal may be lifted anyway: the timeout is longer
     * than the map lease, so every client has confirmed a map that no longer names the leaving replica.
     */
    private void awaitLeft(final RegionMap map, final List<RemoteRegion> leaving, final long[] before)
    {
        if (!fenced(leaving, before, true))
        {
            LOG.warn("the replicas leaving the promoted regions did not re-key within {} ms of map epoch {}; the"
                + " seal is lifted (every client's map lease has run out on the maps that named them)",
                fenceTimeout.toMillis(), map.epoch());
        }
    }

    /** True once every region of {@code holders} has a key other than {@code before}'s; false at the timeout. */
    private boolean fenced(final List<RemoteRegion> holders, final long[] before, final boolean patient)
    {
        final long deadline = System.nanoTime() + fenceTimeout.toNanos();
        final Set<VerbsChannel> nodes = new HashSet<>();
        for (final RemoteRegion r : holders)
        {
            nodes.add(r.channel());
        }
        while (true)
        {
            try
            {
                client.refreshKeys(n -> nodes.contains(client.channel(n)));
                boolean fenced = true;
                for (int i = 0; i < before.length; i++)
                {
                    fenced &= holders.get(i).key() != before[i];
                }
                if (fenced)
                {
                    return true;
                }
            }
            catch (final RuntimeException e)
            {
                if (!patient)
                {
                    throw e;
                }
                LOG.debug("asking for the keys of the leaving replicas failed (asked again): {}", e.toString());
            }
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            sleep(Duration.ofMillis(20));
        }
    }

    private static void sleep(final Duration d)
    {
        try
        {
            Thread.sleep(d.toMillis());
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while copying regions", e);
        }
    }
}
