package io.dmkv.core.cluster;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The payload of the layout map ({@link MapName#LAYOUT}), as {@code key=value} lines: {@code nodes}
 * lists the memory nodes by member name in cluster order (a region map's node index {@code i} is
 * {@code memoryNodes().get(i)}); any other field (cluster id, ...) is the formatting client's and
 * is kept as it is.
 */
public record ClusterLayout(List<String> memoryNodes, Map<String, String> properties)
{
    /** The field naming the memory nodes, comma-separated, in cluster order. */
    public static final String NODES = "nodes";

    public ClusterLayout
    {
        memoryNodes = List.copyOf(memoryNodes);
        properties = Map.copyOf(properties);
        if (memoryNodes.isEmpty())
        {
            throw new IllegalArgumentException("a cluster layout names at least one memory node");
        }
        if (properties.containsKey(NODES))
        {
            throw new IllegalArgumentException("'" + NODES + "' is the node list, not a property");
        }
    }

    /** The node index of {@code name} in region maps, or -1 if the layout does not name it. */
    public int indexOf(final String name)
    {
        return memoryNodes.indexOf(name);
    }

    public byte[] encode()
    {
        final Map<String, String> f = new LinkedHashMap<>();
        f.put(NODES, String.join(",", memoryNodes));
        f.putAll(properties);
        return KeyValueText.encode(f);
    }

    /**
     * Reads a layout payload.
     *
     * @throws IllegalArgumentException when it names no memory node.
     */
    public static ClusterLayout decode(final byte[] payload)
    {
        final Map<String, String> f = new LinkedHashMap<>(KeyValueText.decode(payload));
        final String nodes = f.remove(NODES);
        if (nodes == null || nodes.isEmpty())
        {
            throw new IllegalArgumentException("the layout map names no memory nodes (no '" + NODES + "' field): "
                + f.keySet());
        }
        return new ClusterLayout(List.of(nodes.split(",")), f);
    }
}
