package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.metrics.MetricsExport;
import io.micrometer.core.instrument.MeterRegistry;

/** A memory node's meters (through JMX's registry) following its allocation table. */
@Timeout(60)
class NodeMetersTest
{
    private static final int REGION = 256 << 10;
    private static final int BLOCK = 4096;

    @Test
    void blocksAndBytesFollowAllocations() throws Exception
    {
        // A JVM with a platform MBean server (as under a JMX agent): the export registers in it at once.
        ManagementFactory.getPlatformMBeanServer();
        try (MemoryNode node = MemoryNode.start(MemoryNode.Config.inProcess("meters-" + UUID.randomUUID(),
                2L * REGION, REGION));
            MetricsExport export = MetricsExport.open(MetricsExport.Kind.JMX, 0);
            NodeMeters meters = new NodeMeters(node, export))
        {
            final MeterRegistry r = export.registry();
            assertEquals(2.0 * REGION, gauge(r, node, "dmkv.memnode.bytes", "total"));
            assertEquals(2.0 * REGION, gauge(r, node, "dmkv.memnode.bytes", "free"), "unformatted: all free");
            assertEquals(0, gauge(r, node, "dmkv.memnode.blocks", "owned"));

            rpc(node, MemoryNodeRpc.FORMAT_REGION,
                new MemoryNodeRpc.FormatRegion(0, 1, BLOCK, 0, false, 0, 0, 1, 1, 1).encode());
            final int blocks = BlockUsage.of(node.service()).blocks();
            assertEquals(blocks, gauge(r, node, "dmkv.memnode.blocks", "free"));
            rpc(node, MemoryNodeRpc.ALLOC_BLOCK, new MemoryNodeRpc.AllocBlock(0, 7, 0).encode());
            rpc(node, MemoryNodeRpc.ALLOC_BLOCK, new MemoryNodeRpc.AllocBlock(0, 7, 1).encode());
            rpc(node, MemoryNodeRpc.ALLOC_BLOCK, new MemoryNodeRpc.AllocBlock(0, 9, 0).encode());

            assertEquals(3, gauge(r, node, "dmkv.memnode.blocks", "owned"));
            assertEquals(blocks - 3, gauge(r, node, "dmkv.memnode.blocks", "free"));
            assertEquals(3.0 * BLOCK, gauge(r, node, "dmkv.memnode.bytes", "held"));
            assertEquals(2, r.get("dmkv.memnode.clients").tag("node", node.name()).gauge().value());
            assertEquals(Map.of(7, 2, 9, 1), BlockUsage.of(node.service()).ownedPerClient());
            meters.close();
            assertEquals(null, r.find("dmkv.memnode.blocks").tag("node", node.name()).gauge(),
                "a node's meters go with it");
        }
    }

    private static double gauge(final MeterRegistry r, final MemoryNode node, final String name, final String state)
    {
        return r.get(name).tag("node", node.name()).tag("state", state).gauge().value();
    }

    private static void rpc(final MemoryNode node, final int method, final ByteBuffer request) throws Exception
    {
        node.service().rpc(method, request).get(10, TimeUnit.SECONDS);
    }
}
