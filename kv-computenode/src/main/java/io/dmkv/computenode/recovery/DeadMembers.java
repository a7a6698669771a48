package io.dmkv.computenode.recovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.agrona.concurrent.NanoClock;

import io.dmkv.computenode.cluster.CoordinatedCluster;

/**
 * What the recovery and fail-over agents share: only the live client with the lowest id acts,
 * and it acts on a member (a client, a memory node) only once it has seen it dead for a settle
 * time, so the member's last operations have ended. Not thread-safe: one agent's thread uses it.
 */
public final class DeadMembers
{
    private final NanoClock clock;
    private final long settleNs;
    private final Map<Integer, Long> seenDead = new HashMap<>();

    DeadMembers(final NanoClock clock, final long settleNs)
    {
        this.clock = clock;
        this.settleNs = settleNs;
    }

    /** True if {@code cluster}'s client is the live client with the lowest id, the one that acts. */
    public static boolean actsFor(final CoordinatedCluster cluster)
    {
        final List<Integer> live = cluster.liveClientIds();
        return !live.isEmpty() && live.get(0) == cluster.clientId();
    }

    /** Of the members dead now, those seen dead for the settle time (forgets those alive again). */
    List<Integer> deadLongEnough(final Collection<Integer> dead)
    {
        final long now = clock.nanoTime();
        seenDead.keySet().retainAll(dead);
        final List<Integer> out = new ArrayList<>();
        for (final int id : dead)
        {
            if (now - seenDead.computeIfAbsent(id, k -> now) >= settleNs)
            {
                out.add(id);
            }
        }
        return out;
    }

    /** Forgets {@code id} (acted on). */
    void forget(final int id)
    {
        seenDead.remove(id);
    }
}
