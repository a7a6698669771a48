package io.dmkv.computenode.proxy;

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
 * <p>Not thread-safe: the owner holds the subtable's monitor for every access (the "CPU lock"
 * of docs/flexkv.md §4), write-through included, so slot changes are serialised per subtable.
 */
final class ProxiedSubtable
{
    private final long address;
    private final long[] words;
    private final byte[][] keys;
    private final int localDepth;
    private final int suffix;
    /** Set when a split replaced this subtable: a thread that waited for its monitor must look again. */
    private boolean retired;

    ProxiedSubtable(final long address, final UnsafeBuffer image, final int length)
    {
        this.address = address;
        this.words = new long[length / Slot.LENGTH];
        for (int i = 0; i < words.length; i++)
        {
            words[i] = image.getLong(i * Slot.LENGTH);
        }
        this.keys = new byte[words.length][];
        final long header = words[0];
        this.localDepth = Bucket.localDepth(header);
        this.suffix = Bucket.suffix(header);
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
