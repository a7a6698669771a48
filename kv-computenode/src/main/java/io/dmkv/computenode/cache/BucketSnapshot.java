package io.dmkv.computenode.cache;

import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * A client's copy of whole RACE subtables, read from the primary index replica and kept current
 * by every bucket READ the client makes: it tells a SEARCH for a key that is not in the
 * {@link IndexCache} (never looked up by this client) which slot probably holds it, so the
 * object can be READ in the same round trip as the buckets, as on an index-cache hit.
 *
 * <p>The copy is only a guess, like the index cache: the SEARCH still reads both combined
 * buckets from the primary, and takes the object only if the slot there still holds the value
 * the guess came from and the object is whole and holds the key. A wrong guess costs the READ of
 * one object; the SEARCH then goes on as without a guess (candidates from the fresh buckets).
 *
 * <p>A client that opens with an empty index cache (a YCSB run, a restarted service) would
 * otherwise spend two round trips on the first look-up of every key. A subtable is copied once
 * this client has missed the index cache {@link #WARM_AFTER_MISSES} times since the last copy,
 * by one READ on the maintenance thread, so a short-lived client (one CLI call) copies nothing.
 * At most {@code budgetBytes} of subtables are copied; a store whose index is larger keeps
 * copies of the subtables it missed in first.
 *
 * <p>Thread-safe and allocation-free on the look-up path: slots are copied and read as aligned
 * 8-byte words, so a racing reader sees each slot as a value it held at some time, never torn.
 */
public final class BucketSnapshot
{
    /** Index-cache misses (in subtables not copied yet) after which the next such subtable is copied. */
    public static final int WARM_AFTER_MISSES = 64;
    /** Bytes per {@code dmkv.cache.entries} entry a store allows its copies: 4 MiB at the default 65,536. */
    public static final int BYTES_PER_CACHE_ENTRY = 64;
    /** Budget of tools and tests that assemble an index by hand: five default subtables. */
    public static final long DEFAULT_BUDGET = 65_536L * BYTES_PER_CACHE_ENTRY;

    private static final Logger LOG = LoggerFactory.getLogger(BucketSnapshot.class);
    private static final Copy[] NONE = new Copy[0];

    private final ClusterView view;
    private final VerbsClient client;
    private final Executor background;
    private final int bucketGroups;
    private final int subtableLength;
    private final int maxCopies;
    private final AtomicInteger missesSinceCopy = new AtomicInteger();
    private final AtomicBoolean copying = new AtomicBoolean();
    private final LongAdder guesses = new LongAdder();
    private final LongAdder rightGuesses = new LongAdder();
    private volatile Copy[] copies = NONE;
    /**
     * The subtables of {@link #copies}, in the same order, searched instead of the records: one
     * or two memory lines for every copy, not one per copy. Published after {@link #copies}, so a
     * reader that finds a subtable here finds its copy there.
     */
    private volatile long[] copied = new long[0];

    private record Copy(long subtable, UnsafeBuffer bytes)
    {
    }

    /**
     * @param view        the cluster's routing (subtables are read from their primary replica).
     * @param client      the verbs client that reads them.
     * @param background  where a copy is read (blocking; never a completion thread).
     * @param budgetBytes most bytes of subtables to copy; less than one subtable turns copying off.
     */
    public BucketSnapshot(final ClusterView view, final VerbsClient client, final Executor background,
        final long budgetBytes)
    {
        this.view = view;
        this.client = client;
        this.background = background;
        this.bucketGroups = view.descriptor().bucketGroups();
        this.subtableLength = Subtable.length(bucketGroups);
        this.maxCopies = (int)Math.min(64, budgetBytes / subtableLength);
    }

    /** Whether this snapshot copies anything at all (a budget of at least one subtable). */
    public boolean enabled()
    {
        return maxCopies > 0;
    }

    private Copy copyOf(final long subtable)
    {
        final long[] ids = copied;
        for (int i = 0; i < ids.length; i++)
        {
            if (ids[i] == subtable)
            {
                return copies[i];
            }
        }
        return null;
    }

    /**
     * The address of the slot in combined bucket {@code c1} or {@code c2} of {@code subtable} that
     * the copy says holds a key of {@code hash} (fingerprint and hash byte match a well-formed
     * slot), with its value in {@code out[0]}; 0 when the copy has no such slot or no copy of
     * the subtable. A miss counts towards copying the subtable.
     */
    public long guess(final long subtable, final int c1, final int c2, final long hash, final int fingerprint,
        final long[] out)
    {
        if (maxCopies == 0)
        {
            return 0;
        }
        final Copy copy = copyOf(subtable);
        if (copy == null)
        {
            missed(subtable);
            return 0;
        }
        final long slot = find(copy.bytes, subtable, c1, hash, fingerprint, out);
        final long found = slot != 0 ? slot : find(copy.bytes, subtable, c2, hash, fingerprint, out);
        if (found != 0)
        {
            guesses.increment();
        }
        return found;
    }

    private long find(final UnsafeBuffer bytes, final long subtable, final int c, final long hash,
        final int fingerprint, final long[] out)
    {
        final int base = Subtable.combinedBucketOffset(c);
        final int suffix = (int)(hash & 0xFF);
        int mask = CombinedBucket.fingerprintMatches(bytes, base, c, fingerprint);
        while (mask != 0)
        {
            final int i = Integer.numberOfTrailingZeros(mask);
            mask &= mask - 1;
            final long value = CombinedBucket.slot(bytes, base, c, i);
            if (Slot.hashSuffix(value) == suffix && Slot.isWellFormed(value) && GlobalAddress.regionId(Slot.address(value)) < view.regions())
            {
                out[0] = value;
                return subtable + Subtable.slotOffset(c, i);
            }
        }
        return 0;
    }

    /** A guess from {@link #guess} held: its object was in its slot and held the key. */
    public void guessedRight()
    {
        rightGuesses.increment();
    }

    /**
     * Brings the copy of combined bucket {@code c} of {@code subtable} (if there is one) up to the
     * 128 bytes a READ just brought into {@code src} at {@code offset}.
     */
    public void learn(final long subtable, final int c, final DirectBuffer src, final int offset)
    {
        if (maxCopies == 0)
        {
            return;
        }
        final Copy copy = copyOf(subtable);
        if (copy != null)
        {
            final int base = Subtable.combinedBucketOffset(c);
            for (int i = 0; i < CombinedBucket.LENGTH; i += Long.BYTES)
            {
                // Most READs find the copy current: compare first, and store only what changed, with
                // a release store (a plain store on x86; a volatile one would fence every word).
                final long word = src.getLong(offset + i);
                if (copy.bytes.getLong(base + i) != word)
                {
                    copy.bytes.putLongOrdered(base + i, word);
                }
            }
        }
    }

    private void missed(final long subtable)
    {
        if (copies.length < maxCopies && missesSinceCopy.incrementAndGet() >= WARM_AFTER_MISSES
            && copying.compareAndSet(false, true))
        {
            try
            {
                background.execute(() -> copy(subtable));
            }
            catch (final RuntimeException e)
            {
                copying.set(false);
                LOG.debug("index snapshot of subtable {} not started: {}", Long.toHexString(subtable), e.toString());
            }
        }
    }

    private void copy(final long subtable)
    {
        try
        {
            if (copyOf(subtable) == null && copies.length < maxCopies)
            {
                final UnsafeBuffer bytes = new UnsafeBuffer(new byte[subtableLength]);
                final VerbBatch batch = new VerbBatch();
                view.read(batch, subtable, 0, bytes, 0, subtableLength);
                client.execute(batch);
                final Copy[] now = copies;
                final Copy[] grown = Arrays.copyOf(now, now.length + 1);
                grown[now.length] = new Copy(subtable, bytes);
                copies = grown;
                final long[] ids = Arrays.copyOf(copied, grown.length);
                ids[now.length] = subtable;
                copied = ids;
                LOG.debug("index snapshot: copied subtable {} ({} bytes)", Long.toHexString(subtable), subtableLength);
            }
        }
        catch (final RuntimeException e)
        {
            // Only a guess is lost: searches go on without one.
            LOG.debug("index snapshot of subtable {} failed: {}", Long.toHexString(subtable), e.toString());
        }
        finally
        {
            missesSinceCopy.set(0);
            copying.set(false);
        }
    }

    /** Subtables copied so far. */
    public int copies()
    {
        return copies.length;
    }

    /** Searches that took a guess from a copy. */
    public long guesses()
    {
        return guesses.sum();
    }

    /** Guesses whose object held the key (one round trip instead of two). */
    public long rightGuesses()
    {
        return rightGuesses.sum();
    }
}
