package io.dmkv.core.cluster;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The payload of the partition map ({@link MapName#PARTITIONS}): the cluster's index mode, fixed
 * at creation, and for a FlexKV cluster which compute node proxies each partition
 * (docs/flexkv.md). Stored as {@code key=value} lines so ZooKeeper's own tools show it.
 *
 * <p>Per partition p:
 * <ul>
 * <li>{@code owner[p]}: the proxy's member name, or {@link #NONE} (one-sided FUSEE path);</li>
 * <li>{@code from[p]}: while a hand-over is under way, the previous owner (a proxy's name, or
 * {@link #NONE} for one-sided mode) whose last operations the new owner must wait out; empty once
 * the new owner serves it ({@link #SETTLED});</li>
 * <li>{@code pin[p]}: an operator's fixed choice ({@code kv proxy assign}), or empty.</li>
 * </ul>
 * {@code endpoints} maps each proxy's member name to the {@code host:port} of its proxy port.
 * {@code fresh} holds from creation until the first client routes a key one-sided: while it
 * holds, no one-sided operation can be in flight, so a proxy takes a partition from one-sided
 * mode without waiting them out (a client clears it, with a versioned write, before its first
 * one-sided operation).
 * Instances are immutable; the {@code with*} methods return changed copies.
 */
public final class PartitionMap
{
    /** The owner of a partition served one-sided, and a pin to one-sided mode. */
    public static final String NONE = "-";
    /** {@code from[p]} once no hand-over is under way. */
    public static final String SETTLED = "";
    /** Index modes. */
    public static final String FUSEE = "fusee";
    public static final String FLEXKV = "flexkv";

    private final String mode;
    private final String[] owners;
    private final String[] from;
    private final String[] pins;
    private final Map<String, String> endpoints;
    private final boolean fresh;

    private PartitionMap(final String mode, final String[] owners, final String[] from, final String[] pins,
        final Map<String, String> endpoints, final boolean fresh)
    {
        this.fresh = fresh;
        this.mode = mode;
        this.owners = owners;
        this.from = from;
        this.pins = pins;
        this.endpoints = Map.copyOf(endpoints);
    }

    /** A FUSEE cluster's map: no partitions. */
    public static PartitionMap fusee()
    {
        return new PartitionMap(FUSEE, new String[0], new String[0], new String[0], Map.of(), false);
    }

    /** A new FlexKV cluster's map: {@code partitions} partitions, all one-sided and settled. */
    public static PartitionMap flexkv(final int partitions)
    {
        if (partitions < 1 || Integer.bitCount(partitions) != 1)
        {
            throw new IllegalArgumentException("partitions must be a power of two, got " + partitions);
        }
        final String[] o = new String[partitions];
        Arrays.fill(o, NONE);
        final String[] f = new String[partitions];
        Arrays.fill(f, SETTLED);
        final String[] p = new String[partitions];
        Arrays.fill(p, "");
        return new PartitionMap(FLEXKV, o, f, p, Map.of(), true);
    }

    public String mode()
    {
        return mode;
    }

    public boolean isFlexKv()
    {
        return FLEXKV.equals(mode);
    }

    /** P: partitions (0 in a FUSEE cluster). */
    public int partitions()
    {
        return owners.length;
    }

    /** log2(P): the hash bits that name a partition. */
    public int partitionBits()
    {
        return Integer.numberOfTrailingZeros(Math.max(1, owners.length));
    }

    public String owner(final int p)
    {
        return owners[p];
    }

    public String from(final int p)
    {
        return from[p];
    }

    public String pin(final int p)
    {
        return pins[p];
    }

    /** True when partition p is served by its owner (no hand-over under way). */
    public boolean settled(final int p)
    {
        return SETTLED.equals(from[p]);
    }

    /** The proxy port of member {@code name}, or null. */
    public String endpoint(final String name)
    {
        return endpoints.get(name);
    }

    public Map<String, String> endpoints()
    {
        return endpoints;
    }

    /** Partition p goes to {@code owner}; a hand-over from the current owner starts unless it is the same. */
    public PartitionMap withOwner(final int p, final String owner, final String endpoint)
    {
        Objects.requireNonNull(owner, "owner");
        if (owner.equals(owners[p]))
        {
            return this;
        }
        final String[] o = owners.clone();
        final String[] f = from.clone();
        // A hand-over already under way keeps waiting for the owner that last served p.
        f[p] = settled(p) ? owners[p] : from[p];
        if (f[p].equals(owner))
        {
            f[p] = SETTLED;
        }
        o[p] = owner;
        final Map<String, String> e = new LinkedHashMap<>(endpoints);
        if (!NONE.equals(owner) && endpoint != null)
        {
            e.put(owner, endpoint);
        }
        return new PartitionMap(mode, o, f, pins, e, fresh);
    }

    /** The hand-over of partition p is over: its owner serves it. */
    public PartitionMap withSettled(final int p)
    {
        if (settled(p))
        {
            return this;
        }
        final String[] f = from.clone();
        f[p] = SETTLED;
        return new PartitionMap(mode, owners, f, pins, endpoints, fresh);
    }

    /** Pins partition p to {@code node} ({@link #NONE}: one-sided), or unpins it with an empty name. */
    public PartitionMap withPin(final int p, final String node)
    {
        final String[] q = pins.clone();
        q[p] = node == null ? "" : node;
        return new PartitionMap(mode, owners, from, q, endpoints, fresh);
    }

    /** Drops endpoints of members that own nothing and are not awaited. */
    public PartitionMap withoutUnusedEndpoints()
    {
        final Map<String, String> e = new LinkedHashMap<>();
        endpoints.forEach((name, at) ->
        {
            if (Arrays.asList(owners).contains(name) || Arrays.asList(from).contains(name)
                || Arrays.asList(pins).contains(name))
            {
                e.put(name, at);
            }
        });
        return e.size() == endpoints.size() ? this : new PartitionMap(mode, owners, from, pins, e, fresh);
    }

    /** True while no client has routed a key one-sided since the cluster was created. */
    public boolean isFresh()
    {
        return fresh;
    }

    /** The map a client writes before its first one-sided operation. */
    public PartitionMap withOneSidedUsed()
    {
        return fresh ? new PartitionMap(mode, owners, from, pins, endpoints, false) : this;
    }

    public byte[] encode()
    {
        final Map<String, String> f = new LinkedHashMap<>();
        f.put("mode", mode);
        f.put("fresh", Boolean.toString(fresh));
        f.put("partitions", Integer.toString(owners.length));
        f.put("owners", String.join(",", owners));
        f.put("from", String.join(",", from));
        f.put("pins", String.join(",", pins));
        endpoints.forEach((name, at) -> f.put("proxy." + name, at));
        return KeyValueText.encode(f);
    }

    /**
     * Reads a partition map payload; an empty payload (a cluster formatted before partition maps
     * held the mode) is a FUSEE cluster.
     *
     * @throws IllegalArgumentException when the payload is malformed.
     */
    public static PartitionMap decode(final byte[] payload)
    {
        if (payload == null || payload.length == 0)
        {
            return fusee();
        }
        final Map<String, String> f = KeyValueText.decode(payload);
        final String mode = f.getOrDefault("mode", FUSEE);
        if (!FUSEE.equals(mode) && !FLEXKV.equals(mode))
        {
            throw new IllegalArgumentException("partition map: unknown index mode '" + mode + "'");
        }
        final int n;
        try
        {
            n = Integer.parseInt(f.getOrDefault("partitions", "0"));
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("partition map: bad partition count '" + f.get("partitions") + "'");
        }
        if (n < 0 || n > 256 || (n != 0 && Integer.bitCount(n) != 1))
        {
            throw new IllegalArgumentException("partition map: partition count " + n + " is not a power of two in"
                + " 1..256");
        }
        final String[] owners = column(f, "owners", n, NONE);
        final String[] from = column(f, "from", n, SETTLED);
        final String[] pins = column(f, "pins", n, "");
        final Map<String, String> endpoints = new LinkedHashMap<>();
        f.forEach((k, v) ->
        {
            if (k.startsWith("proxy."))
            {
                endpoints.put(k.substring("proxy.".length()), v);
            }
        });
        return new PartitionMap(mode, owners, from, pins, endpoints, "true".equals(f.get("fresh")));
    }

    private static String[] column(final Map<String, String> f, final String name, final int n, final String blank)
    {
        final String[] out = new String[n];
        Arrays.fill(out, blank);
        final String v = f.get(name);
        if (v == null || n == 0)
        {
            return out;
        }
        final String[] parts = v.split(",", -1);
        if (parts.length != n)
        {
            throw new IllegalArgumentException("partition map: '" + name + "' has " + parts.length + " entries for "
                + n + " partitions");
        }
        System.arraycopy(parts, 0, out, 0, n);
        return out;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof PartitionMap m && mode.equals(m.mode) && Arrays.equals(owners, m.owners)
            && Arrays.equals(from, m.from) && Arrays.equals(pins, m.pins) && endpoints.equals(m.endpoints)
            && fresh == m.fresh;
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(mode, Arrays.hashCode(owners), Arrays.hashCode(from));
    }

    @Override
    public String toString()
    {
        return new String(encode(), java.nio.charset.StandardCharsets.UTF_8).replace('\n', ' ');
    }
}
