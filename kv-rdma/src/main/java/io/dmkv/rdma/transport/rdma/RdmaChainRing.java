package io.dmkv.rdma.transport.rdma;

/**
 * The chains of work requests a channel has posted and the NIC has not completed, oldest first,
 * in a ring of preallocated chains (one per send-queue slot), and the work requests they hold
 * (the send queue's credits in use). Guarded by the channel's lock.
 */
final class RdmaChainRing
{
    private final RdmaChain[] ring;
    private int head;
    private int size;
    private int outstanding;

    RdmaChainRing(final int chains, final int maxWrPerChain)
    {
        ring = new RdmaChain[chains];
        for (int i = 0; i < ring.length; i++)
        {
            ring[i] = new RdmaChain(maxWrPerChain);
        }
    }

    boolean isEmpty()
    {
        return size == 0;
    }

    boolean isFull()
    {
        return size == ring.length;
    }

    /** Work requests posted and not completed. */
    int outstanding()
    {
        return outstanding;
    }

    /** The free chain to fill next; {@link #push} it once posted. */
    RdmaChain tail()
    {
        return ring[(head + size) % ring.length];
    }

    void push(final RdmaChain chain)
    {
        size++;
        outstanding += chain.count;
    }

    /** The oldest posted chain, or null. */
    RdmaChain head()
    {
        return size == 0 ? null : ring[head];
    }

    /** The oldest chain completed: its staging and its credits are free again. */
    void retireHead(final StagingRing staging)
    {
        final RdmaChain chain = ring[head];
        outstanding -= chain.count;
        staging.releaseTo(chain.stagingMark);
        chain.part = null;
        head = (head + 1) % ring.length;
        size--;
    }

    /** Forgets every posted chain (the queue pair failed or closed). */
    void clear()
    {
        for (int k = 0; k < size; k++)
        {
            ring[(head + k) % ring.length].part = null;
        }
        size = 0;
    }
}
