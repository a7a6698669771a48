package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.Test;

import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.rdma.security.CapturingLogger;
import io.dmkv.rdma.security.RefusalLog;

/**
 * A peer that floods a proxy with malformed sub-requests gets a FAILED answer for each, and the
 * proxy's log one line per period saying how many it did not log.
 */
class BatchHandlerFailureLogTest
{
    private static final long PERIOD_NS = TimeUnit.SECONDS.toNanos(60);

    @Test
    void failedSubRequestsOfABatchAreLoggedOncePerPeriodWithACountOfTheRest() throws Exception
    {
        final CapturingLogger logger = new CapturingLogger("batch");
        final CachedNanoClock clock = new CachedNanoClock();
        final RefusalLog failures = new RefusalLog(logger, PERIOD_NS, clock);
        final CoherenceDirectory directory = new CoherenceDirectory(clock, TimeUnit.SECONDS.toNanos(1), 64, 3);
        // A malformed sub-request is refused before it reaches the index: the handler needs none.
        try (BatchHandler handler = new BatchHandler(null, directory, "flood", failures))
        {
            assertAllFailed(handler.handle(malformed(50)).get(10, TimeUnit.SECONDS), 50);
            assertEquals(1, logger.warnings().size(), logger.warnings().toString());
            assertTrue(logger.warnings().get(0).startsWith("proxy request in a batch failed: "),
                logger.warnings().get(0));

            clock.advance(PERIOD_NS / 2);
            assertAllFailed(handler.handle(malformed(10)).get(10, TimeUnit.SECONDS), 10);
            assertEquals(1, logger.warnings().size(), logger.warnings().toString());

            clock.advance(PERIOD_NS);
            assertAllFailed(handler.handle(malformed(5)).get(10, TimeUnit.SECONDS), 5);
            assertEquals(2, logger.warnings().size(), logger.warnings().toString());
            assertTrue(logger.warnings().get(1).endsWith("(59 more of this kind not logged in the last 60 s)"),
                logger.warnings().get(1));
            assertEquals(65, failures.count());
        }
    }

    /** A batch of {@code n} SEARCHes whose bodies are shorter than a SEARCH's header. */
    private static ByteBuffer malformed(final int n)
    {
        final List<BatchFrame.Sub> subs = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            subs.add(new BatchFrame.Sub(ProxyRpc.SEARCH, ByteBuffer.wrap(new byte[] {1, 2, 3})));
        }
        return BatchFrame.request(0, 7, 0, 0, "peer".getBytes(StandardCharsets.UTF_8), subs);
    }

    private static void assertAllFailed(final ByteBuffer answer, final int n)
    {
        final BatchFrame.Response r = BatchFrame.parseResponse(answer, n);
        for (final BatchFrame.Answer a : r.answers())
        {
            assertEquals(BatchFrame.FAILED, a.status(), a.toString());
        }
    }
}
