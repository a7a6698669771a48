package io.dmkv.computenode.proxy;

import java.util.Map;

import io.dmkv.core.cluster.PartitionMap;

/**
 * Who proxies which partition: the swappable policy of the partition manager (docs/flexkv.md).
 * FlexKV I assigns statically ({@link BalancedAssignment}); FlexKV II's hotness balancing
 * ({@link RankAwareAssignment}) weighs the partitions' hotness too.
 */
@FunctionalInterface
public interface PartitionAssignment
{
    /**
     * The map with every partition's owner decided.
     *
     * @param current the map now (owners, hand-overs under way, pins).
     * @param proxies the live proxy-enabled compute nodes: member name to proxy endpoint, by name.
     */
    PartitionMap assign(PartitionMap current, Map<String, String> proxies);

    /**
     * The map with every partition's owner decided, knowing the partitions' hotness; a policy
     * that does not weigh hotness ignores it.
     *
     * @param hotness     operations per second by partition, summed over the compute nodes.
     * @param period      the number of hotness periods the manager has ended so far.
     * @param periodEnded true on the manager's first step of a new period (when a policy may
     *                    decide a rebalance by hotness).
     */
    default PartitionMap assign(final PartitionMap current, final Map<String, String> proxies, final double[] hotness,
        final long period, final boolean periodEnded)
    {
        return assign(current, proxies);
    }
}
