package io.dmkv.computenode.proxy;

import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.StampedLock;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.core.layout.Bucket;
import io.dmkv.core.layout.CombinedBucket;
import io.dmkv.core.layout.Slot;
import io.dmkv.core.layout.Subtable;

/**
 * A proxy's copy of one RACE subtable of a partition it owns: every 8-byte word of the subtable
 * as the memory nodes hold it (the proxy is its only writer, so the copy stays exact as long as
 * every change is written through), and for each slot the key of the object it points at, once
 * the proxy has learnt it (from a write it served, or from one READ of the object).
 *
 * <p>Locking (the "CPU lock" of docs/flexkv.md §4): an operation holds the subtable's structure
 * lock shared and the stripes of the two bucket groups its key may live in (a combined bucket is
 * a main bucket and the overflow bucket of its group, so a group is the unit), taken in stripe
 * order; its write-through happens under them, so changes of one slot are serialised and a read
 * never sees a value before it is on every index replica. A split takes the structure lock
 * exclusively. The locks belong to no thread (a {@link StampedLock} and semaphores), so an
 * asynchronous write takes them on one thread and releases them on the thread that completes
 * its write-through.
 */
final class ProxiedSubtable
{
    private final long address;
    private final long[] words;
    private final byte[][] keys;
    private final int localDepth;
    private final int suffix;
    private static final int STRIPES = 64;

    /** Set when a split replaced this subtable: a thread that waited for its locks must look again. */
    private volatile boolean retired;
    private final StampedLock structure = new StampedLock();
    private final Semaphore[] stripes = new Semaphore[STRIPES];

    ProxiedSubtable(final long address, final UnsafeBuffer image, final int length)
    {
        this.address = address;
        this.words = new long[length / Slot.LENGTH];
        for (int i = 0; i < words.length; i++)
        {
            words[i] = image.getLong(i * Slot.LENGTH);
        }
        this.keys = new byte[words.length][];
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new Semaphore(1);
        }
        final long header = words[0];
        this.localDepth = Bucket.localDepth(header);
        this.suffix = Bucket.suffix(header);
    }

    /** Shared for operations, exclusive for a split. */
    StampedLock structure()
    {
        return structure;
    }

    /** Takes the stripes of combined buckets {@code c1} and {@code c2} (once if they share one), waiting. */
    void lockStripes(final int c1, final int c2)
    {
        final int a = Math.min(stripeOf(c1), stripeOf(c2));
        final int b = Math.max(stripeOf(c1), stripeOf(c2));
        stripes[a].acquireUninterruptibly();
        if (b != a)
        {
            stripes[b].acquireUninterruptibly();
        }
    }

    /** Takes both stripes without waiting; false (holding neither) if one is taken. */
    boolean tryLockStripes(final int c1, final int c2)
    {
        final int a = Math.min(stripeOf(c1), stripeOf(c2));
        final int b = Math.max(stripeOf(c1), stripeOf(c2));
        if (!stripes[a].tryAcquire())
        {
            return false;
        }
        if (b != a && !stripes[b].tryAcquire())
        {
            stripes[a].release();
            return false;
        }
        return true;
    }

    /** Takes the stripe of bucket group {@code group}, waiting. */
    void lockGroup(final int group)
    {
        stripes[group % STRIPES].acquireUninterruptibly();
    }

    void unlockGroup(final int group)
    {
        stripes[group % STRIPES].release();
    }

    /** The bucket group holding word {@code index}. */
    static int groupOf(final int index)
    {
        return index * Slot.LENGTH / Subtable.BUCKET_GROUP_LENGTH;
    }

    /** Occupied slots whose key the copy does not know yet (word indices). */
    int[] unknownKeys()
    {
        int n = 0;
        final int[] out = new int[words.length];
        for (int i = 0; i < words.length; i++)
        {
            if (keys[i] == null && Slot.fingerprint(words[i]) != 0 && Slot.isWellFormed(words[i])
                && (i * Slot.LENGTH) % Bucket.LENGTH != 0)
            {
                out[n++] = i;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Releases what {@link #lockStripes} took (from any thread). */
    void unlockStripes(final int c1, final int c2)
    {
        final int a = stripeOf(c1);
        final int b = stripeOf(c2);
        stripes[a].release();
        if (b != a)
        {
            stripes[b].release();
        }
    }

    private static int stripeOf(final int c)
    {
        return (c >>> 1) % STRIPES;
    }

    long address()
    {
        return address;
    }

    int localDepth()
    {
        return localDepth;
    }

    int suffix()
    {
        return suffix;
    }

    boolean retired()
    {
        return retired;
    }

    void retire()
    {
        retired = true;
    }

    /** Word index of slot {@code i} of combined bucket {@code c}. */
    static int slotIndex(final int c, final int i)
    {
        return Subtable.slotOffset(c, i) / Slot.LENGTH;
    }

    long word(final int index)
    {
        return words[index];
    }

    byte[] key(final int index)
    {
        return keys[index];
    }

    /** Records what slot {@code index} now holds, and the key of its object (null: unknown or none). */
    void set(final int index, final long slot, final byte[] key)
    {
        words[index] = slot;
        keys[index] = Slot.isFree(slot) ? null : key;
    }

    /** Bytes of this copy: 8 per word, 8 per key reference, and each learnt key with its array header. */
    long accountedBytes()
    {
        long n = 16L * words.length;
        for (final byte[] k : keys)
        {
            if (k != null)
            {
                n += k.length + TwoLevelMemory.ARRAY_HEADER;
            }
        }
        return n;
    }

    /** Records the key learnt for slot {@code index} from a READ of its object. */
    void learn(final int index, final byte[] key)
    {
        keys[index] = key;
    }

    /** Global address of the slot at word {@code index}. */
    long slotAddress(final int index)
    {
        return address + (long)index * Slot.LENGTH;
    }

    /** Free slots of combined bucket {@code c} (bit i: slot i is empty or a tombstone). */
    int freeSlots(final int c)
    {
        int mask = 0;
        for (int i = 0; i < CombinedBucket.SLOT_COUNT; i++)
        {
            if (Slot.isFree(words[slotIndex(c, i)]))
            {
                mask |= 1 << i;
            }
        }
        return mask;
    }
}
