package io.dmkv.computenode.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.FlexKvParts;
import io.dmkv.KvConfig;
import io.dmkv.KvStore;
import io.dmkv.computenode.proxy.ProxyRpc;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.fuzz.FuzzRotation;

/**
 * The BATCH frames of FlexKV's proxy port (docs/flexkv.md §11) from a hostile peer: a request
 * frame as the proxy parses it and then handles it, with the proxy index of a live proxy (every
 * partition of a small embedded cluster) and a coherence directory of its own; a response frame
 * as a compute node parses it. What must hold:
 * <ul>
 * <li>a malformed request is refused with BAD_REQUEST saying why, by the parser and the handler
 * alike, before anything is allocated for the requests it announces;</li>
 * <li>a well-formed one encodes back to the same request, and the handler answers it within a
 * bound with one answer per request, each a status a compute node knows, a lease only with
 * FOUND; the answer's size follows from the request's, never from a length field;</li>
 * <li>a malformed response is a FAILED {@link RpcException} saying why; a well-formed one has the
 * answers it was expected to.</li>
 * </ul>
 *
 * <p>Input: {@code selector:u8} (even: a request; odd: a response, expecting selector / 2 answers) then the frame.
 */
@ExtendWith(FuzzRotation.class)
class BatchFrameFuzzTest
{
    /** Short, so a poll or a write waiting for a silent cacher is answered within the bound below. */
    private static final long LEASE_NS = 5_000_000L;
    private static final long ANSWER_SECONDS = 20;
    private static final Set<Byte> STATUSES = Set.of(ProxyRpc.FOUND, ProxyRpc.NOT_FOUND, ProxyRpc.APPLIED,
        ProxyRpc.EXISTS, ProxyRpc.REDIRECT, ProxyRpc.FULL, BatchFrame.FAILED);
    private static EmbeddedCluster cluster;
    private static KvStore proxy;
    private static CoherenceDirectory directory;
    private static BatchHandler handler;

    @BeforeAll
    static void start()
    {
        cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "local");
        proxy = KvStore.open(KvConfig.builder().coordinator(cluster.coordinatorConnectString()).transport("local")
            .replication(2).blockSize(64 * 1024).bucketGroups(64).initialDepth(2).indexAreaBytes(4 << 20)
            .mode("flexkv").partitions(8).proxyEnabled(true).opTimeout(Duration.ofSeconds(5)).build());
        for (int k = 0; k < 8; k++)
        {
            proxy.put("fuzz-" + k, "value-" + k);
        }
        directory = new CoherenceDirectory(SystemNanoClock.INSTANCE, LEASE_NS, 1024, 3);
        handler = new BatchHandler(FlexKvParts.of(proxy).index(), directory, "fuzz");
    }

    /** Closes the proxy within a bound: a lock a frame left held would make its release wait forever. */
    @AfterAll
    static void stop() throws InterruptedException
    {
        handler.close();
        final Thread closing = new Thread(() ->
        {
            proxy.close();
            cluster.close();
        }, "fuzz-close");
        closing.setDaemon(true);
        closing.start();
        closing.join(TimeUnit.SECONDS.toMillis(ANSWER_SECONDS));
        assertFalse(closing.isAlive(), "the proxy could not release its partitions: a batch left a lock held");
    }

    @FuzzTest
    void frames(final byte[] input) throws Exception
    {
        if (input.length == 0)
        {
            return;
        }
        final ByteBuffer frame = ByteBuffer.wrap(input, 1, input.length - 1).slice();
        if ((input[0] & 1) == 1)
        {
            response(frame, (input[0] & 0xFF) >>> 1);
            return;
        }
        final BatchFrame.Request r;
        try
        {
            r = BatchFrame.parseRequest(frame);
        }
        catch (final RpcException malformed)
        {
            assertMalformedRequest(malformed);
            try
            {
                handler.handle(frame);
                fail("the handler took a frame the parser refuses");
            }
            catch (final RpcException refused)
            {
                assertMalformedRequest(refused);
            }
            return;
        }
        if (r.caller().getBytes(StandardCharsets.UTF_8).length <= 255)
        {
            assertEquals(r, BatchFrame.parseRequest(BatchFrame.request(r.flags(), r.nonce(), r.acked(), r.parkMs(),
                r.caller().getBytes(StandardCharsets.UTF_8), r.subs())), "a request does not encode back to itself");
        }
        final CompletableFuture<ByteBuffer> answered = handler.handle(frame);
        final ByteBuffer answer = await(answered);
        final BatchFrame.Response response = BatchFrame.parseResponse(answer, r.subs().size());
        for (final BatchFrame.Answer a : response.answers())
        {
            assertTrue(STATUSES.contains(a.status()), "unknown status " + a.status());
            assertFalse(a.leased() && a.status() != ProxyRpc.FOUND, "a lease without a value: " + a);
        }
        assertTrue(answer.remaining() <= 64 + 10 * r.subs().size() + 8 * (long)1024, "an answer of "
            + answer.remaining() + " bytes to " + r.subs().size() + " requests");
    }

    /** The handler's answer, driving the directory's clock as the proxy's lease thread does. */
    private static ByteBuffer await(final CompletableFuture<ByteBuffer> answered) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ANSWER_SECONDS);
        while (true)
        {
            try
            {
                return answered.get(1, TimeUnit.MILLISECONDS);
            }
            catch (final TimeoutException e)
            {
                directory.expire();
                if (System.nanoTime() > deadline)
                {
                    fail("a batch was not answered in " + ANSWER_SECONDS + " s");
                }
            }
        }
    }

    private static void assertMalformedRequest(final RpcException e)
    {
        assertEquals(RpcStatus.BAD_REQUEST, e.status(), e.getMessage());
        assertTrue(e.getMessage().contains("malformed proxy batch"), e.getMessage());
    }

    private static void response(final ByteBuffer frame, final int expected)
    {
        final BatchFrame.Response r;
        try
        {
            r = BatchFrame.parseResponse(frame, expected);
        }
        catch (final RpcException malformed)
        {
            assertEquals(RpcStatus.FAILED, malformed.status(), malformed.getMessage());
            assertTrue(malformed.getMessage().contains("malformed proxy batch reply"), malformed.getMessage());
            return;
        }
        assertEquals(expected, r.answers().length);
        final ByteBuffer again = BatchFrame.response(r.leaseNs(), r.needed(), r.seq(), r.hashes(), r.answers());
        assertEquals(frame.remaining(), again.remaining(), "a response does not encode back to its length");
    }
}
