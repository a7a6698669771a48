package io.dmkv;

/**
 * The cluster has lost replicas this call needs: every replica of a region is on a dead memory
 * node (its data is gone until an operator restores it), or a write found fewer live replicas
 * than {@code dmkv.minLiveReplicas} allows. The message names the regions or the counts.
 */
public class ReplicasLostException extends KvException
{
    private static final long serialVersionUID = 1L;

    public ReplicasLostException(final String message)
    {
        super(message);
    }
}
