package io.dmkv.rdma;

/**
 * Low-level completion callback of a posted batch. It runs on whichever thread completed the
 * batch's last part — possibly a network event loop — so it must be short and must never block.
 * User-facing code uses {@link VerbsClient#execute} or {@link VerbsClient#executeAsync} instead.
 */
@FunctionalInterface
public interface BatchListener
{
    /** @param failure null on success, else the first failure of any part. */
    void batchCompleted(VerbBatch batch, Throwable failure);
}
