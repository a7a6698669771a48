package io.dmkv.rdma;

/**
 * What the current thread posted, through any client: plain fields written only by their
 * thread, so a workload can attribute round trips, verbs and bytes to each operation it runs
 * by reading them before and after, without allocation or contention.
 */
public final class ThreadCounters
{
    public long roundTrips;
    public long verbs;
    public long bytesOut;
    public long bytesIn;
    public long rpcs;

    /** The calling thread's counters. */
    public static ThreadCounters current()
    {
        return VerbThread.current().counters;
    }

    /**
     * Makes {@code counters} the calling thread's until the next swap, and returns the ones it
     * replaces: a thread that runs one operation for another (a proxied operation on a router
     * thread, while its caller waits) counts into the caller's.
     */
    public static ThreadCounters swap(final ThreadCounters counters)
    {
        final VerbThread t = VerbThread.current();
        final ThreadCounters previous = t.counters;
        t.counters = counters;
        return previous;
    }

    void count(final VerbBatch batch)
    {
        roundTrips++;
        verbs += batch.size();
        bytesOut += batch.bytesOut();
        bytesIn += batch.bytesIn();
    }

    /** Counts one RPC of {@code requestBytes} (a round trip), for channels used without a {@link VerbsClient}. */
    public void countRpc(final int requestBytes)
    {
        rpcs++;
        roundTrips++;
        bytesOut += requestBytes;
    }
}
