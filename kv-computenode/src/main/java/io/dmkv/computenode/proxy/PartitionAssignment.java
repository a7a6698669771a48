package io.dmkv.computenode.proxy;

import java.util.Map;

import io.dmkv.core.cluster.PartitionMap;

/**
 * Who proxies which partition: the swappable policy of the partition manager (docs/flexkv.md).
 * FlexKV I assigns statically ({@link BalancedAssignment}); FlexKV II's hotness balancing is
 * another implementation.
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
}
