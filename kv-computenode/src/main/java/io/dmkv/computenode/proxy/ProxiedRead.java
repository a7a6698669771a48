package io.dmkv.computenode.proxy;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.ValueSink;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.Slot;
import io.dmkv.rdma.BatchListener;
import io.dmkv.rdma.ThreadCounters;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The last step of a proxied read, without a thread: the proxy named the key's slot, so one
 * READ of the object (posted from whichever thread had the answer) completes the search. An
 * object that no longer holds the key (written again and reused since the proxy answered) hands
 * the search to {@code retry}, the router's blocking path.
 */
final class ProxiedRead implements BatchListener
{
    private final byte[] key;
    private final int length;
    private final UnsafeBuffer object;
    private final OpCompletion<byte[]> done;
    private final Runnable retry;

    private ProxiedRead(final byte[] key, final long slot, final OpCompletion<byte[]> done, final Runnable retry)
    {
        this.key = key;
        this.length = Slot.objectLength(slot);
        this.object = new UnsafeBuffer(new byte[length]);
        this.done = done;
        this.retry = retry;
    }

    /** READs the object of {@code slot} from one data replica and completes {@code done} with its value. */
    static void start(final ClusterView view, final VerbsClient verbs, final byte[] key, final long slot,
        final OpCompletion<byte[]> done, final ThreadCounters attributeTo, final Runnable retry)
    {
        final ProxiedRead r = new ProxiedRead(key, slot, done, retry);
        final VerbBatch b = new VerbBatch();
        view.read(b, Slot.address(slot), (int)((slot >>> 8) % view.replicasOf(Slot.address(slot))), r.object, 0, r.length);
        try
        {
            verbs.post(b, r, attributeTo);
        }
        catch (final RuntimeException e)
        {
            done.complete(null, e);
        }
    }

    @Override
    public void batchCompleted(final VerbBatch batch, final Throwable failure)
    {
        if (failure != null)
        {
            done.complete(null, failure);
            return;
        }
        if (KvObject.validate(object, 0, length, new Crc32cDigest()) != ObjectStatus.OK
            || !KvObject.keyEquals(object, 0, key))
        {
            retry.run();
            return;
        }
        if (done instanceof ValueSink sink)
        {
            sink.value(object, KvObject.valueOffset(object, 0), KvObject.valueLength(object, 0));
            done.complete(ValueSink.DELIVERED, null);
        }
        else
        {
            done.complete(KvObject.valueBytes(object, 0), null);
        }
    }
}
