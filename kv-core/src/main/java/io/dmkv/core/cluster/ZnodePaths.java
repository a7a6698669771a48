package io.dmkv.core.cluster;

/**
 * Where things live in ZooKeeper, relative to the cluster's namespace {@code /dmkv/<cluster>}
 * (see docs/coordination.md for the drawn tree).
 */
public final class ZnodePaths
{
    /** Parent of every cluster's namespace. */
    public static final String ROOT = "dmkv";
    /** The cluster's mode ("coordinated"), created with the maps when the cluster is formatted. */
    public static final String MODE = "/mode";
    /** Ephemeral, created if absent: the member formatting a new cluster. */
    public static final String FORMAT = "/format";
    public static final String MAPS = "/maps";
    public static final String MEMORY_NODES = "/members/memory";
    public static final String COMPUTE_NODES = "/members/compute";
    /** Under a member's (or client id's) znode: the ephemeral child that says it is alive. */
    public static final String LIVE = "live";
    public static final String CLIENTS = "/clients";
    /** The FlexKV partition manager's election among compute nodes, and its epoch. */
    public static final String PARTITION_MANAGER_LATCH = "/partition-manager/latch";
    public static final String PARTITION_MANAGER_EPOCH = "/partition-manager/epoch";
    public static final String LEADER_LATCH = "/leader/latch";
    /** The leader epoch: raised by every new leader; leader-only writes check its version. */
    public static final String LEADER_EPOCH = "/leader/epoch";

    private ZnodePaths()
    {
    }

    /** The namespace Curator prefixes every path with. */
    public static String namespace(final String cluster)
    {
        return ROOT + "/" + cluster;
    }

    public static String map(final MapName map)
    {
        return MAPS + "/" + map.znode();
    }

    public static String clientId(final int id)
    {
        return CLIENTS + "/" + id;
    }
}
