package io.dmkv.core.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

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
    /** The field with each memory node's incarnation when the cluster was formatted (hex, node order). */
    public static final String INCARNATIONS = "incarnations";
    /** The field naming the memory nodes being decommissioned (comma-separated member names). */
    public static final String DRAINING = "draining";

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

    /**
     * The node index of {@code name} in region maps, or -1 if the layout does not name it. A name
     * listed twice (a node that restarted under its name joined again as a new node: layouts only
     * grow) is its latest index.
     */
    public int indexOf(final String name)
    {
        return memoryNodes.lastIndexOf(name);
    }

    /** Each node's incarnation as recorded when the cluster was formatted (0: not recorded). */
    public List<Long> incarnations()
    {
        final String field = properties.get(INCARNATIONS);
        final String[] parts = field == null ? new String[0] : field.split(",");
        final List<Long> out = new ArrayList<>(memoryNodes.size());
        for (int n = 0; n < memoryNodes.size(); n++)
        {
            out.add(n < parts.length ? Long.parseUnsignedLong(parts[n], 16) : 0L);
        }
        return out;
    }

    /** The value of {@link #INCARNATIONS} for these incarnations. */
    public static String incarnationsField(final List<Long> incarnations)
    {
        return incarnations.stream().map(Long::toHexString).collect(Collectors.joining(","));
    }

    /**
     * Indexes of the nodes named {@code names} (with the recorded {@code incarnations}) that are
     * dead: not among {@code alive}, or alive as another incarnation (a process that restarted
     * under the name: its memory is blank, and it is not the node the cluster knew).
     */
    public static Set<Integer> deadNodes(final List<String> names, final List<Long> incarnations,
        final List<MemberInfo> alive)
    {
        final Map<String, MemberInfo> byName = new HashMap<>();
        for (final MemberInfo m : alive)
        {
            byName.put(m.name(), m);
        }
        final Set<Integer> dead = new TreeSet<>();
        for (int n = 0; n < names.size(); n++)
        {
            final MemberInfo m = byName.get(names.get(n));
            final long known = incarnations.get(n);
            if (m == null || known != 0 && m.incarnation() != known)
            {
                dead.add(n);
            }
        }
        return dead;
    }

    /**
     * This layout with memory node {@code name} (of {@code incarnation}) at index {@code index}: the
     * next index appends a node that joined; an existing index is taken over by a new node only when
     * no region map names that index any more (its node failed over, or was decommissioned).
     */
    public ClusterLayout withNode(final int index, final String name, final long incarnation)
    {
        if (index < 0 || index > memoryNodes.size())
        {
            throw new IllegalArgumentException("node index " + index + " is outside 0.." + memoryNodes.size());
        }
        final List<String> names = new ArrayList<>(memoryNodes);
        final List<Long> incs = new ArrayList<>(incarnations());
        if (index == names.size())
        {
            names.add(name);
            incs.add(incarnation);
        }
        else
        {
            names.set(index, name);
            incs.set(index, incarnation);
        }
        final Map<String, String> p = new LinkedHashMap<>(properties);
        p.put(INCARNATIONS, incarnationsField(incs));
        return new ClusterLayout(names, p);
    }

    /** Names of the memory nodes being decommissioned. */
    public Set<String> draining()
    {
        final String field = properties.get(DRAINING);
        final Set<String> out = new TreeSet<>();
        if (field != null && !field.isEmpty())
        {
            out.addAll(List.of(field.split(",")));
        }
        return out;
    }

    /** This layout with {@code name} added to (or removed from) the nodes being decommissioned. */
    public ClusterLayout withDraining(final String name, final boolean draining)
    {
        final Set<String> d = draining();
        if (draining)
        {
            d.add(name);
        }
        else
        {
            d.remove(name);
        }
        final Map<String, String> p = new LinkedHashMap<>(properties);
        if (d.isEmpty())
        {
            p.remove(DRAINING);
        }
        else
        {
            p.put(DRAINING, String.join(",", d));
        }
        return new ClusterLayout(memoryNodes, p);
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
