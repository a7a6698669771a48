package io.dmkv.core.cluster;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One version of a cluster map as stored: its epoch (which only grows), the znode version a
 * write must match, and the payload. Stored as {@code epoch:u64 (big-endian) | payload}.
 */
public record VersionedMap(MapName name, long epoch, int znodeVersion, byte[] payload)
{
    static final int HEADER = 8;

    public VersionedMap
    {
        payload = payload.clone();
    }

    @Override
    public byte[] payload()
    {
        return payload.clone();
    }

    static byte[] encode(final long epoch, final byte[] payload)
    {
        return ByteBuffer.allocate(HEADER + payload.length).putLong(epoch).put(payload).array();
    }

    static VersionedMap decode(final MapName name, final byte[] data, final int znodeVersion)
    {
        if (data == null || data.length < HEADER)
        {
            throw new CoordinationException("map " + name.znode() + " in the coordinator is corrupt ("
                + (data == null ? 0 : data.length) + " bytes)");
        }
        return new VersionedMap(name, ByteBuffer.wrap(data).getLong(), znodeVersion,
            Arrays.copyOfRange(data, HEADER, data.length));
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof VersionedMap m && m.name == name && m.epoch == epoch && m.znodeVersion == znodeVersion
            && Arrays.equals(m.payload, payload);
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(epoch) * 31 + znodeVersion;
    }

    @Override
    public String toString()
    {
        return name.znode() + "@epoch " + epoch + " (" + payload.length + " bytes)";
    }
}
