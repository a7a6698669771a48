package io.dmkv.core.layout;

import io.dmkv.core.address.GlobalAddress;

/**
 * An index slot: one 8-byte word that a client changes only with CAS, pointing at a KV object.
 *
 * <pre>
 *   63          56 55          48 47                                  8 7           0
 *   +-------------+-------------+-------------------------------------+-------------+
 *   | fingerprint |   length    |   object address in 256-B units     | hash suffix |
 *   |   (1..255)  | (256-B units|   (40 bits)                         | byte (bits  |
 *   |             |   1..255)   |                                     | 0..7 of key |
 *   |             |             |                                     | hash)       |
 *   +-------------+-------------+-------------------------------------+-------------+
 *                               |---- global byte address (48 bits, low byte 0) ----|
 * </pre>
 * Exactly: bits 8..47 hold bits 8..47 of the object's {@link GlobalAddress}; objects are
 * 256-byte aligned, so the address's low byte is always zero and the slot keeps the low 8 bits
 * of the key's hash there instead. Those are the subtable-suffix bits of extendible hashing, so
 * a subtable split learns which half each slot moves to without reading any object (this caps
 * the global depth at {@value #SUFFIX_BITS}). In memory (native little-endian order) byte 7 of
 * the slot is the fingerprint, byte 6 the length and byte 0 the hash suffix byte.
 *
 * <p>The length counts {@value #LENGTH_UNIT}-byte units, the size of the object's size class,
 * which is how much a reader READs: at most {@value #MAX_LENGTH_UNITS} units =
 * {@value #MAX_OBJECT_LENGTH} bytes. {@link SizeClasses} and {@link KvObject} derive the key and
 * value limits from it. FUSEE counts 64-byte units (16 KiB objects at most); 256-byte units
 * match the object alignment and quadruple the largest value.
 *
 * <p>All-zero is {@link #EMPTY}. An occupied slot has a non-zero fingerprint, a non-zero length
 * and an object address (never 0), so any one of them tells an occupied slot from an empty one.
 */
public final class Slot
{
    /** Bytes in a slot. */
    public static final int LENGTH = 8;
    /** The empty slot. */
    public static final long EMPTY = 0L;
    /** Shift of the fingerprint field. */
    public static final int FINGERPRINT_SHIFT = 56;
    /** Shift of the length field. */
    public static final int LENGTH_SHIFT = 48;
    /** Mask of the address field (bits 8..47; the address's low byte is always zero). */
    public static final long ADDRESS_MASK = GlobalAddress.ADDRESS_MASK & ~0xFFL;
    /** Hash bits kept in a slot's low byte, and so the largest global depth the index supports. */
    public static final int SUFFIX_BITS = 8;
    /** Byte offset of the fingerprint inside the slot in memory. */
    public static final int FINGERPRINT_BYTE_OFFSET = 7;
    /** Byte offset of the length inside the slot in memory. */
    public static final int LENGTH_BYTE_OFFSET = 6;
    /** Bytes per length unit; equal to the object alignment. */
    public static final int LENGTH_UNIT = GlobalAddress.OBJECT_ALIGNMENT;
    /** Largest length field. */
    public static final int MAX_LENGTH_UNITS = 255;
    /** Largest object a slot can point at: 255 x 256 = 65,280 bytes. */
    public static final int MAX_OBJECT_LENGTH = MAX_LENGTH_UNITS * LENGTH_UNIT;

    private Slot()
    {
    }

    /**
     * Packs an occupied slot.
     *
     * @param fingerprint 1..255, from {@code KeyHash.fingerprint}.
     * @param lengthUnits 1..255, the object's size in 256-byte units.
     * @param address     the object's global address (256-byte aligned, never 0).
     * @throws IllegalArgumentException if a field is out of range.
     */
    public static long pack(final int fingerprint, final int lengthUnits, final long address)
    {
        return pack(fingerprint, lengthUnits, address, 0);
    }

    /**
     * Packs an occupied slot that also keeps the low byte of the key's hash.
     *
     * @param hashSuffix the key hash's low 8 bits (only those are kept).
     */
    public static long pack(final int fingerprint, final int lengthUnits, final long address, final long hashSuffix)
    {
        if (fingerprint < 1 || fingerprint > 255)
        {
            throw new IllegalArgumentException("fingerprint " + fingerprint + " is outside 1..255");
        }
        if (lengthUnits < 1 || lengthUnits > MAX_LENGTH_UNITS)
        {
            throw new IllegalArgumentException("slot length " + lengthUnits + " units is outside 1.." + MAX_LENGTH_UNITS
                + " (objects are at most " + MAX_OBJECT_LENGTH + " bytes)");
        }
        GlobalAddress.requireObjectAddress(address, "slot address");
        return ((long)fingerprint << FINGERPRINT_SHIFT) | ((long)lengthUnits << LENGTH_SHIFT) | address
            | (hashSuffix & 0xFFL);
    }

    /**
     * A tombstone: what a DELETE leaves in a slot. It points at the delete's log object, with
     * fingerprint 0 so no SEARCH ever matches it, and counts as free for inserts. Unlike the
     * all-zero empty word it is unique, so racing DELETEs propose distinct values to SNAPSHOT and
     * an insert that read a slot as free cannot succeed after the slot was used and freed again.
     */
    public static long tombstone(final int lengthUnits, final long address, final long hashSuffix)
    {
        if (lengthUnits < 1 || lengthUnits > MAX_LENGTH_UNITS)
        {
            throw new IllegalArgumentException("slot length " + lengthUnits + " units is outside 1.." + MAX_LENGTH_UNITS);
        }
        GlobalAddress.requireObjectAddress(address, "tombstone address");
        return ((long)lengthUnits << LENGTH_SHIFT) | address | (hashSuffix & 0xFFL);
    }

    /** True for a slot an insert may take: empty or a tombstone (fingerprint 0). */
    public static boolean isFree(final long slot)
    {
        return fingerprint(slot) == 0;
    }

    /** True for a tombstone (free, but pointing at a delete's log object). */
    public static boolean isTombstone(final long slot)
    {
        return slot != EMPTY && fingerprint(slot) == 0;
    }

    /** The low byte of the key hash kept in the slot. */
    public static int hashSuffix(final long slot)
    {
        return (int)(slot & 0xFF);
    }

    /** Fingerprint of a slot (0 for the empty slot). */
    public static int fingerprint(final long slot)
    {
        return (int)(slot >>> FINGERPRINT_SHIFT);
    }

    /** Length field of a slot in 256-byte units. */
    public static int lengthUnits(final long slot)
    {
        return (int)(slot >>> LENGTH_SHIFT) & 0xFF;
    }

    /** Bytes to READ for the object the slot points at. */
    public static int objectLength(final long slot)
    {
        return lengthUnits(slot) * LENGTH_UNIT;
    }

    /** The object's global address. */
    public static long address(final long slot)
    {
        return slot & ADDRESS_MASK;
    }

    /** True for the empty slot. */
    public static boolean isEmpty(final long slot)
    {
        return slot == EMPTY;
    }

    /**
     * True if the word is empty or a slot {@link #pack} could have produced; a reader treats
     * anything else as corrupt rather than following it.
     */
    public static boolean isWellFormed(final long slot)
    {
        return slot == EMPTY
            || (fingerprint(slot) != 0 && lengthUnits(slot) != 0 && GlobalAddress.isObjectAddress(address(slot)));
    }

    /** Human-readable form for messages and logs. */
    public static String toString(final long slot)
    {
        if (slot == EMPTY)
        {
            return "empty";
        }
        return "slot{fp=" + fingerprint(slot) + ", units=" + lengthUnits(slot) + ", addr="
            + GlobalAddress.toString(address(slot)) + "}";
    }
}
