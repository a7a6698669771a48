package io.dmkv.rdma.transport.local;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.dmkv.rdma.server.MemoryNodeService;

/**
 * Memory nodes living in this JVM, reachable by the local transport as {@code mem:NAME}.
 */
public final class LocalMemoryNodes
{
    public static final String SCHEME = "mem:";

    private static final Map<String, MemoryNodeService> NODES = new ConcurrentHashMap<>();

    private LocalMemoryNodes()
    {
    }

    /** Makes {@code service} reachable as {@code mem:NAME}; returns that endpoint. */
    public static String register(final MemoryNodeService service)
    {
        if (NODES.putIfAbsent(service.name(), service) != null)
        {
            throw new IllegalStateException("a local memory node named " + service.name() + " already exists");
        }
        return SCHEME + service.name();
    }

    public static void unregister(final MemoryNodeService service)
    {
        NODES.remove(service.name(), service);
    }

    static MemoryNodeService lookup(final String name)
    {
        return NODES.get(name);
    }
}
