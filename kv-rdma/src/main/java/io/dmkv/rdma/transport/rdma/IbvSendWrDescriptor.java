package io.dmkv.rdma.transport.rdma;

/**
 * Layout of libibverbs' {@code struct ibv_send_wr} and {@code struct ibv_sge} on little-endian
 * LP64 Linux (x86_64, aarch64), plus the verbs constants dmkv writes into work requests.
 * {@code <infiniband/verbs.h>} from {@code libibverbs-dev} is the truth; {@code IbvLayoutNativeTest}
 * compiles a C program with {@code offsetof}/{@code sizeof} and compares every value below.
 *
 * <pre>
 *  struct ibv_send_wr, sizeof 128
 *   0                   8                   16                  24        28        32        36        40
 *   +-------------------+-------------------+-------------------+---------+---------+---------+---------+
 *   | wr_id             | next              | sg_list           | num_sge | opcode  | flags   | imm_data|
 *   +-------------------+-------------------+-------------------+---------+---------+---------+---------+
 *   40                  48                  56                  64        68        72
 *   +-------------------+---------+---------+                                          wr.rdma
 *   | remote_addr       | rkey    | (pad)   |
 *   +-------------------+-------------------+-------------------+---------+---------+  wr.atomic
 *   | remote_addr       | compare_add       | swap              | rkey    | (pad)   |
 *   +-------------------+-------------------+-------------------+---------+---------+
 *   72 .. 128: qp_type union and bind_mw/tso union, never read for RC READ, WRITE or atomics
 *
 *  struct ibv_sge, sizeof 16
 *   0                   8         12        16
 *   +-------------------+---------+---------+
 *   | addr              | length  | lkey    |
 *   +-------------------+---------+---------+
 * </pre>
 *
 * <p>DiSNI 2.1 serialises a work request list into one native buffer with a stride of
 * {@link #DISNI_WR_STRIDE} bytes per request (its {@code NatIbvSendWR.CSIZE}), followed by the
 * scatter/gather entries, and links the requests through {@code next}. The stride is shorter than
 * {@code sizeof(struct ibv_send_wr)}: the tail unions of one request overlap the next request,
 * which is harmless because providers read them only for XRC, memory-window binds and TSO. The
 * atomic union ends at byte 68, inside the stride, so dmkv can write it in place.
 */
public final class IbvSendWrDescriptor
{
    /** {@code sizeof(struct ibv_send_wr)} in rdma-core's headers. */
    public static final int SEND_WR_SIZE = 128;
    /** Bytes per work request in DiSNI 2.1's serialised list ({@code NatIbvSendWR.CSIZE}). */
    public static final int DISNI_WR_STRIDE = 72;

    public static final int WR_ID_OFFSET = 0;
    public static final int NEXT_OFFSET = 8;
    public static final int SG_LIST_OFFSET = 16;
    public static final int NUM_SGE_OFFSET = 24;
    public static final int OPCODE_OFFSET = 28;
    public static final int SEND_FLAGS_OFFSET = 32;
    public static final int IMM_DATA_OFFSET = 36;

    /** {@code wr.rdma.remote_addr}. */
    public static final int RDMA_REMOTE_ADDR_OFFSET = 40;
    /** {@code wr.rdma.rkey}. */
    public static final int RDMA_RKEY_OFFSET = 48;

    /** {@code wr.atomic.remote_addr}. */
    public static final int ATOMIC_REMOTE_ADDR_OFFSET = 40;
    /** {@code wr.atomic.compare_add}: the expected value of a CAS, the delta of a FAA. */
    public static final int ATOMIC_COMPARE_ADD_OFFSET = 48;
    /** {@code wr.atomic.swap}: the new value of a CAS (ignored by FAA). */
    public static final int ATOMIC_SWAP_OFFSET = 56;
    /** {@code wr.atomic.rkey}: not where {@code wr.rdma.rkey} is, which is DiSNI 2.1's atomic bug. */
    public static final int ATOMIC_RKEY_OFFSET = 64;
    /** First byte after the fields of {@code wr.atomic}. */
    public static final int ATOMIC_END = ATOMIC_RKEY_OFFSET + 4;
    /** First byte after the fields of {@code wr.rdma}. */
    public static final int RDMA_END = RDMA_RKEY_OFFSET + 4;

    /** {@code sizeof(struct ibv_sge)}. */
    public static final int SGE_SIZE = 16;
    public static final int SGE_ADDR_OFFSET = 0;
    public static final int SGE_LENGTH_OFFSET = 8;
    public static final int SGE_LKEY_OFFSET = 12;

    /** {@code enum ibv_wr_opcode}. */
    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_RDMA_READ = 4;
    public static final int IBV_WR_ATOMIC_CMP_AND_SWP = 5;
    public static final int IBV_WR_ATOMIC_FETCH_AND_ADD = 6;

    /** {@code enum ibv_send_flags}. */
    public static final int IBV_SEND_FENCE = 1;
    public static final int IBV_SEND_SIGNALED = 2;
    public static final int IBV_SEND_INLINE = 8;

    /** {@code enum ibv_access_flags}. */
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 2;
    public static final int IBV_ACCESS_REMOTE_READ = 4;
    public static final int IBV_ACCESS_REMOTE_ATOMIC = 8;

    private IbvSendWrDescriptor()
    {
    }
}
