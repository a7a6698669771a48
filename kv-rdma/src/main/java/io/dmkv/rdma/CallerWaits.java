package io.dmkv.rdma;

/**
 * Marks the current thread, for the length of a blocking call, as one that waits for what it
 * posts: its posts may then do their round trips on the thread itself ({@link InlineLane})
 * instead of handing them to a network thread and parking until one hands the answer back. A
 * post from any other thread never blocks. Calls nest; each {@link #begin} needs its
 * {@link #end}, in a {@code finally}. The state is the thread's {@link VerbThread}, whose
 * methods a caller that holds it uses instead.
 */
public final class CallerWaits
{
    private CallerWaits()
    {
    }

    /** From now on, until {@link #end}, this thread waits for what it posts. */
    public static void begin()
    {
        VerbThread.current().beginWaiting();
    }

    public static void end()
    {
        VerbThread.current().endWaiting();
    }

    /** True inside {@link #begin}/{@link #end} on this thread. */
    public static boolean active()
    {
        return VerbThread.current().waits();
    }
}
