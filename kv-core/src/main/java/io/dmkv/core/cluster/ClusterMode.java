package io.dmkv.core.cluster;

/**
 * How a cluster finds its members and keeps its maps: from a static node list (the cluster
 * descriptor on memory node 0, no fail-over), or through the coordinator (ZooKeeper). A cluster
 * keeps the mode it was created in; {@link #requireJoinable} refuses the other one.
 */
public enum ClusterMode
{
    /** A static node list; the descriptor lives on memory node 0. Code 0 in the descriptor. */
    STATIC(0, "static"),
    /** Members and maps in the coordinator. Code 1 in the descriptor. */
    COORDINATED(1, "coordinated");

    private final int code;
    private final String label;

    ClusterMode(final int code, final String label)
    {
        this.code = code;
        this.label = label;
    }

    /** The value stored for this mode (the cluster descriptor's mode field, the /mode znode). */
    public int code()
    {
        return code;
    }

    public String label()
    {
        return label;
    }

    public static ClusterMode fromCode(final int code)
    {
        for (final ClusterMode m : values())
        {
            if (m.code == code)
            {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cluster mode code " + code);
    }

    public static ClusterMode fromLabel(final String label)
    {
        for (final ClusterMode m : values())
        {
            if (m.label.equals(label))
            {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cluster mode '" + label + "'");
    }

    /**
     * Refuses to join a cluster created in {@code created} mode when joining in {@code joining}
     * mode, with a message that names both and what to do.
     *
     * @param cluster how the cluster is named in the message (its id, coordinator or first node).
     */
    public static void requireJoinable(final String cluster, final ClusterMode created, final ClusterMode joining)
    {
        if (created == joining)
        {
            return;
        }
        final String fix = created == COORDINATED
            ? "configure the coordinator (dmkv.coordinator / --coordinator) to join it"
            : "join it without a coordinator (a static node list), or create a new cluster";
        throw new ClusterModeException("cluster " + cluster + " was created in " + created.label
            + " mode and cannot be joined in " + joining.label + " mode: " + fix);
    }
}
