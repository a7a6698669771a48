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
 * <p>Each node's share is floor(P / nodes) or one more (the nodes holding most now get the extra
 * ones); each keeps its partitions up to its share, and the rest go, in partition order, to the
 * node furthest below its share (the first by name on a tie), which from an empty map is plain
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
        for (int p = 0; p < n; p++)
        {
            final String pin = current.pin(p);
            if (!pin.isEmpty())
            {
                owner[p] = proxies.containsKey(pin) ? pin : PartitionMap.NONE;
                load.computeIfPresent(owner[p], (k, v) -> v + 1);
            }
        }
        final Map<String, Integer> share = shares(current, proxies, n);
        for (int p = 0; p < n; p++)
        {
            final String now = current.owner(p);
            if (owner[p] == null && load.containsKey(now) && load.get(now) < share.get(now))
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
                int most = Integer.MIN_VALUE;
                for (final Map.Entry<String, Integer> e : load.entrySet())
                {
                    final int below = share.get(e.getKey()) - e.getValue();
                    if (below > most)
                    {
                        most = below;
                        owner[p] = e.getKey();
                    }
                }
                load.computeIfPresent(owner[p], (k, v) -> v + 1);
            }
            next = next.withOwner(p, owner[p], proxies.get(owner[p]));
        }
        return next;
    }

    /** Each proxy's share: floor(P / nodes), one more for the P mod nodes that hold most now. */
    private static Map<String, Integer> shares(final PartitionMap current, final Map<String, String> proxies,
        final int n)
    {
        final Map<String, Integer> share = new LinkedHashMap<>();
        if (proxies.isEmpty())
        {
            return share;
        }
        final Map<String, Integer> held = new LinkedHashMap<>();
        proxies.keySet().forEach(name -> held.put(name, 0));
        for (int p = 0; p < n; p++)
        {
            held.computeIfPresent(current.owner(p), (k, v) -> v + 1);
        }
        final java.util.List<String> byHeld = new java.util.ArrayList<>(held.keySet());
        byHeld.sort((a, b) -> held.get(b) - held.get(a));
        for (int i = 0; i < byHeld.size(); i++)
        {
            share.put(byHeld.get(i), n / proxies.size() + (i < n % proxies.size() ? 1 : 0));
        }
        return share;
    }
}
