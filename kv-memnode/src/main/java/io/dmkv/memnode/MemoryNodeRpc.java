package io.dmkv.memnode;

/**
 * RPC methods a memory node answers, and the reserved scratch area of its first region.
 */
public final class MemoryNodeRpc
{
    /** Returns where the node's scratch area is: regionId:u32 offset:u64 length:u32 (big-endian). */
    public static final int SCRATCH = 1;

    /**
     * The first bytes of region 0 are scratch space for health checks ({@code kv ping}); no
     * layout places data there.
     */
    public static final int SCRATCH_REGION = 0;
    public static final long SCRATCH_OFFSET = 0;
    public static final int SCRATCH_BYTES = 4096;

    private MemoryNodeRpc()
    {
    }
}
