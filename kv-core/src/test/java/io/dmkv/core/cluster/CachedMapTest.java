package io.dmkv.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;

import org.agrona.concurrent.CachedNanoClock;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cached map follows the coordinator's changes, and is handed out only while the coordinator
 * confirmed it within the map lease (measured on an injected clock).
 */
@Timeout(60)
class CachedMapTest
{
    @Test
    void mapFollowsChangesAndIsRefusedOnceTheLeaseLapsesWithoutTheCoordinator() throws Exception
    {
        final CachedNanoClock clock = new CachedNanoClock();
        try (TestingServer zk = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 100, -1), true))
        {
            final CoordinatorSettings s = new CoordinatorSettings(zk.getConnectString(), "lease", Duration.ofSeconds(2),
                Duration.ofMillis(500), Duration.ofMillis(600), 16, clock);
            try (Coordinator writer = Coordinator.open(s); Coordinator reader = Coordinator.open(s))
            {
                writer.maps().claimFormat("w");
                writer.maps().publish(new byte[0], 4, new byte[] {4}, new byte[0]);
                try (CachedMap cached = reader.watch(MapName.REGIONS))
                {
                    final CopyOnWriteArrayList<Long> seen = new CopyOnWriteArrayList<>();
                    cached.onChange(m -> seen.add(m.epoch()));
                    assertEquals(4, cached.current().epoch());

                    writer.maps().write(writer.maps().read(MapName.REGIONS).orElseThrow(), 5, new byte[] {5});
                    awaitTrue(() -> cached.current().epoch() == 5);
                    assertEquals(5, seen.get(0), "listeners hear of the new epoch");

                    zk.stop(); // the coordinator becomes unreachable
                    clock.advance(Duration.ofMillis(601).toNanos());
                    final MapLeaseExpiredException e = assertThrows(MapLeaseExpiredException.class, cached::current);
                    assertTrue(e.getMessage().contains("map lease"), e.getMessage());
                    assertEquals(5, cached.lastSeen().epoch());

                    zk.restart();
                    awaitTrue(cached::isConfirmed);
                    assertEquals(5, cached.current().epoch(), "confirmed again once the coordinator answers");
                }
            }
        }
    }

    @Test
    void aLapsedLeaseIsConfirmedAgainByOneReadWhileTheCoordinatorIsConnected() throws Exception
    {
        final CachedNanoClock clock = new CachedNanoClock();
        try (TestingServer zk = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 100, -1), true))
        {
            // A lease of a minute: the refresher (every third of it) does not confirm during the test.
            final CoordinatorSettings s = new CoordinatorSettings(zk.getConnectString(), "reconfirm",
                Duration.ofMinutes(2), Duration.ofMillis(500), Duration.ofMinutes(1), 16, clock);
            try (Coordinator writer = Coordinator.open(s); Coordinator reader = Coordinator.open(s))
            {
                writer.maps().claimFormat("w");
                writer.maps().publish(new byte[0], 4, new byte[] {4}, new byte[0]);
                try (CachedMap cached = reader.watch(MapName.REGIONS))
                {
                    clock.advance(Duration.ofSeconds(61).toNanos()); // a confirmation that ran late
                    assertThrows(MapLeaseExpiredException.class, cached::current);
                    cached.reconfirm();
                    assertTrue(cached.isConfirmed(), "confirmed by the read");
                    assertEquals(4, cached.current().epoch());
                }
            }
        }
    }

    private static void awaitTrue(final java.util.function.BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "condition not reached");
            Thread.sleep(20);
        }
    }
}
