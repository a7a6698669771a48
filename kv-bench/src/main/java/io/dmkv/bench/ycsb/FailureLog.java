package io.dmkv.bench.ycsb;

import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Logs the first few failed operations of a binding with their cause. YCSB only counts
 * statuses, so without this a run full of errors would not say why; with every failure logged,
 * a dead server would flood the console.
 */
public final class FailureLog
{
    private final Logger log;
    private final int limit;
    private final AtomicLong failures = new AtomicLong();

    /** Logs the first {@code limit} failures to {@code log}. */
    public FailureLog(final Logger log, final int limit)
    {
        this.log = log;
        this.limit = limit;
    }

    /** Counts a failure of {@code op} on {@code key}, and logs it while under the limit. */
    public void failed(final String op, final String key, final Throwable cause)
    {
        final long n = failures.incrementAndGet();
        if (n <= limit)
        {
            log.warn("{} {} failed: {}{}", op, key.length() <= 64 ? key : key.substring(0, 64) + "...", cause.toString(),
                n == limit ? " (further failures are only counted in YCSB's Return= lines)" : "");
        }
    }

    /** Failures counted so far. */
    public long failures()
    {
        return failures.get();
    }
}
