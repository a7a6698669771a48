package io.dmkv.computenode.ops;

import org.agrona.DirectBuffer;

import io.dmkv.computenode.cache.BucketSnapshot;
import io.dmkv.computenode.cache.IndexCache;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.index.BucketProbe;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.core.hash.KeyHash;
import io.dmkv.core.layout.IndexRoot;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;

/**
 * FUSEE's SEARCH as an asynchronous state machine:
 * <pre>
 * 1 READ both combined buckets from the primary; with an index-cache entry, READ only the
 *   combined bucket holding the cached slot, and the cached object; without one, but with a
 *   slot the client's copy of the subtable guesses (BucketSnapshot), READ both and the guessed object
 *   (buckets read without an index-cache entry bring the copy up to date)
 *   - a guess whose object is still in its slot and holds the key: done (and cached)
 *   - a wrong guess: go on as without one (step 2 from the buckets just read)
 *   - buckets no longer cover the key: refresh the directory, start over
 *   - a split froze them: back off, refresh, start over
 *   - the cached object is still in its slot and holds the key: done
 *   - it is not, and only one bucket was read: READ both buckets (one more round trip)
 * 2 READ the candidate objects whose fingerprint matches; compare full keys
 *   - an object changed under the READ: start over
 * </pre>
 */
final class SearchOperation extends Operation
{
    private final FuseeIndex index;
    private final IndexDirectory directory;
    private final IndexCache cache;
    private final BucketSnapshot snapshot;
    private final long[] guessed = new long[1];
    private final BucketProbe probe;
    private final VerbBatch batch = new VerbBatch();
    private final int bucketGroups;
    private final Runnable attempt = this::attempt;
    private final Runnable afterBuckets = this::afterBuckets;
    private final Runnable afterCandidates = this::afterCandidates;

    private byte[] key;
    private long hash;
    private OpCompletion<byte[]> done;
    private long cachedSlot;
    private long cachedValue;
    private boolean speculate;
    /** The speculation is a {@link BucketSnapshot} guess, not an index-cache entry. */
    private boolean guess;
    private boolean noSpeculation;
    private boolean failed;

    SearchOperation(final FuseeIndex index, final OpRuntime runtime, final ClusterView view,
        final IndexDirectory directory, final IndexCache cache, final BucketSnapshot snapshot, final long timeoutNs)
    {
        super(runtime, timeoutNs);
        this.index = index;
        this.directory = directory;
        this.cache = cache;
        this.snapshot = snapshot;
        this.probe = new BucketProbe(view);
        this.bucketGroups = view.descriptor().bucketGroups();
    }

    void start(final byte[] k, final long h, final OpCompletion<byte[]> completion)
    {
        // A search's first attempt takes no timer and no RPC: where round trips complete in their posts
        // (local), it never waits, and the clock is read at its first retry if any.
        begin(runtime.client().completesInPost());
        key = k;
        hash = h;
        done = completion;
        failed = false;
        noSpeculation = false;
        run(attempt);
    }

    @Override
    void proceed(final Runnable step)
    {
        if (step == afterBuckets)
        {
            afterBuckets();
        }
        else if (step == afterCandidates)
        {
            afterCandidates();
        }
        else if (step == attempt)
        {
            attempt();
        }
        else
        {
            step.run();
        }
    }

    private void attempt()
    {
        final long entry = directory.current().entryFor(hash);
        final long subtable = IndexRoot.entrySubtable(entry);
        final int c1 = Subtable.combinedBucket1(hash, bucketGroups);
        final int c2 = Subtable.combinedBucket2(hash, bucketGroups);
        batch.reset();
        cachedSlot = noSpeculation ? 0 : cache.slotAddress(hash);
        cachedValue = cachedSlot != 0 ? cache.slotValue(hash) : 0;
        speculate = cachedSlot != 0 && cachedValue != 0 && probe.readBucketHolding(batch, subtable, c1, c2, cachedSlot);
        guess = false;
        if (!speculate)
        {
            probe.readBuckets(batch, subtable, c1, c2);
            if (!noSpeculation && cachedSlot == 0 && !cache.isBypassed(hash))
            {
                cachedSlot = snapshot.guess(subtable, c1, c2, hash, KeyHash.fingerprint(hash), guessed);
                cachedValue = guessed[0];
                guess = speculate = cachedSlot != 0;
            }
        }
        if (speculate)
        {
            probe.readObject(batch, cachedValue);
        }
        post(batch, afterBuckets);
    }

    private void afterBuckets()
    {
        if (!probe.covers(hash))
        {
            if (retry("search"))
            {
                directory.refresh(this, attempt);
            }
            return;
        }
        if (probe.frozen())
        {
            // A split is under way: once the directory points at the new half, a frozen S no longer
            // gets this key's writes, so its copy may be stale. Wait for the split.
            if (retry("search (index split under way)"))
            {
                backoff(() -> directory.refresh(this, attempt));
            }
            return;
        }
        if (!speculate || guess)
        {
            // An index-cache hit does not teach the subtable copy: the copy serves keys the cache
            // does not hold, a guess from a stale copy costs no more round trips than no guess (both
            // buckets are read beside it), and comparing against the copy is a cache miss in a
            // large array, a fifth of a get on local.
            probe.teach(snapshot);
        }
        if (speculate)
        {
            final byte[] value = probe.slotValueAt(cachedSlot) == cachedValue ? speculatedValue() : null;
            if (value != null)
            {
                if (guess)
                {
                    snapshot.guessedRight();
                    cache.put(hash, cachedSlot, cachedValue);
                }
                else
                {
                    cache.hit(hash);
                }
                if (value == ValueSink.DELIVERED)
                {
                    found(0);
                }
                else
                {
                    finish(value);
                }
                return;
            }
            if (!guess)
            {
                cache.miss(hash);
            }
            if (!probe.readBoth())
            {
                noSpeculation = true;
                attempt();
                return;
            }
        }
        if (probe.findCandidates(hash, KeyHash.fingerprint(hash)) == 0)
        {
            finish(null);
            return;
        }
        index.candidateRead();
        batch.reset();
        probe.readCandidates(batch);
        post(batch, afterCandidates);
    }

    private void afterCandidates()
    {
        final int hit = probe.match(key);
        if (hit >= 0)
        {
            cache.put(hash, probe.candidateSlot(hit), probe.candidateValue(hit));
            found(probe.candidateOffset(hit));
            return;
        }
        if (hit == BucketProbe.NO_MATCH)
        {
            finish(null);
            return;
        }
        if (!damaged(probe.racedSlot(), "search") && retry("search"))
        {
            attempt();
        }
    }

    /**
     * The speculated object's value if it is whole and holds the key, else null: for a sink,
     * {@link ValueSink#DELIVERED} (the object then at 0 of the probe's buffer, for {@link #found});
     * else a new array, the value copied once from where the transport left the object.
     */
    private byte[] speculatedValue()
    {
        if (done instanceof ValueSink)
        {
            return probe.speculationHolds(batch, cachedValue, key) ? ValueSink.DELIVERED : null;
        }
        return probe.speculatedValue(batch, cachedValue, key);
    }

    private void finish(final byte[] value)
    {
        complete(value, null);
    }

    /** The object at {@code offset} of the probe's read buffer holds the key: hand over its value. */
    private void found(final int offset)
    {
        final DirectBuffer objects = probe.objects();
        if (done instanceof ValueSink)
        {
            ((ValueSink)done).value(objects, KvObject.valueOffset(objects, offset), KvObject.valueLength(objects, offset));
            finish(ValueSink.DELIVERED);
        }
        else
        {
            finish(KvObject.valueBytes(objects, offset));
        }
    }

    @Override
    public void fail(final Throwable failure)
    {
        if (!failed && done != null)
        {
            failed = true;
            complete(null, failure);
        }
    }

    private void complete(final byte[] value, final Throwable failure)
    {
        final OpCompletion<byte[]> d = done;
        done = null;
        key = null;
        index.retries(retries);
        index.release(this);
        d.complete(value, failure);
    }
}
