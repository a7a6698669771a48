package io.dmkv.core.layout;

import io.dmkv.core.address.GlobalAddress;

/**
 * An index slot: one 8-byte word that a client changes only with CAS, pointing at a KV object.
 *
 * <pre>
 *   63          56 55          48 47                                  8 7           0
 *   +-------------+-------------+-------------------------------------+-------------+
 *   | fingerprint | length code |   object address in 256-B units     | hash suffix |
 *   |   (1..255)  |  (1..247)   |   (40 bits)                         | byte (bits  |
 *   |             |             |                                     | 0..7 of key |
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
 * <p>The length code says how many bytes a reader READs: the object's used length (header, key,
 * value, log entry; {@link KvObject#usedLength}) rounded up to {@value #FINE_STEP}-byte steps up to
 * {@value #FINE_LIMIT} bytes (codes 1..128), then to {@value #COARSE_STEP}-byte steps (codes
 * 129..{@value #MAX_LENGTH_CODE}), at most {@value #MAX_OBJECT_LENGTH} bytes. Every size class
 * ({@link SizeClasses}) is such a length, so the rounded length never passes the object's class,
 * and the class is the smallest one holding the length ({@link SizeClasses#classForLength}): a
 * freer learns the class from the slot. A 1 KiB KV pair (1,064 used bytes) is READ as 1,088
 * bytes, not as its 1,280-byte class. FUSEE counts 64-byte units (16 KiB objects at most); layout
 * version 1 counted 256-byte units and read whole size classes.
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
    /** Object alignment (and the unit of size classes): 256 bytes. */
    public static final int ALIGNMENT = GlobalAddress.OBJECT_ALIGNMENT;
    /** Bytes per length-code step up to {@link #FINE_LIMIT}. */
    public static final int FINE_STEP = 32;
    /** Codes 1..128 count {@link #FINE_STEP}-byte steps: up to 4,096 bytes. */
    public static final int FINE_CODES = 128;
    /** Longest length of a fine code. */
    public static final int FINE_LIMIT = FINE_CODES * FINE_STEP;
    /** Bytes per length-code step above {@link #FINE_LIMIT}. */
    public static final int COARSE_STEP = 512;
    /** Largest length code. */
    public static final int MAX_LENGTH_CODE = 247;
    /** Largest object a slot can point at: 4,096 + 119 x 512 = 65,024 bytes. */
    public static final int MAX_OBJECT_LENGTH = FINE_LIMIT + (MAX_LENGTH_CODE - FINE_CODES) * COARSE_STEP;

    private Slot()
    {
    }

    /**
     * Packs an occupied slot.
     *
     * @param fingerprint 1..255, from {@code KeyHash.fingerprint}.
     * @param lengthCode  1..{@value #MAX_LENGTH_CODE}, from {@link #lengthCode(int)}.
     * @param address     the object's global address (256-byte aligned, never 0).
     * @throws IllegalArgumentException if a field is out of range.
     */
    public static long pack(final int fingerprint, final int lengthCode, final long address)
    {
        return pack(fingerprint, lengthCode, address, 0);
    }

    /**
     * Packs an occupied slot that also keeps the low byte of the key's hash.
     *
     * @param hashSuffix the key hash's low 8 bits (only those are kept).
     */
    public static long pack(final int fingerprint, final int lengthCode, final long address, final long hashSuffix)
    {
        if (fingerprint < 1 || fingerprint > 255)
        {
            throw new IllegalArgumentException("fingerprint " + fingerprint + " is outside 1..255");
        }
        checkCode(lengthCode);
        GlobalAddress.requireObjectAddress(address, "slot address");
        return ((long)fingerprint << FINGERPRINT_SHIFT) | ((long)lengthCode << LENGTH_SHIFT) | address
            | (hashSuffix & 0xFFL);
    }

    /**
     * The smallest length code whose length holds {@code bytes}.
     *
     * @throws IllegalArgumentException if {@code bytes} is outside 1..{@value #MAX_OBJECT_LENGTH}.
     */
    public static int lengthCode(final int bytes)
    {
        if (bytes < 1 || bytes > MAX_OBJECT_LENGTH)
        {
            throw new IllegalArgumentException("an object of " + bytes + " bytes is outside 1.." + MAX_OBJECT_LENGTH
                + " bytes");
        }
        if (bytes <= FINE_LIMIT)
        {
            return (bytes + FINE_STEP - 1) / FINE_STEP;
        }
        return FINE_CODES + (bytes - FINE_LIMIT + COARSE_STEP - 1) / COARSE_STEP;
    }

    /**
     * The length code of an object of {@code sizeClass} that uses {@code usedLength} bytes: its used
     * length, raised past the class below if need be, so that the code's length falls in
     * {@code sizeClass} and the class can be learned from the slot.
     */
    public static int lengthCode(final int sizeClass, final int usedLength)
    {
        final int floor = sizeClass == 0 ? 1 : SizeClasses.objectSize(sizeClass - 1) + 1;
        return lengthCode(Math.max(usedLength, floor));
    }

    /** The bytes a length code stands for (0 for code 0, which no occupied slot has). */
    public static int codeLength(final int code)
    {
        return code <= FINE_CODES ? code * FINE_STEP : FINE_LIMIT + (code - FINE_CODES) * COARSE_STEP;
    }

    private static void checkCode(final int lengthCode)
    {
        if (lengthCode < 1 || lengthCode > MAX_LENGTH_CODE)
        {
            throw new IllegalArgumentException("slot length code " + lengthCode + " is outside 1.." + MAX_LENGTH_CODE
                + " (objects are at most " + MAX_OBJECT_LENGTH + " bytes)");
        }
    }

    /**
     * A tombstone: what a DELETE leaves in a slot. Fingerprint 0, so no SEARCH ever matches it and
     * it counts as free for inserts; it points at no memory (layout version 3: a DELETE writes no
     * object), so deleted keys hold nothing. Unlike the all-zero empty word it is unique, so racing
     * DELETEs propose distinct values to SNAPSHOT and an insert that read a slot as free cannot
     * succeed after the slot was used and freed again. It names the deleting client, so recovery
     * can tell that client's proposals:
     * <pre>
     *   63 .. 56  55 ............ 40  39 ........ 24  23 ............ 8  7 ..... 0
     *   0 (fp)    sequence bits 16..31  client id     sequence bits 0..15  hash suffix
     * </pre>
     * The client numbers its DELETEs from a random start, so a client that takes over a released
     * id does not repeat its predecessor's tombstones.
     */
    public static long tombstone(final int clientId, final long sequence, final long hashSuffix)
    {
        if (clientId < 1 || clientId > 0xFFFF)
        {
            throw new IllegalArgumentException("tombstone client id " + clientId + " is outside 1..65535");
        }
        return ((sequence >>> 16 & 0xFFFFL) << 40) | ((long)clientId << 24) | ((sequence & 0xFFFFL) << 8)
            | (hashSuffix & 0xFFL);
    }

    /** The id of the client whose DELETE left the tombstone {@code slot}. */
    public static int tombstoneClient(final long slot)
    {
        return (int)(slot >>> 24) & 0xFFFF;
    }

    /** True for a slot an insert may take: empty or a tombstone (fingerprint 0). */
    public static boolean isFree(final long slot)
    {
        return fingerprint(slot) == 0;
    }

    /** True for a tombstone (free, left by a DELETE). */
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

    /** Length code of a slot ({@link #codeLength}). */
    public static int lengthCode(final long slot)
    {
        return (int)(slot >>> LENGTH_SHIFT) & 0xFF;
    }

    /** Bytes to READ for the object the slot points at. */
    public static int objectLength(final long slot)
    {
        return codeLength(lengthCode(slot));
    }

    /** The size class of the object the slot points at (-1 if the length code is out of range). */
    public static int sizeClass(final long slot)
    {
        final int code = lengthCode(slot);
        return code < 1 || code > MAX_LENGTH_CODE ? -1 : SizeClasses.classForLength(codeLength(code));
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
            || (fingerprint(slot) != 0 && lengthCode(slot) != 0 && lengthCode(slot) <= MAX_LENGTH_CODE && GlobalAddress.isObjectAddress(address(slot)));
    }

    /** Human-readable form for messages and logs. */
    public static String toString(final long slot)
    {
        if (slot == EMPTY)
        {
            return "empty";
        }
        return "slot{fp=" + fingerprint(slot) + ", length=" + objectLength(slot) + ", addr="
            + GlobalAddress.toString(address(slot)) + "}";
    }
}
