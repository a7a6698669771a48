/*
 * Prints the layout facts dmkv's rdma transport relies on, one "name=value" per line, straight
 * from <infiniband/verbs.h>. IbvLayoutNativeTest compiles and runs this and compares every line
 * with the constants of IbvSendWrDescriptor and IbvWcStatus.
 */
#include <stddef.h>
#include <stdio.h>
#include <infiniband/verbs.h>

#define FIELD_SIZE(type, member) sizeof(((type *)0)->member)
#define WR(name, member) \
    printf("wr." name ".offset=%zu\n", offsetof(struct ibv_send_wr, member)); \
    printf("wr." name ".size=%zu\n", FIELD_SIZE(struct ibv_send_wr, member))
#define SGE(name, member) \
    printf("sge." name ".offset=%zu\n", offsetof(struct ibv_sge, member)); \
    printf("sge." name ".size=%zu\n", FIELD_SIZE(struct ibv_sge, member))
#define CONST(name) printf("const." #name "=%d\n", (int)(name))

int main(void)
{
    printf("sizeof.ibv_send_wr=%zu\n", sizeof(struct ibv_send_wr));
    printf("sizeof.ibv_sge=%zu\n", sizeof(struct ibv_sge));
    printf("sizeof.pointer=%zu\n", sizeof(void *));

    WR("wr_id", wr_id);
    WR("next", next);
    WR("sg_list", sg_list);
    WR("num_sge", num_sge);
    WR("opcode", opcode);
    WR("send_flags", send_flags);
    WR("imm_data", imm_data);
    WR("rdma.remote_addr", wr.rdma.remote_addr);
    WR("rdma.rkey", wr.rdma.rkey);
    WR("atomic.remote_addr", wr.atomic.remote_addr);
    WR("atomic.compare_add", wr.atomic.compare_add);
    WR("atomic.swap", wr.atomic.swap);
    WR("atomic.rkey", wr.atomic.rkey);

    SGE("addr", addr);
    SGE("length", length);
    SGE("lkey", lkey);

    CONST(IBV_WR_RDMA_WRITE);
    CONST(IBV_WR_RDMA_READ);
    CONST(IBV_WR_ATOMIC_CMP_AND_SWP);
    CONST(IBV_WR_ATOMIC_FETCH_AND_ADD);
    CONST(IBV_SEND_FENCE);
    CONST(IBV_SEND_SIGNALED);
    CONST(IBV_SEND_INLINE);
    CONST(IBV_ACCESS_LOCAL_WRITE);
    CONST(IBV_ACCESS_REMOTE_WRITE);
    CONST(IBV_ACCESS_REMOTE_READ);
    CONST(IBV_ACCESS_REMOTE_ATOMIC);
    CONST(IBV_WC_SUCCESS);
    CONST(IBV_WC_LOC_LEN_ERR);
    CONST(IBV_WC_LOC_QP_OP_ERR);
    CONST(IBV_WC_LOC_PROT_ERR);
    CONST(IBV_WC_WR_FLUSH_ERR);
    CONST(IBV_WC_BAD_RESP_ERR);
    CONST(IBV_WC_LOC_ACCESS_ERR);
    CONST(IBV_WC_REM_INV_REQ_ERR);
    CONST(IBV_WC_REM_ACCESS_ERR);
    CONST(IBV_WC_REM_OP_ERR);
    CONST(IBV_WC_RETRY_EXC_ERR);
    CONST(IBV_WC_RNR_RETRY_EXC_ERR);
    CONST(IBV_WC_FATAL_ERR);
    CONST(IBV_WC_GENERAL_ERR);
    return 0;
}
