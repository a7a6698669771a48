package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * What every client must agree on about a cluster, stored once in the header page of memory
 * node 0's first region (which is always the primary of global region 0). The first client to
 * find it empty claims it with a CAS on the state word, has the memory nodes format their
 * regions, then publishes it; every later client reads and checks it.
 *
 * <pre>
 *   1024 + 0   state word (u64, CAS): 0 empty | 1 formatting (bits 8..63: claimant nonce) | 2 ready
 *   1024 + 8   magic "DMKVCLUS" (u64)
 *   1024 + 16  layout version (u32)     | 20 replication r (u8) | 21 0 | 22 memory nodes N (u16)
 *   1024 + 24  global regions R (u32)   | 28 region size (u32)
 *   1024 + 32  block size (u32)         | 36 bucket groups per subtable (u32)
 *   1024 + 40  max global depth (u8)    | 41 initial global depth (u8) | 42 0 (u16) | 44 max clients (u32)
 *   1024 + 48  next client id (u64, FAA)
 *   1024 + 56  cluster id (u64, random, never 0)
 *   1024 + 64  index area length (u32)  | 68 cluster mode (u32: 0 static, 1 coordinated)
 *   1024 + 72  node name hashes, N x u64 (XXH64 of each node's name, in cluster order)
 * </pre>
 * The header page's first 64 bytes are the region header; bytes 2048..4095 are each node's
 * scratch space for health checks. At most {@link #MAX_NODES} memory nodes fit.
 */
public final class ClusterDescriptor
{
    public static final int OFFSET = 1024;
    public static final int STATE_OFFSET = 0;
    public static final int MAGIC_OFFSET = 8;
    public static final int LAYOUT_VERSION_OFFSET = 16;
    public static final int REPLICATION_OFFSET = 20;
    public static final int NODES_OFFSET = 22;
    public static final int REGIONS_OFFSET = 24;
    public static final int REGION_SIZE_OFFSET = 28;
    public static final int BLOCK_SIZE_OFFSET = 32;
    public static final int BUCKET_GROUPS_OFFSET = 36;
    public static final int MAX_GLOBAL_DEPTH_OFFSET = 40;
    public static final int INITIAL_GLOBAL_DEPTH_OFFSET = 41;
    public static final int MAX_CLIENTS_OFFSET = 44;
    public static final int NEXT_CLIENT_ID_OFFSET = 48;
    public static final int CLUSTER_ID_OFFSET = 56;
    public static final int INDEX_AREA_LENGTH_OFFSET = 64;
    /**
     * How the cluster was created ({@code io.dmkv.core.cluster.ClusterMode#code()}): 0 static,
     * 1 coordinated. Descriptors written before the field existed hold 0, which is right: they
     * are static.
     */
    public static final int MODE_OFFSET = 68;
    public static final int NODE_HASHES_OFFSET = 72;
    public static final int MAX_NODES = (1024 - NODE_HASHES_OFFSET) / 8;

    /** Scratch space for health checks in every node's first region header page. */
    public static final int SCRATCH_OFFSET = 2048;
    public static final int SCRATCH_LENGTH = 2048;

    public static final long MAGIC = 0x5355_4C43_564B_4D44L; // "DMKVCLUS" little-endian
    public static final long STATE_EMPTY = 0;
    public static final long STATE_FORMATTING = 1;
    public static final long STATE_READY = 2;

    private ClusterDescriptor()
    {
    }

    /** Bytes of a descriptor for {@code nodes} memory nodes. */
    public static int length(final int nodes)
    {
        if (nodes < 1 || nodes > MAX_NODES)
        {
            throw new IllegalArgumentException("a cluster has 1.." + MAX_NODES + " memory nodes, got " + nodes);
        }
        return NODE_HASHES_OFFSET + 8 * nodes;
    }

    /** The state word a claimant CASes in: formatting, tagged with its nonce. */
    public static long formatting(final long nonce)
    {
        return STATE_FORMATTING | (nonce << 8);
    }

    public static long stateOf(final long word)
    {
        return word & 0xFF;
    }

    /** Writes every field but the state word and the client-id counter. */
    public static void write(final MutableDirectBuffer b, final int at, final Values v)
    {
        b.putLong(at + MAGIC_OFFSET, MAGIC);
        b.putInt(at + LAYOUT_VERSION_OFFSET, v.layoutVersion());
        b.putByte(at + REPLICATION_OFFSET, (byte)v.replication());
        b.putShort(at + NODES_OFFSET, (short)v.nodeHashes().length);
        b.putInt(at + REGIONS_OFFSET, v.regions());
        b.putInt(at + REGION_SIZE_OFFSET, v.regionSize());
        b.putInt(at + BLOCK_SIZE_OFFSET, v.blockSize());
        b.putInt(at + BUCKET_GROUPS_OFFSET, v.bucketGroups());
        b.putByte(at + MAX_GLOBAL_DEPTH_OFFSET, (byte)v.maxGlobalDepth());
        b.putByte(at + INITIAL_GLOBAL_DEPTH_OFFSET, (byte)v.initialGlobalDepth());
        b.putInt(at + MAX_CLIENTS_OFFSET, v.maxClients());
        b.putLong(at + CLUSTER_ID_OFFSET, v.clusterId());
        b.putInt(at + INDEX_AREA_LENGTH_OFFSET, v.indexAreaLength());
        for (int i = 0; i < v.nodeHashes().length; i++)
        {
            b.putLong(at + NODE_HASHES_OFFSET + 8 * i, v.nodeHashes()[i]);
        }
    }

    /** Writes the cluster mode code (see {@link #MODE_OFFSET}); the client that formats does this. */
    public static void writeMode(final MutableDirectBuffer b, final int at, final int modeCode)
    {
        b.putInt(at + MODE_OFFSET, modeCode);
    }

    /** The cluster mode code (see {@link #MODE_OFFSET}). */
    public static int mode(final DirectBuffer b, final int at)
    {
        return b.getInt(at + MODE_OFFSET);
    }

    /** Reads a descriptor; {@link IllegalStateException} if the magic is missing. */
    public static Values read(final DirectBuffer b, final int at)
    {
        if (b.getLong(at + MAGIC_OFFSET) != MAGIC)
        {
            throw new IllegalStateException("no cluster descriptor (bad magic)");
        }
        final int nodes = b.getShort(at + NODES_OFFSET) & 0xFFFF;
        if (nodes < 1 || nodes > MAX_NODES)
        {
            throw new IllegalStateException("cluster descriptor names " + nodes + " memory nodes");
        }
        if (at + NODE_HASHES_OFFSET + 8 * nodes > b.capacity())
        {
            throw new IllegalStateException("the cluster descriptor names " + nodes + " memory nodes, more than the "
                + (b.capacity() - at) + " bytes read of it hold");
        }
        final long[] hashes = new long[nodes];
        for (int i = 0; i < nodes; i++)
        {
            hashes[i] = b.getLong(at + NODE_HASHES_OFFSET + 8 * i);
        }
        return new Values(b.getInt(at + LAYOUT_VERSION_OFFSET), b.getByte(at + REPLICATION_OFFSET) & 0xFF,
            b.getInt(at + REGIONS_OFFSET), b.getInt(at + REGION_SIZE_OFFSET), b.getInt(at + BLOCK_SIZE_OFFSET),
            b.getInt(at + BUCKET_GROUPS_OFFSET), b.getByte(at + MAX_GLOBAL_DEPTH_OFFSET) & 0xFF,
            b.getByte(at + INITIAL_GLOBAL_DEPTH_OFFSET) & 0xFF, b.getInt(at + MAX_CLIENTS_OFFSET),
            b.getLong(at + CLUSTER_ID_OFFSET), b.getInt(at + INDEX_AREA_LENGTH_OFFSET), hashes);
    }

    /** The agreed values. */
    public record Values(int layoutVersion, int replication, int regions, int regionSize, int blockSize,
        int bucketGroups, int maxGlobalDepth, int initialGlobalDepth, int maxClients, long clusterId,
        int indexAreaLength, long[] nodeHashes)
    {
    }
}
