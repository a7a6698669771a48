package io.dmkv.memnode;

import io.dmkv.core.metrics.MeterSet;
import io.dmkv.core.metrics.MetricsExport;
import io.dmkv.rdma.transport.tcp.TcpVerbsServer;

/**
 * A memory node's meters ({@code dmkv.memnode.*}, tagged with the node's name): bytes and blocks
 * free and held (from the allocation tables, scanned when read), clients holding blocks, tcp
 * connections and protocol errors.
 */
final class NodeMeters implements AutoCloseable
{
    private final MeterSet meters;

    NodeMeters(final MemoryNode node, final MetricsExport export)
    {
        this.meters = new MeterSet(export, "node", node.name());
        final String blocks = "blocks of the node's formatted regions";
        meters.gauge("dmkv.memnode.bytes", "the node's memory", node, n -> usage(n).bytes(), "state", "total")
            .gauge("dmkv.memnode.bytes", "bytes in free blocks and unformatted regions", node,
                n -> usage(n).freeBytes(), "state", "free")
            .gauge("dmkv.memnode.bytes", "bytes in blocks clients own or handed over", node,
                n -> usage(n).heldBytes(), "state", "held")
            .gauge("dmkv.memnode.blocks", blocks, node, n -> usage(n).free(), "state", "free")
            .gauge("dmkv.memnode.blocks", blocks, node, n -> usage(n).handedOver(), "state", "handed-over")
            .gauge("dmkv.memnode.blocks", blocks, node, n -> usage(n).owned(), "state", "owned")
            .gauge("dmkv.memnode.clients", "clients owning blocks", node, n -> usage(n).ownedPerClient().size());
        final TcpVerbsServer tcp = node.tcp();
        if (tcp != null)
        {
            meters.counter("dmkv.memnode.connections", "tcp connections accepted", tcp,
                TcpVerbsServer::connectionsAccepted)
                .counter("dmkv.memnode.protocol.errors", "connections closed for a malformed frame", tcp,
                    TcpVerbsServer::protocolErrors);
        }
    }

    private static BlockUsage usage(final MemoryNode node)
    {
        return BlockUsage.of(node.service());
    }

    @Override
    public void close()
    {
        meters.close();
    }
}
