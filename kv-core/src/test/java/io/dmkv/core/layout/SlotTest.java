package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmkv.core.address.GlobalAddress;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class SlotTest
{
    private static final long LOWEST = GlobalAddress.pack(0, 256);
    private static final long HIGHEST = GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, (1 << 30) - 256);

    @Test
    void packAndUnpackRoundTripAtEveryFieldsEdges()
    {
        final int[] fingerprints = {1, 2, 128, 255};
        final int[] lengths = {1, 2, 128, 129, 246, 247};
        final long[] addresses = {LOWEST, GlobalAddress.pack(1, 256), GlobalAddress.pack(77, 4096), HIGHEST};
        for (final int fp : fingerprints)
        {
            for (final int len : lengths)
            {
                for (final long address : addresses)
                {
                    final long slot = Slot.pack(fp, len, address);
                    assertEquals(fp, Slot.fingerprint(slot));
                    assertEquals(len, Slot.lengthCode(slot));
                    assertEquals(len <= 128 ? len * 32 : 4096 + (len - 128) * 512, Slot.objectLength(slot));
                    assertEquals(address, Slot.address(slot));
                    assertFalse(Slot.isEmpty(slot));
                    assertTrue(Slot.isWellFormed(slot));
                }
            }
        }
        assertEquals(0xFFF7_FFFF_FFFF_FF00L, Slot.pack(255, 247, HIGHEST), "all fields at their maximum");
    }

    @Test
    void allZeroIsTheEmptySlot()
    {
        assertTrue(Slot.isEmpty(0L));
        assertTrue(Slot.isWellFormed(Slot.EMPTY));
        assertEquals(0, Slot.fingerprint(Slot.EMPTY));
        assertEquals(GlobalAddress.NULL, Slot.address(Slot.EMPTY));
        assertNotEquals(Slot.EMPTY, Slot.pack(1, 1, LOWEST));
    }

    @Test
    void addressFieldIsTheByteAddressSoItsLowByteIsZeroAndBits8To47AreTheUnitAddress()
    {
        final long address = GlobalAddress.pack(12_345, 0x2A_BC00);
        final long slot = Slot.pack(9, 3, address);
        assertEquals(0, slot & 0xFF);
        assertEquals(GlobalAddress.units(address), (slot >>> 8) & ((1L << 40) - 1));
    }

    @Test
    void inMemoryTheFingerprintIsByte7AndTheLengthByte6()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
        final long address = GlobalAddress.pack(0x3_0201, 0x0605_0400 & ((1 << 30) - 256));
        buffer.putLong(0, Slot.pack(0xAB, 0x12, address));
        assertEquals((byte)0xAB, buffer.getByte(Slot.FINGERPRINT_BYTE_OFFSET));
        assertEquals(0x12, buffer.getByte(Slot.LENGTH_BYTE_OFFSET));
        assertEquals(0, buffer.getByte(0), "low byte of a 256-byte aligned address");
        assertEquals((byte)(address >>> 8), buffer.getByte(1));
        assertEquals((byte)(address >>> 40), buffer.getByte(5));
    }

    @Test
    void packRejectsEachFieldOutOfRangeWithAClearMessage()
    {
        assertEquals("fingerprint 0 is outside 1..255",
            assertThrows(IllegalArgumentException.class, () -> Slot.pack(0, 1, LOWEST)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Slot.pack(256, 1, LOWEST));
        assertEquals("slot length code 0 is outside 1..247 (objects are at most 65024 bytes)",
            assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 0, LOWEST)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 248, LOWEST));
        final String nullAddress =
            assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 1, GlobalAddress.NULL)).getMessage();
        assertTrue(nullAddress.startsWith("slot address null is not an object address"), nullAddress);
        assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 1, LOWEST + 8), "unaligned");
        assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 1, 1L << 48), "beyond 48 bits");
        assertThrows(IllegalArgumentException.class, () -> Slot.pack(1, 1, GlobalAddress.pack(5, 0)), "region header");
    }

    @Test
    void wordsNoPackCouldProduceAreNotWellFormed()
    {
        assertFalse(Slot.isWellFormed(LOWEST), "no fingerprint, no length");
        assertFalse(Slot.isWellFormed(Slot.pack(3, 1, LOWEST) & ~(0xFFL << Slot.LENGTH_SHIFT)), "no length");
        assertFalse(Slot.isWellFormed(0x0101_0000_0000_0000L), "null address");
        assertFalse(Slot.isWellFormed(Slot.pack(3, 1, LOWEST) | (0xF8L << Slot.LENGTH_SHIFT)), "length code 249");
    }

    @Test
    void theLowByteKeepsTheHashSuffixWithoutTouchingTheAddress()
    {
        final long address = LOWEST + 0x1234_00L;
        for (final long hash : new long[] {0, 0x7F, 0xFF, 0xABCD_EF01_2345_6789L, -1L})
        {
            final long slot = Slot.pack(200, 7, address, hash);
            assertEquals(address, Slot.address(slot));
            assertEquals((int)(hash & 0xFF), Slot.hashSuffix(slot));
            assertEquals(200, Slot.fingerprint(slot));
            assertEquals(7, Slot.lengthCode(slot));
            assertTrue(Slot.isWellFormed(slot));
        }
        assertEquals(0, Slot.hashSuffix(Slot.pack(1, 1, address)));
    }

    @Test
    void limitsFollowFromThe8BitLength()
    {
        assertEquals(256, Slot.ALIGNMENT);
        assertEquals(65_024, Slot.MAX_OBJECT_LENGTH);
        assertEquals(Slot.MAX_OBJECT_LENGTH, Slot.codeLength(Slot.MAX_LENGTH_CODE));
    }

    @Test
    void theLengthCodeRoundsUpByAtMostOneStepAndNeverPastAClass()
    {
        assertEquals(34, Slot.lengthCode(1064), "a 1 KiB pair's object");
        assertEquals(1088, Slot.codeLength(34));
        for (int bytes = 1; bytes <= Slot.MAX_OBJECT_LENGTH; bytes++)
        {
            final int code = Slot.lengthCode(bytes);
            final int length = Slot.codeLength(code);
            assertTrue(length >= bytes && length - bytes < (bytes <= Slot.FINE_LIMIT ? 32 : 512), bytes + " -> " + length);
            assertTrue(code == 1 || Slot.codeLength(code - 1) < bytes, "smallest code for " + bytes);
            assertEquals(SizeClasses.classForLength(bytes), SizeClasses.classForLength(length),
                "the rounded length stays in the class of " + bytes);
        }
        assertThrows(IllegalArgumentException.class, () -> Slot.lengthCode(0));
        assertThrows(IllegalArgumentException.class, () -> Slot.lengthCode(Slot.MAX_OBJECT_LENGTH + 1));
    }

    @Property
    void anyValidTripleRoundTrips(@ForAll @IntRange(min = 1, max = 255) final int fp,
        @ForAll @IntRange(min = 1, max = 247) final int units,
        @ForAll @IntRange(min = 0, max = (1 << 18) - 1) final int region,
        @ForAll @IntRange(min = 1, max = (1 << 22) - 1) final int offsetUnits)
    {
        final long address = GlobalAddress.pack(region, offsetUnits << 8);
        final long slot = Slot.pack(fp, units, address);
        assertEquals(fp, Slot.fingerprint(slot));
        assertEquals(units, Slot.lengthCode(slot));
        assertEquals(address, Slot.address(slot));
        assertTrue(Slot.isWellFormed(slot));
    }
}
