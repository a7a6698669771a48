package io.dmkv.computenode.proxy;

import java.util.LinkedHashMap;
import java.util.Map;

import io.dmkv.core.cluster.PartitionMap;

/**
 * FlexKV I's static assignment: partitions spread evenly over the live proxy-enabled compute
 * nodes, moving as few as possible when one joins or leaves. A pinned partition
 * ({@code kv proxy assign}) goes to its pin (one-sided if the pinned node is not a live proxy).
 * With no proxy, every partition is one-sided.
 *
 * <p>Each node keeps its partitions up to ceil(P / nodes); the rest go, in partition order, to
 * the node holding fewest (the first by name on a tie), which from an empty map is plain
 * round-robin.
 */
public final class BalancedAssignment implements PartitionAssignment
{
    @Override
    public PartitionMap assign(final PartitionMap current, final Map<String, String> proxies)
    {
        final int n = current.partitions();
        final String[] owner = new String[n];
        final Map<String, Integer> load = new LinkedHashMap<>();
        proxies.keySet().forEach(name -> load.put(name, 0));
        final int cap = proxies.isEmpty() ? 0 : (n + proxies.size() - 1) / proxies.size();
        for (int p = 0; p < n; p++)
        {
            final String pin = current.pin(p);
            if (!pin.isEmpty())
            {
                owner[p] = proxies.containsKey(pin) ? pin : PartitionMap.NONE;
                load.computeIfPresent(owner[p], (k, v) -> v + 1);
            }
        }
        for (int p = 0; p < n; p++)
        {
            final String now = current.owner(p);
            if (owner[p] == null && load.containsKey(now) && load.get(now) < cap)
            {
                owner[p] = now;
                load.merge(now, 1, Integer::sum);
            }
        }
        PartitionMap next = current;
        for (int p = 0; p < n; p++)
        {
            if (owner[p] == null)
            {
                owner[p] = PartitionMap.NONE;
                int fewest = Integer.MAX_VALUE;
                for (final Map.Entry<String, Integer> e : load.entrySet())
                {
                    if (e.getValue() < fewest)
                    {
                        fewest = e.getValue();
                        owner[p] = e.getKey();
                    }
                }
                load.computeIfPresent(owner[p], (k, v) -> v + 1);
            }
            next = next.withOwner(p, owner[p], proxies.get(owner[p]));
        }
        return next;
    }
}
