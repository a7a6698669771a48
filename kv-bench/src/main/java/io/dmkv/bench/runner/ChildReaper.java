package io.dmkv.bench.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The child processes of this JVM that must not outlive it (memory-node daemons, the coordinator,
 * client processes): a shutdown hook ends those still running when the JVM stops, by Ctrl-C,
 * SIGTERM or the end of {@code main}. Children also stop by themselves when their stdin closes,
 * which covers a parent killed with SIGKILL.
 */
public final class ChildReaper
{
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    /** Ended after the others (a coordinator: its members would otherwise log its loss while they stop). */
    private static final Set<Process> LAST = ConcurrentHashMap.newKeySet();

    static
    {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildReaper::reapAll, "dmkv-child-reaper"));
    }

    private ChildReaper()
    {
    }

    /** Ends {@code p} when this JVM stops, unless it has ended before; returns it. */
    public static Process watch(final Process p)
    {
        return watch(p, LIVE);
    }

    /** As {@link #watch(Process)}, ending {@code p} only once the others have ended (a coordinator). */
    public static Process watchLast(final Process p)
    {
        return watch(p, LAST);
    }

    private static Process watch(final Process p, final Set<Process> set)
    {
        set.add(p);
        p.onExit().thenRun(() -> set.remove(p));
        return p;
    }

    /** Children still running (for tests and progress lines). */
    public static int live()
    {
        return (int)(LIVE.stream().filter(Process::isAlive).count() + LAST.stream().filter(Process::isAlive).count());
    }

    /** Asks every live child to stop, and kills those that have not within 5 s; then the same for the last ones. */
    static void reapAll()
    {
        reap(new ArrayList<>(LIVE));
        reap(new ArrayList<>(LAST));
    }

    private static void reap(final List<Process> all)
    {
        all.forEach(Process::destroy);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (final Process p : all)
        {
            try
            {
                if (!p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS))
                {
                    p.destroyForcibly();
                }
            }
            catch (final InterruptedException e)
            {
                p.destroyForcibly();
            }
        }
    }
}
