package io.dmkv.rdma;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One connection from a client to one memory node: the transport SPI. A channel executes the
 * verbs of a batch that target its regions, in the order posted, and completes them in that
 * order; it never runs user code on its network threads.
 */
public interface VerbsChannel extends AutoCloseable
{
    /** The memory node as described by its hello. */
    MemoryNodeInfo node();

    /** The node's regions, addressable by verbs. */
    List<RemoteRegion> regions();

    /** The region with this id; {@link RemoteAccessException} if the node has none. */
    default RemoteRegion region(final int regionId)
    {
        final List<RemoteRegion> r = regions();
        if (regionId < 0 || regionId >= r.size())
        {
            throw new RemoteAccessException(RemoteAccessException.Reason.UNKNOWN_REGION, -1,
                node() + " has no region " + regionId);
        }
        return r.get(regionId);
    }

    /**
     * Executes the verbs of {@code batch} whose region belongs to this channel as one round trip
     * and then calls {@link VerbBatch#partCompleted(int, Throwable)} with {@code part}. May
     * complete on the calling thread (local) or on a network thread (tcp, rdma).
     */
    void submit(VerbBatch batch, int part);

    /**
     * True if this channel completes every part inside {@link #submit}, on the posting thread (the
     * {@code local} transport): a round trip on it never waits. False by default.
     */
    default boolean completesInSubmit()
    {
        return false;
    }

    /**
     * A connection on which the calling thread can do a part's round trip itself, or null (the
     * default: this channel has none, or none for this thread now). Asked only for a thread inside
     * {@link CallerWaits}; a lane belongs to the thread that got it.
     */
    default InlineLane inlineLane()
    {
        return null;
    }

    /**
     * Sends a two-sided request to the memory node's handler for {@code method}. The future may
     * complete on a network thread: callers chain with *Async stages or use {@link VerbsClient}.
     */
    CompletableFuture<ByteBuffer> rpc(int method, ByteBuffer request);

    /** What this channel did. */
    VerbCounters counters();

    boolean isOpen();

    /** Closes the connection; verbs still in flight fail with {@link ConnectionException}. */
    @Override
    void close();
}
