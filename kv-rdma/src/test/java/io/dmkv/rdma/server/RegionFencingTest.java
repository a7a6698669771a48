package io.dmkv.rdma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.contract.Fixtures;
import io.dmkv.rdma.contract.TransportFixture;

/**
 * Fencing on the surviving side: once a region is re-keyed (or a node revokes its keys), verbs
 * carrying the old key are refused on {@code local} and {@code tcp}, and only a new hello learns
 * the new key.
 */
@Timeout(60)
class RegionFencingTest
{
    static List<Arguments> transports()
    {
        return List.of(Arguments.of("local", (Supplier<TransportFixture>)Fixtures::localInProcess),
            Arguments.of("tcp", (Supplier<TransportFixture>)Fixtures::tcp));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transports")
    void verbWithTheOldKeyIsRefusedAfterRekeyingAndANewHelloWorks(final String name,
        final Supplier<TransportFixture> fixtures)
    {
        withClient(fixtures, (fixture, transport, stale, table) ->
        {
            final RemoteRegion old = stale.channel(0).region(1);
            faa(stale, old, 5);
            final int generation = table.regions().get(1).keyGeneration();

            final long newKey = table.rekey(1);

            assertNotEquals(old.key(), newKey);
            assertEquals(generation + 1, table.regions().get(1).keyGeneration());
            final RemoteAccessException e = assertThrows(RemoteAccessException.class, () -> faa(stale, old, 1));
            assertEquals(RemoteAccessException.Reason.UNKNOWN_REGION, e.reason());
            assertTrue(e.getMessage().contains("re-keying"), e.getMessage());
            assertEquals(0, faa(stale, stale.channel(0).region(0), 0), "other regions keep their keys");
            try (VerbsClient fresh = fixture.connect(transport, ClientOptions.defaults()))
            {
                assertEquals(newKey, fresh.channel(0).region(1).key());
                assertEquals(5, faa(fresh, fresh.channel(0).region(1), 0), "the memory is untouched by re-keying");
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transports")
    void revokedNodeRefusesVerbsAndHellosUntilRestored(final String name, final Supplier<TransportFixture> fixtures)
    {
        withClient(fixtures, (fixture, transport, client, table) ->
        {
            final RemoteRegion region = client.channel(0).region(0);
            faa(client, region, 3);

            table.revokeAll();

            assertTrue(table.isRevoked());
            assertThrows(RemoteAccessException.class, () -> faa(client, region, 1));
            final ClientOptions brief = ClientOptions.builder().connectTimeout(Duration.ofMillis(300)).build();
            final HandshakeException refused = assertThrows(HandshakeException.class,
                () -> fixture.connect(transport, brief).close());
            assertTrue(refused.isFenced(), refused.getMessage());
            assertTrue(refused.getMessage().contains("stayed fenced for 300 ms"), refused.getMessage());

            // A client that starts connecting while the node is fenced waits for it to come back.
            final CompletableFuture<VerbsClient> waiting = CompletableFuture.supplyAsync(
                () -> fixture.connect(transport, ClientOptions.builder().connectTimeout(Duration.ofSeconds(60)).build()));
            table.restoreAll();
            try (VerbsClient late = waiting.join())
            {
                assertEquals(3, faa(late, late.channel(0).region(0), 0), "the late client sees the node's memory");
            }

            assertEquals(3, faa(client, region, 0), "restored keys are the published ones");
        });
    }

    /** What a test does with a fixture, a connected client and node 0's region table. */
    @FunctionalInterface
    private interface Scenario
    {
        void run(TransportFixture fixture, VerbsTransport transport, VerbsClient client, RegionTable table);
    }

    private static void withClient(final Supplier<TransportFixture> fixtures, final Scenario scenario)
    {
        try (TransportFixture fixture = fixtures.get();
            VerbsTransport transport = fixture.newTransport();
            VerbsClient client = fixture.connect(transport, ClientOptions.defaults()))
        {
            scenario.run(fixture, transport, client, fixture.services().get(0).regions());
        }
    }

    private static long faa(final VerbsClient client, final RemoteRegion region, final long delta)
    {
        final VerbBatch b = new VerbBatch();
        final int i = b.faa(region, 4096, delta);
        client.execute(b);
        return b.result(i);
    }
}
