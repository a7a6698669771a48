package io.dmkv.rdma;

/**
 * What a memory node tells a client about one registered region in its hello.
 *
 * @param id          region id, unique on its memory node.
 * @param key         capability every verb on the region must carry (64-bit random on local/tcp).
 * @param length      bytes in the region (at most 1 GiB).
 * @param rdmaAddress virtual address of the region's first byte for the rdma transport (0 if none).
 * @param rdmaKey     the NIC's rkey for the region (0 if not registered with a NIC).
 */
public record RegionInfo(int id, long key, long length, long rdmaAddress, int rdmaKey)
{
}
