package io.dmkv.bench.runner;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;

/**
 * Waits, before a FlexKV run starts, until the partition map has settled on the run's compute
 * nodes: at least as many live proxies as client processes, no hand-over under way, no partition
 * left with a proxy that is gone (the loader, which closed), and the same map twice in a row
 * more than one partition-manager period apart. Otherwise the run would measure the hand-over
 * from the loader rather than FlexKV's steady state (FUSEE mode has nothing to wait for).
 */
public final class PartitionSettle
{
    /** Longer than the partition manager's period (500 ms), so two equal reads span a step of it. */
    private static final Duration STABLE = Duration.ofMillis(700);

    private PartitionSettle()
    {
    }

    /**
     * Waits until the map of {@code store}'s cluster has settled on at least {@code proxies}
     * proxies, or {@code timeout} has passed (then says so on {@code out} and returns false).
     */
    public static boolean await(final KvConfig store, final int proxies, final Duration timeout, final PrintWriter out)
        throws InterruptedException
    {
        final Properties p = store.toProperties();
        p.setProperty("dmkv.proxy.enabled", "false");
        final long deadline = System.nanoTime() + timeout.toNanos();
        try (KvAdmin admin = KvAdmin.open(KvConfig.fromProperties(p)))
        {
            String previous = null;
            while (System.nanoTime() - deadline < 0)
            {
                final String now = settled(admin.partitions(), admin.proxies(), proxies);
                if (now != null && now.equals(previous))
                {
                    return true;
                }
                previous = now;
                Thread.sleep(STABLE.toMillis());
            }
        }
        out.printf(Locale.ROOT, "warning: the partition map did not settle on %d proxies within %d s; running anyway%n",
            proxies, timeout.toSeconds());
        out.flush();
        return false;
    }

    /**
     * The map as a string if it has settled on at least {@code wanted} of {@code live} proxies,
     * else null.
     */
    static String settled(final List<KvAdmin.Partition> partitions, final Map<String, String> live, final int wanted)
    {
        if (live.size() < wanted || partitions.isEmpty())
        {
            return null;
        }
        final StringBuilder sb = new StringBuilder();
        for (final KvAdmin.Partition part : partitions)
        {
            final boolean handover = part.handoverFrom() != null && !part.handoverFrom().isEmpty();
            final boolean orphan = !"-".equals(part.owner()) && !live.containsKey(part.owner());
            if (handover || orphan)
            {
                return null;
            }
            sb.append(part.owner()).append(',');
        }
        return sb.toString();
    }
}
