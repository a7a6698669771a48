package io.dmkv.computenode.ops;

/**
 * The seam between the store's API and the index protocols: search and mutate a key whose hash
 * the caller computed once ({@code KeyHash.hash(key)}). Keys and values arrive checked
 * ({@link KeyLimits}).
 *
 * <p>Today's implementation is FUSEE's one-sided path ({@link FuseeIndex}). FlexKV's partition
 * router sits here too: it picks, per partition, the local proxy, a remote proxy, or the FUSEE
 * path behind the same interface, without the FUSEE path knowing.
 *
 * <p>Operations are asynchronous: a call posts the operation's first verbs and returns; the
 * outcome arrives through {@link OpCompletion}. An implementation never blocks the calling
 * thread waiting for the network.
 */
public interface KeyIndex
{
    /** Looks up {@code key}; completes with its value, or null when it has none. */
    void search(byte[] key, long hash, OpCompletion<byte[]> done);

    /** Inserts, updates or deletes {@code key} as {@code mode} says ({@code value} is ignored for DELETE). */
    void mutate(Mode mode, byte[] key, long hash, byte[] value, OpCompletion<Result> done);

    /** Posts whatever work this index deferred (frees of replaced objects); called when the store closes. */
    void flush();
}
