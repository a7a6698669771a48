package io.dmkv.rdma;

import java.util.List;

/**
 * A memory node as seen by a client after the hello.
 *
 * @param name          the node's name (for messages and logs).
 * @param endpoint      the address the client connected to.
 * @param layoutVersion the layout version both sides agreed on.
 * @param regions       the node's registered regions.
 * @param shmFile       path of the memory-mapped file backing the regions, or empty.
 * @param rdmaPort      port of the node's rdma listener, or 0.
 */
public record MemoryNodeInfo(String name, String endpoint, int layoutVersion, List<RegionInfo> regions,
    String shmFile, int rdmaPort)
{
    public MemoryNodeInfo
    {
        regions = List.copyOf(regions);
    }

    @Override
    public String toString()
    {
        return "memory node " + name + " at " + endpoint;
    }
}
