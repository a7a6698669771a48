package io.dmkv.core.cluster;

/** The cluster maps the coordinator holds, each with its own epoch. */
public enum MapName
{
    /** The cluster layout (descriptor): node names, replication, region and block sizes... */
    LAYOUT("layout"),
    /** The region map: global region to ordered replicas, primary first ({@code RegionMap} bytes). */
    REGIONS("regions"),
    /** The partition map: partition to proxy compute node or none (FlexKV; empty until then). */
    PARTITIONS("partitions");

    private final String znode;

    MapName(final String znode)
    {
        this.znode = znode;
    }

    public String znode()
    {
        return znode;
    }
}
