package io.dmkv.rdma;

/**
 * A client's handle on one region of one memory node: where verbs go and the key they carry.
 * Obtained from {@link VerbsChannel#region(int)}; verbs address it by offset. Its key changes
 * only when the client learns that the node re-keyed the region ({@link VerbsClient#refreshKeys}).
 */
public final class RemoteRegion
{
    private final VerbsChannel channel;
    private final RegionInfo info;
    private volatile long key;

    public RemoteRegion(final VerbsChannel channel, final RegionInfo info)
    {
        this.channel = channel;
        this.info = info;
        this.key = info.key();
    }

    public VerbsChannel channel()
    {
        return channel;
    }

    public int id()
    {
        return info.id();
    }

    public long key()
    {
        return key;
    }

    /** The key a new hello gave for this region (the node re-keyed it). */
    void rekey(final long newKey)
    {
        key = newKey;
    }

    public long length()
    {
        return info.length();
    }

    public RegionInfo info()
    {
        return info;
    }

    @Override
    public String toString()
    {
        return "region " + info.id() + " of " + channel.node();
    }
}
