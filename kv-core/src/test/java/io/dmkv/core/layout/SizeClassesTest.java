package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizeClassesTest
{
    @Test
    void classesAreIncreasingMultiplesOf256EndingAtTheLargestSlotLength()
    {
        assertEquals(18, SizeClasses.COUNT);
        int previous = 0;
        for (int c = 0; c < SizeClasses.COUNT; c++)
        {
            final int size = SizeClasses.objectSize(c);
            assertEquals(0, size % 256);
            assertTrue(size > previous);
            assertEquals(size, Slot.codeLength(Slot.lengthCode(size)), "a class size is a slot length");
            assertEquals(c, SizeClasses.classOfUnits(SizeClasses.units(c)));
            previous = size;
        }
        assertEquals(256, SizeClasses.objectSize(0));
        assertEquals(Slot.MAX_OBJECT_LENGTH, SizeClasses.objectSize(SizeClasses.COUNT - 1));
        assertEquals(-1, SizeClasses.classOfUnits(7));
        assertThrows(IllegalArgumentException.class, () -> SizeClasses.objectSize(18));
    }

    @Test
    void classForLengthPicksTheSmallestThatHolds()
    {
        assertEquals(0, SizeClasses.classForLength(0));
        assertEquals(0, SizeClasses.classForLength(256));
        assertEquals(1, SizeClasses.classForLength(257));
        assertEquals(4, SizeClasses.classForLength(1025));
        assertEquals(17, SizeClasses.classForLength(49_153));
        assertEquals(17, SizeClasses.classForLength(65_024));
        assertEquals("an object of 65025 bytes is outside 0..65024 bytes",
            assertThrows(IllegalArgumentException.class, () -> SizeClasses.classForLength(65_025)).getMessage());
    }

    @Test
    void objectsLongerThan512BytesWasteLessThanAThirdOfTheirClass()
    {
        for (int length = 513; length <= SizeClasses.MAX_OBJECT_SIZE; length++)
        {
            final int size = SizeClasses.objectSize(SizeClasses.classForLength(length));
            assertTrue(3L * (size - length) < size, length + " bytes in a " + size + "-byte object");
        }
    }

    @Test
    void sizeClassForCountsHeaderAndLogEntry()
    {
        assertEquals(0, SizeClasses.sizeClassFor(0, 256 - 40));
        assertEquals(1, SizeClasses.sizeClassFor(0, 256 - 40 + 1));
        assertEquals(4, SizeClasses.sizeClassFor(16, 1008), "FUSEE's 1 KiB KV pairs fit 1.25 KiB objects");
        assertEquals(1280, SizeClasses.objectSize(4));
        assertEquals(1064, KvObject.usedLength(16, 1008));
        assertEquals(5, SizeClasses.sizeClassFor(16, 1008 + 224), "past 1,280 bytes: the 1.5 KiB class");
        assertEquals(17, SizeClasses.sizeClassFor(KvObject.MAX_KEY_LENGTH, KvObject.MAX_VALUE_LENGTH));
        assertEquals("key length 1025 is outside 0..1024 bytes",
            assertThrows(IllegalArgumentException.class, () -> SizeClasses.sizeClassFor(1025, 0)).getMessage());
        assertEquals("value length 63961 is outside 0..63960 bytes (the largest object is 65024 bytes)",
            assertThrows(IllegalArgumentException.class, () -> SizeClasses.sizeClassFor(0, 63_961)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> SizeClasses.sizeClassFor(-1, 0));
    }
}
