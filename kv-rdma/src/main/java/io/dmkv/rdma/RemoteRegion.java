package io.dmkv.rdma;

/**
 * A client's handle on one region of one memory node: where verbs go and the key they carry.
 * Immutable; obtained from {@link VerbsChannel#region(int)}. Verbs address it by offset.
 */
public final class RemoteRegion
{
    private final VerbsChannel channel;
    private final RegionInfo info;

    public RemoteRegion(final VerbsChannel channel, final RegionInfo info)
    {
        this.channel = channel;
        this.info = info;
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
        return info.key();
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
