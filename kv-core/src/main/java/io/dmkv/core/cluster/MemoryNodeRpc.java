package io.dmkv.core.cluster;

import java.nio.ByteBuffer;

import io.dmkv.core.layout.ClusterDescriptor;

/**
 * The RPC methods a memory node answers, with their request and response formats (big-endian).
 * Everything else is one-sided.
 */
public final class MemoryNodeRpc
{
    /** Where the node's scratch area is: response regionId:u32 offset:u64 length:u32. */
    public static final int SCRATCH = 1;

    /**
     * Formats one physical region for the cluster layout (done once, by the client that
     * bootstraps the cluster). Idempotent for identical arguments; refused if the region is
     * already formatted differently. Request: see {@link FormatRegion}; response: blockCount:u32.
     */
    public static final int FORMAT_REGION = 2;

    /**
     * Claims a block for a client in a region this node is primary of. Request: see
     * {@link AllocBlock}; response: blockIndex:u32 entry:u64 adopted:u8, or status EXHAUSTED.
     */
    public static final int ALLOC_BLOCK = 3;

    /** The scratch area: bytes of the first region's header page that no layout uses. */
    public static final int SCRATCH_REGION = 0;
    public static final long SCRATCH_OFFSET = ClusterDescriptor.SCRATCH_OFFSET;
    public static final int SCRATCH_BYTES = ClusterDescriptor.SCRATCH_LENGTH;

    private MemoryNodeRpc()
    {
    }

    /**
     * FORMAT_REGION's request. {@code indexRegions} is how many global regions (0..k-1) have an
     * index area and share the initial subtables ({@link io.dmkv.core.layout.RegionLayout#indexRegions}).
     */
    public record FormatRegion(int physicalRegion, int globalRegion, int blockSize, int indexAreaLength, boolean root,
        int maxGlobalDepth, int initialGlobalDepth, int bucketGroups, int maxClients, int indexRegions)
    {
        public ByteBuffer encode()
        {
            return ByteBuffer.allocate(31).putInt(physicalRegion).putInt(globalRegion).putInt(blockSize)
                .putInt(indexAreaLength).put((byte)(root ? 1 : 0)).put((byte)maxGlobalDepth)
                .put((byte)initialGlobalDepth).putInt(bucketGroups).putInt(maxClients).putInt(indexRegions).flip();
        }

        public static FormatRegion decode(final ByteBuffer b)
        {
            return new FormatRegion(b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.get() != 0, b.get() & 0xFF,
                b.get() & 0xFF, b.getInt(), b.getInt(), b.getInt());
        }
    }

    /** ALLOC_BLOCK's request. */
    public record AllocBlock(int physicalRegion, int clientId, int sizeClass)
    {
        public ByteBuffer encode()
        {
            return ByteBuffer.allocate(9).putInt(physicalRegion).putInt(clientId).put((byte)sizeClass).flip();
        }

        public static AllocBlock decode(final ByteBuffer b)
        {
            return new AllocBlock(b.getInt(), b.getInt(), b.get() & 0xFF);
        }
    }
}
