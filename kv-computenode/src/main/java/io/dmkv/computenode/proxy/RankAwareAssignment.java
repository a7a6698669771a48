package io.dmkv.computenode.proxy;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.PartitionMap;

/**
 * FlexKV II's assignment (docs/flexkv.md §7): {@link BalancedAssignment} whenever the map must
 * change anyway (a proxy joined or left, an owner is gone, a pin changed), and at the end of a
 * hotness period, when the busiest proxy's load passes {@code threshold} times the mean, the
 * {@link RankAwareRule}, made only if it lowers max/mean load by more than {@code hysteresis},
 * no hand-over is under way, and {@value #COOLDOWN_PERIODS} periods passed since the last one.
 * A proxy's load is the sum of the hotness of the partitions it owns.
 */
public final class RankAwareAssignment implements PartitionAssignment
{
    /** Periods between two rebalances by hotness, so hand-overs end and hotness settles first. */
    static final int COOLDOWN_PERIODS = 2;
    private static final Logger LOG = LoggerFactory.getLogger(RankAwareAssignment.class);

    private final BalancedAssignment structural = new BalancedAssignment();
    private final double threshold;
    private final double hysteresis;
    private long lastRebalance = Long.MIN_VALUE / 2;
    private long rebalances;

    public RankAwareAssignment(final double threshold, final double hysteresis)
    {
        this.threshold = threshold;
        this.hysteresis = hysteresis;
    }

    @Override
    public PartitionMap assign(final PartitionMap current, final Map<String, String> proxies)
    {
        return structural.assign(current, proxies);
    }

    @Override
    public synchronized PartitionMap assign(final PartitionMap current, final Map<String, String> proxies,
        final double[] hotness, final long period, final boolean periodEnded)
    {
        if (needsStructure(current, proxies.keySet()))
        {
            final PartitionMap fixed = structural.assign(current, proxies);
            if (!fixed.equals(current))
            {
                return fixed;
            }
        }
        if (!periodEnded || period - lastRebalance < COOLDOWN_PERIODS || handingOver(current)
            || hotness.length != current.partitions())
        {
            return current;
        }
        final Set<String> names = new TreeSet<>(proxies.keySet());
        final String[] now = new String[current.partitions()];
        for (int p = 0; p < now.length; p++)
        {
            now[p] = current.owner(p);
        }
        final double before = RankAwareRule.imbalance(now, names, hotness);
        if (before <= threshold)
        {
            return current;
        }
        final String[] plan = RankAwareRule.plan(current, names, hotness);
        final double after = RankAwareRule.imbalance(plan, names, hotness);
        if (before - after <= hysteresis)
        {
            LOG.debug("imbalance {} over {}, but the rank-aware plan reaches only {}: no rebalance", before, threshold,
                after);
            return current;
        }
        PartitionMap next = current;
        int moved = 0;
        for (int p = 0; p < plan.length; p++)
        {
            if (!plan[p].equals(now[p]))
            {
                next = next.withOwner(p, plan[p], proxies.get(plan[p]));
                moved++;
            }
        }
        lastRebalance = period;
        rebalances++;
        LOG.info("rebalancing by hotness: max/mean load {} -> {}, {} partitions move", String.format("%.2f", before),
            String.format("%.2f", after), moved);
        return next;
    }

    /** Rebalances by hotness decided so far (a decision whose map write was retried counts once per try). */
    public synchronized long rebalances()
    {
        return rebalances;
    }

    /** True when the static rule must act: an owner is not a live proxy, or a pin is not followed. */
    private static boolean needsStructure(final PartitionMap m, final Set<String> proxies)
    {
        for (int p = 0; p < m.partitions(); p++)
        {
            final String pin = m.pin(p);
            final String owner = m.owner(p);
            if (pin.isEmpty() ? !proxies.contains(owner) && !proxies.isEmpty() || proxies.isEmpty()
                && !PartitionMap.NONE.equals(owner) : !owner.equals(proxies.contains(pin) ? pin : PartitionMap.NONE))
            {
                return true;
            }
        }
        return !proxies.isEmpty() && !proxies.stream().allMatch(name -> owns(m, name));
    }

    /** True when {@code name} owns at least one partition (a proxy that owns none has just joined). */
    private static boolean owns(final PartitionMap m, final String name)
    {
        for (int p = 0; p < m.partitions(); p++)
        {
            if (m.owner(p).equals(name))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean handingOver(final PartitionMap m)
    {
        for (int p = 0; p < m.partitions(); p++)
        {
            if (!m.settled(p))
            {
                return true;
            }
        }
        return false;
    }
}
