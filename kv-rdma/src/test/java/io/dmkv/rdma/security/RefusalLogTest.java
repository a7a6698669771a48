package io.dmkv.rdma.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.Test;

class RefusalLogTest
{
    private static final long PERIOD_NS = TimeUnit.SECONDS.toNanos(60);

    private final CapturingLogger logger = new CapturingLogger("refusals");
    private final CachedNanoClock clock = new CachedNanoClock();
    private final RefusalLog log = new RefusalLog(logger, PERIOD_NS, clock);

    @Test
    void manyFailuresOfOneKindInAPeriodLogOnceAndTheNextPeriodSaysHowManyWereNotLogged()
    {
        clock.update(1_000);
        for (int i = 0; i < 100; i++)
        {
            log.failed("timeout", "request " + i + " failed");
            clock.advance(PERIOD_NS / 200);
        }
        assertEquals(List.of("request 0 failed"), logger.warnings());
        assertEquals(100, log.count());

        clock.update(1_000 + PERIOD_NS);
        log.failed("timeout", "request 100 failed");
        log.failed("timeout", "request 101 failed");
        assertEquals(2, logger.warnings().size(), logger.warnings().toString());
        assertEquals("request 100 failed (99 more of this kind not logged in the last 60 s)", logger.warnings().get(1));
        assertEquals(102, log.count());

        clock.advance(PERIOD_NS);
        log.failed("timeout", "request 102 failed");
        assertEquals("request 102 failed (1 more of this kind not logged in the last 60 s)", logger.warnings().get(2));
    }

    @Test
    void eachKindHasItsOwnPeriod()
    {
        log.failed("timeout", "a timeout");
        log.failed("malformed", "a malformed request");
        log.failed("timeout", "another timeout");
        assertEquals(List.of("a timeout", "a malformed request"), logger.warnings());
        assertEquals(3, log.count());
    }

    @Test
    void refusalsOfOneHostAreLoggedOncePerPeriodWhateverThePort()
    {
        final InetSocketAddress first = new InetSocketAddress("127.0.0.1", 40001);
        log.refused(first, "refused a hello");
        log.refused(new InetSocketAddress("127.0.0.1", 40002), "refused a hello");
        log.refused(new InetSocketAddress("127.0.0.2", 40003), "refused a hello");
        assertEquals(2, logger.warnings().size(), logger.warnings().toString());
        assertTrue(logger.warnings().get(0).startsWith("refused a hello from "), logger.warnings().get(0));
        clock.advance(PERIOD_NS);
        log.refused(first, "refused a verb");
        assertTrue(logger.warnings().get(2).endsWith("(1 more from this host not logged in the last 60 s)"),
            logger.warnings().get(2));
    }
}
