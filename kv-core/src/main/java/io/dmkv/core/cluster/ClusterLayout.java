package io.dmkv.core.cluster;

import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The payload of the layout map ({@link MapName#LAYOUT}): the memory nodes in cluster order (a
 * region map's node index {@code i} is {@code memoryNodes().get(i)}, by member name) and the
 * cluster descriptor's bytes as the formatting client wrote them (opaque here).
 */
public record ClusterLayout(List<String> memoryNodes, byte[] descriptor)
{
    public ClusterLayout
    {
        memoryNodes = List.copyOf(memoryNodes);
        descriptor = descriptor.clone();
        if (memoryNodes.isEmpty())
        {
            throw new IllegalArgumentException("a cluster layout names at least one memory node");
        }
    }

    @Override
    public byte[] descriptor()
    {
        return descriptor.clone();
    }

    /** The node index of {@code name} in region maps, or -1 if the layout does not name it. */
    public int indexOf(final String name)
    {
        return memoryNodes.indexOf(name);
    }

    public byte[] encode()
    {
        final Map<String, String> f = new LinkedHashMap<>();
        f.put("memoryNodes", String.join(",", memoryNodes));
        f.put("descriptor", Base64.getEncoder().encodeToString(descriptor));
        return KeyValueText.encode(f);
    }

    public static ClusterLayout decode(final byte[] payload)
    {
        final Map<String, String> f = KeyValueText.decode(payload);
        final String nodes = f.get("memoryNodes");
        if (nodes == null || nodes.isEmpty())
        {
            throw new CoordinationException("the layout map names no memory nodes: " + f.keySet());
        }
        return new ClusterLayout(List.of(nodes.split(",")),
            Base64.getDecoder().decode(f.getOrDefault("descriptor", "")));
    }
}
