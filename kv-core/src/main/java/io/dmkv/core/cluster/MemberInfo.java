package io.dmkv.core.cluster;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a member publishes about itself in its znode.
 *
 * @param kind          memory node or compute node.
 * @param name          unique within its kind in the cluster (the znode's name).
 * @param endpoint      how clients reach it ({@code host:port} as advertised: a reachable address,
 *                      never {@code 0.0.0.0}; {@code mem:NAME} for an in-JVM node).
 * @param regions       the physical regions it serves (memory nodes; empty for compute nodes).
 * @param keyGeneration how often its region keys were re-keyed (memory nodes; 0 at start).
 * @param incarnation   a random number a memory-node process draws when it starts (0: unknown, or a
 *                      compute node): a node that restarts under the same name has lost its
 *                      memory, and the cluster tells it apart by this number.
 * @param alive         whether its ephemeral {@code live} znode exists (filled in on reads).
 * @param hotness       a compute node of a FlexKV cluster: its smoothed operations per second on
 *                      each partition, by partition (docs/flexkv.md §7; empty: none published).
 */
public record MemberInfo(Kind kind, String name, String endpoint, List<Integer> regions, long keyGeneration,
    long incarnation, boolean alive, List<Long> hotness)
{
    /** The two kinds of members. */
    public enum Kind
    {
        MEMORY_NODE(ZnodePaths.MEMORY_NODES),
        COMPUTE_NODE(ZnodePaths.COMPUTE_NODES);

        private final String path;

        Kind(final String path)
        {
            this.path = path;
        }

        public String path()
        {
            return path;
        }
    }

    public MemberInfo
    {
        Objects.requireNonNull(kind, "kind");
        if (name == null || !name.matches("[A-Za-z0-9@:._-]{1,128}"))
        {
            throw new IllegalArgumentException("member name must be 1..128 of [A-Za-z0-9@:._-], got '" + name + "'");
        }
        Objects.requireNonNull(endpoint, "endpoint");
        if (endpoint.startsWith("0.0.0.0:"))
        {
            throw new IllegalArgumentException("member " + name + " advertises " + endpoint
                + ", which no client can reach: advertise the host's address (--advertise-host)");
        }
        regions = List.copyOf(regions);
        hotness = List.copyOf(hotness);
    }

    public static MemberInfo memoryNode(final String name, final String endpoint, final List<Integer> regions,
        final long keyGeneration)
    {
        return memoryNode(name, endpoint, regions, keyGeneration, 0);
    }

    public static MemberInfo memoryNode(final String name, final String endpoint, final List<Integer> regions,
        final long keyGeneration, final long incarnation)
    {
        return new MemberInfo(Kind.MEMORY_NODE, name, endpoint, regions, keyGeneration, incarnation, true, List.of());
    }

    public static MemberInfo computeNode(final String name, final String endpoint)
    {
        return computeNode(name, endpoint, List.of());
    }

    /** A compute node publishing its per-partition hotness along with its proxy endpoint. */
    public static MemberInfo computeNode(final String name, final String endpoint, final List<Long> hotness)
    {
        return new MemberInfo(Kind.COMPUTE_NODE, name, endpoint, List.of(), 0, 0, true, hotness);
    }

    MemberInfo withAlive(final boolean isAlive)
    {
        return new MemberInfo(kind, name, endpoint, regions, keyGeneration, incarnation, isAlive, hotness);
    }

    byte[] encode()
    {
        final Map<String, String> f = new LinkedHashMap<>();
        f.put("endpoint", endpoint);
        f.put("regions", regions.stream().map(String::valueOf).collect(Collectors.joining(",")));
        f.put("keyGeneration", Long.toString(keyGeneration));
        if (incarnation != 0)
        {
            f.put("incarnation", Long.toHexString(incarnation));
        }
        if (!hotness.isEmpty())
        {
            f.put("hotness", hotness.stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        return KeyValueText.encode(f);
    }

    static MemberInfo decode(final Kind kind, final String name, final byte[] data, final boolean alive)
    {
        final Map<String, String> f = KeyValueText.decode(data);
        try
        {
            final String r = f.getOrDefault("regions", "");
            final List<Integer> regions = r.isEmpty() ? List.of()
                : Stream.of(r.split(",")).map(Integer::valueOf).collect(Collectors.toList());
            final String h = f.getOrDefault("hotness", "");
            final List<Long> hotness = h.isEmpty() ? List.of()
                : Stream.of(h.split(",")).map(Long::valueOf).collect(Collectors.toList());
            return new MemberInfo(kind, name, f.getOrDefault("endpoint", "?"), regions,
                Long.parseLong(f.getOrDefault("keyGeneration", "0")),
                Long.parseUnsignedLong(f.getOrDefault("incarnation", "0"), 16), alive, hotness);
        }
        catch (final NumberFormatException e)
        {
            throw new CoordinationException("member " + name + " has a corrupt record in the coordinator: " + f, e);
        }
    }
}
