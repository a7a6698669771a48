package io.dmkv.computenode.proxy;

import java.util.function.UnaryOperator;

import io.dmkv.core.cluster.ClusterMaps;
import io.dmkv.core.cluster.CoordinationException;
import io.dmkv.core.cluster.LeaderElection;
import io.dmkv.core.cluster.MapName;
import io.dmkv.core.cluster.PartitionMap;
import io.dmkv.core.cluster.StaleMapException;
import io.dmkv.core.cluster.VersionedMap;

/**
 * One change of the partition map in the coordinator: read, change, write at the next epoch
 * naming the version read, again from the top when another member wrote first. Proxies write
 * their hand-over steps, the leader its assignments (checked against its leader epoch), a client
 * the end of {@link PartitionMap#isFresh()}.
 */
public final class PartitionMapUpdate
{
    private static final int ATTEMPTS = 50;

    private PartitionMapUpdate()
    {
    }

    /**
     * Applies {@code change} to the current map.
     *
     * @param leader the leader's token for a leader-only write, or null.
     * @return the map now in the coordinator (unchanged if {@code change} changed nothing).
     */
    public static PartitionMap apply(final ClusterMaps maps, final LeaderElection.Token leader,
        final UnaryOperator<PartitionMap> change)
    {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++)
        {
            final VersionedMap read = maps.read(MapName.PARTITIONS).orElseThrow(
                () -> new CoordinationException("the cluster has no partition map"));
            final PartitionMap current = PartitionMap.decode(read.payload());
            final PartitionMap next = change.apply(current);
            if (next.equals(current))
            {
                return current;
            }
            try
            {
                if (leader == null)
                {
                    maps.write(read, read.epoch() + 1, next.encode());
                }
                else
                {
                    maps.writeAsLeader(leader, read, read.epoch() + 1, next.encode());
                }
                return next;
            }
            catch (final StaleMapException e)
            {
                Thread.onSpinWait();
            }
        }
        throw new CoordinationException("the partition map changed under " + ATTEMPTS + " attempts to update it");
    }
}
