package io.dmkv.memnode;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.config.Sizes;

/**
 * Logs how far a memory node is in zeroing its memory before it listens: a start line, a line
 * at most every {@value #PERIOD_MS} ms, and the total time. Clients started meanwhile are
 * refused until the node's ready line.
 */
final class ZeroingProgress implements LongConsumer
{
    private static final Logger LOG = LoggerFactory.getLogger(ZeroingProgress.class);
    private static final long PERIOD_MS = 1000;
    /** Below this, zeroing is quick and its start and end are logged at debug level only. */
    private static final long NOTABLE_BYTES = 256L << 20;

    private final String node;
    private final long total;
    private final long start = System.nanoTime();
    private long lastReport = start;

    ZeroingProgress(final String node, final long total)
    {
        this.node = node;
        this.total = total;
        if (total >= NOTABLE_BYTES)
        {
            LOG.info("{}: zeroing {} of memory before serving", node, Sizes.format(total));
        }
    }

    @Override
    public void accept(final long zeroed)
    {
        final long now = System.nanoTime();
        if (zeroed >= total)
        {
            (total >= NOTABLE_BYTES ? LOG.atInfo() : LOG.atDebug()).log("{}: {} zeroed in {} ms", node, Sizes.format(total), TimeUnit.NANOSECONDS.toMillis(now - start));
        }
        else if (now - lastReport >= TimeUnit.MILLISECONDS.toNanos(PERIOD_MS))
        {
            lastReport = now;
            LOG.info("{}: zeroed {} of {} ({}%)", node, Sizes.format(zeroed), Sizes.format(total), zeroed * 100 / total);
        }
    }
}
